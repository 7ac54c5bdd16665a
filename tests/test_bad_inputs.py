"""The corpus of bad inputs (`tests/fixtures/bad_inputs/<case>/`): every case must exit 2 with a
message naming the file, the field and the fix, print no traceback, and leave the previously
built site and generated pages byte-for-byte intact. `reporter check` must refuse every case with
the same message, except those whose `expect.yaml` says (`check:`) why only a build can see them.

Each case folder mirrors the project: its files are laid over a small project whose site was
built once. `expect.yaml` lists the phrases the message must hold, and optionally a symlink to
create or a template folder to enable. CSV placeholders (`MISSING_LABELS`, …) are derived here
from real UCI Adult rows, so the corpus holds no copy of the data.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from safetensors.torch import save_file

from reporter.cli import main
from tests.conftest import FIXTURES, read_adult, reporter, save_tiny_bert, scaffold_project, tree_digest

pytestmark = pytest.mark.slow

CASES = sorted(p.name for p in (FIXTURES / "bad_inputs").iterdir() if p.is_dir())
BASE_SPEC = """\
name: Base model
version: "1"
task: test
description: The model every bad-input case is added beside.
owners: [{name: tests}]
license: MIT
intended_uses: [tests]
out_of_scope_uses: [everything else]
limitations: [none]
source:
  load: {format: safetensors, file: {path: ../../weights/tiny.safetensors}}
"""


PLACEHOLDERS = {
    "MISSING_LABELS",
    "INF_LABELS",
    "INF_FEATURES",
    "HEADER_ONLY",
    "SCORES_WITH_GAPS",
    "PREDICTIONS_WITH_GAPS",
}


def adult_sample() -> pd.DataFrame:
    frame = read_adult("adult.data", na_values="?")
    return frame.sample(300, random_state=0).reset_index(drop=True)


def placeholder(kind: str) -> str:
    frame = adult_sample()
    if kind == "MISSING_LABELS":
        frame.loc[[3, 10, 42], "income"] = None
    elif kind == "INF_LABELS":
        frame["income"] = (frame["income"] == ">50K").astype(float)
        frame.loc[[5, 6], "income"] = float("inf")
    elif kind == "INF_FEATURES":
        frame["age"] = frame["age"].astype(float)
        frame.loc[[1, 2], "age"] = float("inf")
    elif kind == "SCORES_WITH_GAPS":
        frame["score"] = (frame["age"] / 100).round(3)
        frame.loc[[0, 7, 9], "score"] = None
    elif kind == "PREDICTIONS_WITH_GAPS":
        frame["predicted"] = frame["income"]
        frame.loc[[4, 8], "predicted"] = None
    elif kind == "HEADER_ONLY":
        frame = frame.iloc[:0]
    return frame.to_csv(index=False)


@pytest.fixture(scope="session")
def base_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = scaffold_project(tmp_path_factory.mktemp("bad-inputs") / "base")
    (root / "models" / "base").mkdir()
    (root / "models" / "base" / "model.yaml").write_text(BASE_SPEC)
    (root / "weights").mkdir()
    save_file(
        {"layer.weight": torch.ones(2, 3), "layer.bias": torch.zeros(2)}, str(root / "weights" / "tiny.safetensors")
    )
    (root / "data").mkdir()
    adult_sample().to_csv(root / "data" / "adult-sample.csv", index=False)
    result = reporter("build", str(root), cwd=root)
    assert result.returncode == 0, result.stderr
    return root


def lay_tiny_bert(root: Path, options: dict | None) -> None:
    """A tiny BERT folder the case's files are then laid over (`tiny_bert: {path, head, labels}`)."""
    if options:
        save_tiny_bert(root / options["path"], head=options["head"], labels=options["labels"])


def damage_files(root: Path, expect: dict) -> None:
    """`remove: [paths]` deletes files; `truncate: {path: bytes}` cuts a file to its first bytes."""
    for relative in expect.get("remove") or []:
        (root / relative).unlink()
    for relative, size in (expect.get("truncate") or {}).items():
        path = root / relative
        path.write_bytes(path.read_bytes()[:size])


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_refused_cleanly(
    case: str, base_project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = FIXTURES / "bad_inputs" / case
    expect = yaml.safe_load((source / "expect.yaml").read_text())
    root = tmp_path / "project"
    shutil.copytree(base_project, root, symlinks=True)
    lay_tiny_bert(root, expect.get("tiny_bert"))
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_dir() or relative.as_posix() == "expect.yaml":
            continue
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        content = path.read_bytes()
        kind = content.decode(errors="replace").strip()
        target.write_bytes(placeholder(kind).encode() if kind in PLACEHOLDERS else content)
    [case_model] = [p for p in (root / "models").iterdir() if p.name != "base"]
    damage_files(root, expect)
    for link, pointee in (expect.get("symlink") or {}).items():
        (case_model / link).symlink_to(pointee)
    options = dict(expect.get("plugin_options") or {})
    if options:  # the plugin's options in mkdocs.yml, as flow YAML (JSON is valid YAML)
        config = (root / "mkdocs.yml").read_text()
        lines = "".join(f"      {name}: {json.dumps(value)}\n" for name, value in options.items())
        (root / "mkdocs.yml").write_text(config.replace("      build_dir: build\n", "      build_dir: build\n" + lines))
    for name, value in (expect.get("mkdocs_settings") or {}).items():  # top-level settings of mkdocs.yml
        config = (root / "mkdocs.yml").read_text()
        (root / "mkdocs.yml").write_text(re.sub(rf"(?m)^{name}:.*$", f"{name}: {value}", config))
        assert f"{name}: {value}" in (root / "mkdocs.yml").read_text(), f"mkdocs.yml has no `{name}:` to replace"
    site_before, pages_before = tree_digest(root / "site"), tree_digest(root / "site_src")

    if "check" not in expect:  # `check` refuses it too, with the same message, running no model
        checked = main(["check", str(root)])
        stderr = capsys.readouterr().err
        assert checked == 2, f"reporter check passed a case the build refuses:\n{stderr}"
        for phrase in expect["contains"]:
            assert phrase in stderr, f"reporter check: {phrase!r} not in:\n{stderr}"
    else:  # what only a model run, the project's code or rendered facts can show, and why
        assert expect["check"].startswith("only ")
    result = reporter("build", str(root), cwd=root)

    assert result.returncode == 2, f"exit {result.returncode}\n{result.stderr}"
    for phrase in expect["contains"]:
        assert phrase in result.stderr, f"{phrase!r} not in:\n{result.stderr}"
    assert "Fix:" in result.stderr and "Traceback" not in result.stderr
    assert tree_digest(root / "site") == site_before
    assert tree_digest(root / "site_src") == pages_before
