"""The pipeline's cache: what a spec edit recomputes and what it only re-renders."""

from __future__ import annotations

import json

import pytest

from tests.conftest import TABULAR_SPEC, reporter

pytestmark = pytest.mark.slow


def test_card_prose_edits_rerender_without_retraining_but_training_edits_retrain(make_project) -> None:
    """Card prose, the project's grid, a spec's own grid (which wins) and its training-content
    declarations re-render from the cache; a hyperparameter retrains."""
    root = make_project({"test-mlp": TABULAR_SPEC})
    spec = root / "models" / "test-mlp" / "model.yaml"
    facts_file = root / "build" / "facts" / "test-mlp.json"
    first = reporter("build", str(root), cwd=root)
    assert first.returncode == 0, first.stderr
    assert "epoch 2/2" in first.stderr
    trained = json.loads(facts_file.read_text())

    spec.write_text(
        "# a comment changes no figure\n"
        + spec.read_text()
        .replace("intended_uses: [testing]", "intended_uses: [testing, reading about <b>edits</b>]")
        .replace("limitations: [tiny sample]", "limitations: [tiny sample, edited]")
    )
    prose = reporter("build", str(root), cwd=root)
    assert prose.returncode == 0, prose.stderr
    assert "cached facts" in prose.stderr and "epoch" not in prose.stderr
    edited = json.loads(facts_file.read_text())
    assert edited["card"]["intended_uses"] == ["testing", "reading about <b>edits</b>"]
    assert edited["card"]["limitations"] == ["tiny sample", "edited"]
    assert {k: v for k, v in edited.items() if k != "card"} == {k: v for k, v in trained.items() if k != "card"}
    card = (root / "site" / "models" / "test-mlp" / "index.html").read_text()
    assert "reading about &lt;b&gt;edits&lt;/b&gt;" in card and "<b>edits" not in card

    config = root / "mkdocs.yml"
    config.write_text(
        config.read_text().replace(
            "      jobs: 2\n", "      jobs: 2\n      grid: {grams_co2e_per_kwh: 300, source: the project's grid}\n"
        )
    )
    project_wide = reporter("build", str(root), cwd=root)
    assert "cached facts" in project_wide.stderr and "epoch" not in project_wide.stderr
    compute = json.loads(facts_file.read_text())["compute"]
    assert compute["training"]["carbon"]["kg_co2e"] == compute["training"]["energy"]["kwh"] * 300 / 1000
    assert compute["training"]["carbon"]["source"] == "the project's grid"

    spec.write_text(
        spec.read_text()
        + "compute:\n  grid: {grams_co2e_per_kwh: 100, source: a <b>grid</b> table}\n"
        + "training_content:\n  opt_out_policy: robots.txt respected\n"
    )
    declared = reporter("build", str(root), cwd=root)
    assert "cached facts" in declared.stderr and "epoch" not in declared.stderr
    assert json.loads(facts_file.read_text())["training_content"]["opt_out_policy"] == "robots.txt respected"
    compute = json.loads(facts_file.read_text())["compute"]
    for phase in ("training", "evaluation"):
        assert compute[phase]["carbon"]["kg_co2e"] == compute[phase]["energy"]["kwh"] * 100 / 1000
    training_page = (root / "site" / "models" / "test-mlp" / "training.html").read_text()
    assert "a &lt;b&gt;grid&lt;/b&gt; table" in training_page and "<b>grid" not in training_page

    spec.write_text(spec.read_text().replace("epochs: 2", "epochs: 1"))
    retrained = reporter("build", str(root), cwd=root)
    assert retrained.returncode == 0, retrained.stderr
    assert "epoch 1/1" in retrained.stderr and "cached facts" not in retrained.stderr
    assert json.loads(facts_file.read_text())["training"]["hyperparameters"]["epochs"] == 1
