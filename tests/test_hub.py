"""Models referred to by Hugging Face Hub id and commit: resolved from a cache folder in the Hub's
own layout (built here, as `huggingface_hub` writes it), never downloaded by a build; the id and
commit on the card, in the facts and in every export; a branch refused under CI with its commit."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from reporter.cli import main
from reporter.hub import hub_snapshot
from tests.conftest import reporter, scaffold_project, tiny_bert
from tests.training_logs.conftest import ADULT_TEXT_EVALUATION, write_adult_rows

REPO_ID = "reporter-tests/tiny-income-bert"
COMMIT = hashlib.sha1(b"the one commit of the tiny model").hexdigest()

SPEC = (
    """\
name: Income BERT from the Hub
version: "1"
task: binary classification of census records
description: A one-layer BERT read from the local Hugging Face cache.
owners: [{name: tests}]
license: Apache-2.0
intended_uses: [tests]
out_of_scope_uses: [anything else]
limitations: [tiny]
source:
  load: {format: transformers, hub: REPO, revision: REVISION}
"""
    + ADULT_TEXT_EVALUATION
)


def hub_cache(root: Path, repo_id: str = REPO_ID, commit: str = COMMIT) -> Path:
    """A Hub cache holding ``repo_id`` at ``commit`` (its `main` branch), laid out as
    `huggingface_hub` lays it out: content-addressed blobs, a snapshot of links to them, a ref."""
    repo = root / f"models--{repo_id.replace('/', '--')}"
    files = root / "saved"
    classifier, tokenizer = tiny_bert("BertForSequenceClassification", ["<=50K", ">50K"])
    classifier.save_pretrained(files)
    tokenizer.save_pretrained(files)
    (repo / "blobs").mkdir(parents=True)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for file in sorted(files.iterdir()):
        blob = repo / "blobs" / hashlib.sha256(file.read_bytes()).hexdigest()
        file.rename(blob)
        (snapshot / file.name).symlink_to(os.path.relpath(blob, snapshot))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    return root


def project(root: Path, revision: str) -> Path:
    root = scaffold_project(root)
    folder = root / "models" / "hub-bert"
    folder.mkdir()
    (folder / "model.yaml").write_text(SPEC.replace("REPO", REPO_ID).replace("REVISION", revision))
    write_adult_rows(folder / "rows.csv")
    return root


@pytest.mark.slow
def test_a_hub_model_carries_its_id_and_commit_everywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(hub_cache(tmp_path / "cache")))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # and the build must not need the network
    root = project(tmp_path / "project", COMMIT)
    built = reporter("build", str(root), cwd=root)
    assert built.returncode == 0, built.stderr
    facts = json.loads((root / "build" / "facts" / "hub-bert.json").read_text())
    url = f"https://huggingface.co/{REPO_ID}/tree/{COMMIT}"
    assert facts["hub"] == {"repo_id": REPO_ID, "requested": COMMIT, "commit": COMMIT, "url": url}
    card = (root / "site" / "models" / "hub-bert" / "index.html").read_text()
    assert f'href="{url}"' in card and f"<code>{COMMIT}</code>" in card and REPO_ID in card
    exports = {}
    for kind in ("hf", "cyclonedx", "spdx"):
        done = reporter("export", "hub-bert", "--format", kind, "--project", str(root), cwd=root)
        assert done.returncode == 0, done.stderr
        exports[kind] = done.stdout
    assert f"[{REPO_ID}]({url}) at commit `{COMMIT}`" in exports["hf"].replace("\\", "")  # Markdown escapes
    [model] = [c for c in json.loads(exports["cyclonedx"])["components"] if c["type"] == "machine-learning-model"]
    assert {"type": "distribution", "url": url, "comment": f"{REPO_ID} at commit {COMMIT}"} in model[
        "externalReferences"
    ]
    spdx = json.loads(exports["spdx"])
    [package] = [e for e in spdx["@graph"] if e.get("type") == "ai_AIPackage"]
    assert package["software_downloadLocation"] == url


def test_a_model_missing_from_the_cache_names_the_fetch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    root = project(tmp_path / "project", COMMIT)
    assert main(["check", str(root)]) == 2
    with pytest.raises(Exception, match=f"{REPO_ID} at revision {COMMIT} is not in the Hugging Face cache"):
        hub_snapshot(REPO_ID, COMMIT, where="spec")


def test_a_branch_is_resolved_to_its_commit_and_refused_in_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(hub_cache(tmp_path / "cache")))
    monkeypatch.delenv("CI", raising=False)
    assert hub_snapshot(REPO_ID, "main", where="spec").commit == COMMIT
    monkeypatch.setenv("CI", "true")
    with pytest.raises(Exception, match=f"a CI build must name the commit. Fix: `revision: {COMMIT}`"):
        hub_snapshot(REPO_ID, "main", where="spec")
    assert hub_snapshot(REPO_ID, COMMIT, where="spec").folder.name == COMMIT


@pytest.mark.parametrize(
    ("load", "phrase"),
    [
        ("{format: transformers, hub: REPO}", "`hub:` and `revision:` go together"),
        ("{format: gguf, hub: REPO, revision: REVISION}", "`hub:` names a whole repository"),
        ("{format: transformers, hub: REPO, revision: REVISION, file: {path: x}}", "give exactly one of"),
        ("{format: transformers, hub: ../escape, revision: REVISION}", "hub"),
    ],
)
def test_a_hub_reference_is_checked_with_the_spec(tmp_path: Path, load: str, phrase: str, capsys: object) -> None:
    root = project(tmp_path / "project", COMMIT)
    spec = root / "models" / "hub-bert" / "model.yaml"
    text = spec.read_text()
    start = text.index("  load:")
    end = text.index("\n", start)
    line = "  load: " + load.replace("REPO", REPO_ID).replace("REVISION", COMMIT)
    spec.write_text(text[:start] + line + text[end:])
    assert main(["check", str(root)]) == 2
    assert phrase in capsys.readouterr().err  # type: ignore[attr-defined]


def test_fetch_reports_a_hub_it_cannot_reach(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: object) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    root = project(tmp_path / "project", COMMIT)
    assert main(["fetch", str(root)]) == 1
    assert f"could not fetch {REPO_ID} at {COMMIT}" in capsys.readouterr().err  # type: ignore[attr-defined]
