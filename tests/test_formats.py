"""The model format registry: built-in formats, the spec rules that follow from what each format
can do, and a format another package declares through the `reporter.formats` entry-point group,
used in a real build without touching `reporter/`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reporter.errors import ModelFileError, SpecError
from reporter.formats import BUILT_IN, registered_formats
from reporter.formats.declaration import CAPABILITY_TEXT
from reporter.loaders.base import load_model
from reporter.spec import load_spec
from tests.conftest import FIXTURES, scaffold_project

TOY_FORMAT = FIXTURES / "toy_format_package"
TOY_TASK = FIXTURES / "toy_task_package"

HEAD = """\
name: A loaded model
version: "1"
task: demonstration
description: Loaded for a test.
owners: [{name: tests}]
license: MIT
intended_uses: [tests]
out_of_scope_uses: [everything else]
limitations: [none measured]
"""

SEAT = "evaluation: {task: sentence_embedding, word_sets: {path: weat.json}}\n"


def write_spec(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.yaml").write_text(HEAD + text, encoding="utf-8")
    return folder / "model.yaml"


def problems_of(path: Path) -> str:
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    return str(caught.value)


def test_built_in_formats_come_first_and_declare_consistently() -> None:
    formats = registered_formats()
    assert list(formats)[: len(BUILT_IN)] == list(BUILT_IN)
    for name, model_format in formats.items():
        assert model_format.name == name
        assert (model_format.suffix is None) == (model_format.path_kind == "folder")
    assert {"tag_words", "language_model"} <= set(CAPABILITY_TEXT)


def test_an_unknown_format_is_refused_naming_the_known_ones(tmp_path: Path) -> None:
    message = problems_of(write_spec(tmp_path, "source:\n  load: {format: tflite, file: {path: model.tflite}}\n"))
    assert "source.load.format" in message
    assert "unknown model format 'tflite'" in message
    assert "transformers, safetensors, gguf" in message
    assert "Fix: convert the model to a format this build knows" in message and "save_pretrained" in message


def test_a_task_needing_what_the_format_cannot_do_names_the_formats_that_can(tmp_path: Path) -> None:
    gguf = "source:\n  load: {format: gguf, file: {path: model.gguf}}\n"
    message = problems_of(write_spec(tmp_path / "seat", gguf + SEAT))
    assert "evaluation.task" in message and "a gguf model cannot do here" in message
    assert "`format: transformers` under `source.load:`" in message
    lm = "source:\n  load: {format: safetensors, file: {path: model.safetensors}}\n"
    lm += "evaluation: {task: text_generation}\n"
    message = problems_of(write_spec(tmp_path / "lm", lm))
    assert "`format: transformers` or `format: gguf` under `source.load:`" in message


def test_module_and_published_follow_the_format_declarations(tmp_path: Path) -> None:
    module = "source:\n  load: {format: transformers, file: {path: folder}, module: 'net:build'}\n"
    message = problems_of(write_spec(tmp_path / "m", module))
    assert "`module:` names trusted code for a safetensors or pytorch or keras file" in message
    assert "Fix: remove `module:`" in message
    published = "source:\n  load: {format: gguf, published: other}\n"
    assert "Fix: name the gguf file in `file:` instead of `published:`" in problems_of(
        write_spec(tmp_path / "p", published)
    )


def test_loading_refuses_a_need_the_format_does_not_offer(tmp_path: Path) -> None:
    """Spec validation refuses such specs first; the loader still guards formats from other packages."""
    loaded = load_spec(write_spec(tmp_path / "lm", "source:\n  load: {format: gguf, file: {path: model.gguf}}\n"))
    with pytest.raises(ModelFileError, match="a gguf model cannot score the evaluation rows"):
        load_model(
            loaded, path=tmp_path / "model.gguf", device="cpu", convert_dir=tmp_path, needs=frozenset({"score_rows"})
        )


NPZ_SPEC = """\
source:
  load: {format: npz, file: {path: weights.npz}}
data:
  - {id: eval, role: evaluation, file: {path: eval.csv}, license: CC0-1.0, description: Generated rows.}
evaluation:
  - label: income
    positive_label: [">50K"]
    scores_column: score
    features: [age, hours]
    sensitive_features: [sex]
    min_group_size: 2
  - task: average_precision
    label: income
    positive_label: ">50K"
    features: [age, hours]
