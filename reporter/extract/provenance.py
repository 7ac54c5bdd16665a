"""Where the facts came from: library versions, Python, device and the project's commit."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

from reporter import __version__
from reporter.facts import ProvenanceFacts

TRACKED_LIBRARIES = ("numpy", "pandas", "torch", "transformers", "safetensors", "tokenizers", "pydantic")


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that shape the numbers (part of the cache key)."""
    versions = {}
    for name in TRACKED_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def project_commit(root: Path) -> str | None:
    """The git commit of the project, or None outside a repository."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def last_commit_time(root: Path) -> int | None:
    """Unix time of the project's last commit, or None outside a repository: the date of whatever
    the build makes that must not change between builds of the same inputs."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%ct"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    stamp = result.stdout.strip()
    return int(stamp) if result.returncode == 0 and stamp.isdigit() else None


def extract_provenance(*, device: str, cache_key: str, project_commit: str | None) -> ProvenanceFacts:
    """Where a model's facts came from; the commit is the driver's (a Ray worker may hold no clone)."""
    return ProvenanceFacts(
        reporter_version=__version__,
        python=platform.python_version(),
        libraries=library_versions(),
        device=device,
        cache_key=cache_key,
        project_commit=project_commit,
    )
