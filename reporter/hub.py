"""Models referred to by their Hugging Face Hub id and commit, read from the local Hub cache.

A build never downloads: `source.load.hub` is resolved in the cache `huggingface_hub` keeps
(`HF_HUB_CACHE`, by default `~/.cache/huggingface/hub`), and a model that is not there is an error
whose fix is `reporter fetch`, the one command that may go to the network. The commit is what
makes the reference verifiable, so it is recorded in the facts and everywhere they are published;
a branch or tag name moves, and under CI (`CI=true`) it is refused with the commit it stands for
today.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from reporter.errors import ModelFileError

COMMIT = re.compile(r"^[0-9a-f]{40}$")
HUB_URL = "https://huggingface.co"


@dataclass(frozen=True)
class HubSnapshot:
    """A model repository at one commit, as the local cache holds it."""

    repo_id: str
    requested: str
    """The revision as the spec writes it: a commit, or a branch or tag name."""
    commit: str
    folder: Path


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def cache_folder() -> str:
    """The Hub cache, read when asked (`huggingface_hub` reads `HF_HUB_CACHE` once, at import)."""
    from huggingface_hub import constants

    return os.environ.get("HF_HUB_CACHE") or constants.HF_HUB_CACHE


def hub_snapshot(repo_id: str, revision: str, *, where: str) -> HubSnapshot:
    """The cached snapshot of ``repo_id`` at ``revision``, without going to the network.

    Raises:
        ModelFileError: the snapshot is not in the cache (the fix names `reporter fetch`), or the
            revision is not a commit and the build runs in CI (the fix names the commit).
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    cache = cache_folder()
    try:
        folder = Path(str(snapshot_download(repo_id, revision=revision, cache_dir=cache, local_files_only=True)))
    except LocalEntryNotFoundError:
        raise ModelFileError(
            f"{where}: {repo_id} at revision {revision} is not in the Hugging Face cache "
            f"({cache}); a build never downloads. Fix: run `reporter fetch` once where the "
            "network is reachable, or point HF_HUB_CACHE at a cache that holds it"
        ) from None
    snapshot = HubSnapshot(repo_id=repo_id, requested=revision, commit=folder.name, folder=folder)
    if not COMMIT.fullmatch(revision) and in_ci():
        raise ModelFileError(
            f"{where}: revision {revision!r} of {repo_id} is a branch or tag, which moves; a CI build must name "
            f"the commit. Fix: `revision: {snapshot.commit}` (what {revision!r} is in the local cache today)"
        )
    return snapshot


def fetch_snapshot(repo_id: str, revision: str) -> HubSnapshot:
    """Download ``repo_id`` at ``revision`` into the local cache: the only network access reporter makes."""
    from huggingface_hub import snapshot_download

    folder = Path(str(snapshot_download(repo_id, revision=revision, cache_dir=cache_folder())))
    return HubSnapshot(repo_id=repo_id, requested=revision, commit=folder.name, folder=folder)


def snapshot_url(repo_id: str, commit: str) -> str:
    """The repository's files at that commit, on the Hub."""
    return f"{HUB_URL}/{repo_id}/tree/{commit}"