"""


def generated_people(generator: np.random.Generator, rows: int) -> pd.DataFrame:
    """Rows whose income depends on age and hours through a logistic link, and a group column."""
    age, hours = generator.normal(40, 10, rows), generator.normal(40, 8, rows)
    positive = generator.random(rows) < 1 / (1 + np.exp(-(0.08 * (age - 40) + 0.1 * (hours - 40) - 0.5)))
    sex = np.where(generator.random(rows) < 0.5, "F", "M")
    return pd.DataFrame({"age": age, "hours": hours, "sex": sex, "income": np.where(positive, ">50K", "<=50K")})


def npz_project(root: Path) -> tuple[Path, dict[str, np.ndarray], float]:
    """A project whose model is a scikit-learn logistic regression saved as a NumPy archive, with
    200 evaluation rows carrying its probabilities; and the average precision scikit-learn gives them."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score

    scaffold_project(root)
    config = (root / "mkdocs.yml").read_text()
    (root / "mkdocs.yml").write_text(config.replace("bootstrap_samples: 1000", "bootstrap_samples: 50"))
    folder = root / "models" / "npz-model"
    write_spec(folder, NPZ_SPEC)
    generator = np.random.default_rng(0)
    fitted, evaluation = generated_people(generator, 400), generated_people(generator, 200)
    model = LogisticRegression().fit(fitted[["age", "hours"]], fitted["income"] == ">50K")
    arrays = {"coef": model.coef_[0], "intercept": model.intercept_}
    np.savez(folder / "weights.npz", **arrays)
    probabilities = model.predict_proba(evaluation[["age", "hours"]])[:, 1]
    evaluation.assign(score=probabilities).to_csv(folder / "eval.csv", index=False, float_format="%.17g")
    return root, arrays, float(average_precision_score(evaluation["income"] == ">50K", probabilities))


def reporter_with(root: Path, *args: str, plugin: bool) -> subprocess.CompletedProcess[str]:
    plugins = [str(TOY_FORMAT), str(TOY_TASK)] if plugin else []
    path = os.pathsep.join(p for p in (*plugins, os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.run(
        [sys.executable, "-m", "reporter.cli", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "PYTHONPATH": path},
    )


@pytest.mark.slow
def test_a_format_and_a_task_from_other_packages_build_a_model_card(tmp_path: Path) -> None:
    """The toy format loads (and runs) the weights and the toy task declares its spec section and
    facts, reads its columns and measures the model, with no file of `reporter/` changed: both are
    found through their packages' entry points. The figure equals scikit-learn's average precision."""
    root, arrays, precision = npz_project(tmp_path / "project")
    refused = reporter_with(root, "check", str(root), plugin=False)
    assert refused.returncode == 2, refused.stderr
    assert "unknown model format 'npz'" in refused.stderr
    assert "evaluation.1.task" in refused.stderr and "names no task this build knows" in refused.stderr
    built = reporter_with(root, "build", str(root), plugin=True)
    assert built.returncode == 0, built.stderr
    facts_path = root / "build" / "facts" / "npz-model.json"
    facts = json.loads(facts_path.read_text())
    weights = facts["weights"]
    assert weights["parameters_total"] == sum(a.size for a in arrays.values())
    tensors = {t["name"]: t for t in weights["tensors"]}
    assert sorted(tensors) == sorted(arrays)
    for name, array in arrays.items():
        reference = float(np.linalg.norm(array.astype(np.float64)))
        assert tensors[name]["l2_norm"] == pytest.approx(reference, rel=1e-6)
    assert [e["kind"] for e in facts["evaluations"]] == ["binary_classification", "average_precision"]
    measured = facts["evaluations"][1]
    assert measured["rows"] == 200
    assert measured["average_precision"]["value"] == pytest.approx(precision, rel=1e-12, abs=1e-15)
    assert measured["average_precision"]["low"] < precision < measured["average_precision"]["high"]
    assert facts["explanations"]["importance"]["columns"]  # the model scored shuffled rows too
    card = (root / "site" / "models" / "npz-model" / "index.html").read_text()
    assert "Average precision of the model" in card and f"{precision:.4f}" in card
    assert "average_precision" in (root / "site" / "models" / "npz-model" / "README.md").read_text()  # HF model-index
    again = reporter_with(root, "build", str(root), plugin=True)
    assert again.returncode == 0, again.stderr
    assert json.loads(facts_path.read_text()) == facts  # served from the cache, read back through the task


def test_a_mistake_in_a_section_of_an_added_task_is_located_and_fixed(tmp_path: Path) -> None:
    root, _, _ = npz_project(tmp_path / "project")
    spec = root / "models" / "npz-model" / "model.yaml"
    spec.write_text(
        spec.read_text().replace("  - task: average_precision\n    label:", "  - task: average_precision\n    lable:")
    )
    refused = reporter_with(root, "check", str(root), plugin=True)
    assert refused.returncode == 2, refused.stderr
    assert "evaluation.1.lable" in refused.stderr and "did you mean `label`" in refused.stderr
    assert "evaluation.1.label" in refused.stderr  # and the field it lacks


def test_a_plug_in_and_its_version_are_part_of_the_cache_key() -> None:
    """Facts computed with another package's format must not be served once that package changes."""
    script = (
        "import json, sys\n"
        "from reporter.cache import plugin_versions, reporter_code_hash\n"
        "before = reporter_code_hash()\n"
        f"sys.path.insert(0, {str(TOY_FORMAT)!r})\n"
        "import importlib; importlib.invalidate_caches()\n"
        "print(json.dumps({'plugins': plugin_versions(), 'changed': reporter_code_hash() != before}))\n"
    )
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    answer = json.loads(found.stdout)
    assert "reporter.formats:npz=toy_format:NpzFormat (toy-format 0.1)" in answer["plugins"]
    assert answer["changed"]
