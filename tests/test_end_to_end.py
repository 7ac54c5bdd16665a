"""End to end: a small real project trained, loaded, rendered and built with MkDocs.

One project holds a tabular MLP trained on real UCI Adult rows, a MiniLM text classifier
fine-tuned on a handful of rows, and a safetensors checkpoint loaded from the project. The build
runs once per module; the tests read what it produced.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reporter.facts import SCHEMA_VERSION
from tests.conftest import evaluation_of, reporter, tree_digest

pytestmark = pytest.mark.slow


def facts_of(root: Path, slug: str) -> dict:
    return json.loads((root / "build" / "facts" / f"{slug}.json").read_text())


def test_build_shows_progress_and_writes_facts(built) -> None:
    root, result = built
    assert "test-mlp: epoch 2/2" in result.stderr and "test-minilm: epoch 1/1" in result.stderr
    for slug in ("test-mlp", "test-minilm", "tiny-loaded"):
        published = root / "site" / "models" / slug / "facts.json"
        assert published.read_bytes() == (root / "build" / "facts" / f"{slug}.json").read_bytes()
        assert facts_of(root, slug)["schema_version"] == SCHEMA_VERSION == "2.7.0"


def test_pages_show_the_numbers_in_the_facts(built) -> None:
    root, _ = built
    for slug in ("test-mlp", "test-minilm"):
        facts = facts_of(root, slug)
        card = (root / "site" / "models" / slug / "index.html").read_text()
        accuracy = evaluation_of(facts)["performance"]["accuracy"]
        assert f"{accuracy['value']:.3f} ({accuracy['low']:.3f}–{accuracy['high']:.3f})" in card
        assert f"{facts['weights']['parameters_total']:,}" in card
        catalog = (root / "site" / "index.html").read_text()
        assert f"{accuracy['value']:.3f}" in catalog
        fairness = (root / "site" / "models" / slug / "fairness.html").read_text()
        sex = next(f for f in evaluation_of(facts)["fairness"]["features"] if f["feature"] == "sex")
        for group in sex["groups"]:
            assert f"{group['selection_rate']['value']:.3f}" in fairness
        training = (root / "site" / "models" / slug / "training.html").read_text()
        assert f"{facts['training']['history'][-1]['validation_loss']:.4f}" in training


def test_trained_checkpoint_is_the_one_described(built) -> None:
    root, _ = built
    from reporter.extract.weights import sha256_file

    facts = facts_of(root, "test-mlp")
    checkpoint = root / "build" / "checkpoints" / "test-mlp" / "model.safetensors"
    assert facts["weights"]["files"] == {"model.safetensors": sha256_file(checkpoint)}
    minilm = facts_of(root, "test-minilm")
    assert minilm["weights"]["parameters_total"] == 22_713_216 + 384 * 2 + 2  # encoder + 2-label head


def test_missing_facts_are_explicit(built) -> None:
    root, _ = built
    facts = facts_of(root, "tiny-loaded")
    assert facts["evaluations"] == []
    card = (root / "site" / "models" / "tiny-loaded" / "index.html").read_text()
    assert "Not reported" in card and "the spec declares no evaluation data" in card


def test_untrusted_text_is_shown_as_text(built) -> None:
    root, _ = built
    card = (root / "site" / "models" / "tiny-loaded" / "index.html").read_text()
    assert "<script>document.title" not in card and "&lt;script&gt;document.title" in card
    assert "<b>checkpoint</b>" not in card and "{{ 7 * 7 }}" in card and ">49<" not in card
    assert 'href="javascript:' not in card


def test_unchanged_rebuild_trains_nothing_and_is_byte_identical(built) -> None:
    root, _ = built
    before = tree_digest(root / "site")
    result = reporter("build", str(root), cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("cached facts") == len(list((root / "models").iterdir())) == 5
    assert "epoch" not in result.stderr
    assert tree_digest(root / "site") == before


def test_plain_mkdocs_build_strict_builds_the_same_pages(built, tmp_path: Path) -> None:
    root, _ = built
    mkdocs = Path(sys.executable).parent / "mkdocs"
    out = tmp_path / "plain-site"
    result = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(out)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr
    for page in ("index.html", "models/test-mlp/index.html", "models/test-mlp/fairness.html"):
        assert (out / page).read_bytes() == (root / "site" / page).read_bytes()


def test_bad_input_exits_2_and_leaves_the_site_and_pages_intact(built) -> None:
    root, _ = built
    site_before, pages_before = tree_digest(root / "site"), tree_digest(root / "site_src")
    spec = root / "models" / "test-mlp" / "model.yaml"
    original = spec.read_text()
    try:
        spec.write_text(original.replace("epochs: 2", "epochs: 2, colour: red"))
        result = reporter("build", str(root), cwd=root)
    finally:
        spec.write_text(original)
    assert result.returncode == 2
    assert "colour" in result.stderr and "Traceback" not in result.stderr
    assert tree_digest(root / "site") == site_before
    assert tree_digest(root / "site_src") == pages_before


def test_generated_markdown_lives_in_site_src(built) -> None:
    root, _ = built
    generated = json.loads((root / "site_src" / ".reporter-generated.json").read_text())
    assert "models/test-mlp/index.md" in generated and "index.md" in generated
    text = (root / "site_src" / "models" / "test-mlp" / "index.md").read_text()
    assert re.search(r"^# Test MLP", text, flags=re.M)
