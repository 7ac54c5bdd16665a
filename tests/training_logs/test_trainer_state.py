"""Importing Hugging Face Trainer's `trainer_state.json`: a real Trainer run on CPU writes the file,
and every imported point must equal the log's own value, read back from the facts record."""

from __future__ import annotations

import json
import math
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest

from reporter.cli import main
from reporter.errors import ModelFileError
from reporter.facts import DeclaredTrainingFacts
from reporter.training_logs import import_training_log
from tests.conftest import reporter, scaffold_project
from tests.training_logs.conftest import ADULT_TEXT_EVALUATION, write_adult_rows


def imported(path: Path) -> DeclaredTrainingFacts:
    return import_training_log("trainer_state", path, where="spec: source.load.training_log.file", named=path.name)


def summary_entry(state: dict[str, Any]) -> dict[str, Any]:
    """The entry Trainer logs once, at the end of training."""
    [entry] = [e for e in state["log_history"] if "train_runtime" in e]
    return entry


def test_every_logged_point_is_imported_exactly(trainer_run: Path) -> None:
    from transformers import TrainerState

    path = trainer_run / "trainer_state.json"
    state = json.loads(path.read_text())
    facts = imported(path)
    points = [e for e in state["log_history"] if "train_runtime" not in e]
    expected: dict[str, list[tuple[int, float | None, float]]] = {}
    for entry in points:
        for key, value in entry.items():
            if key not in ("step", "epoch"):
                expected.setdefault(key, []).append((entry["step"], entry.get("epoch"), value))
    assert [s.name for s in facts.series] == list(expected)
    assert {"loss", "learning_rate", "grad_norm", "eval_loss"} <= set(expected)
    for series in facts.series:
        got = list(zip(series.steps, series.epochs, series.values, strict=True))
        assert got == expected[series.name], series.name  # exact: read back as logged
    oracle = TrainerState.load_from_json(str(path))  # transformers' own reader of the file
    assert facts.settings["global_step"] == oracle.global_step and facts.settings["max_steps"] == oracle.max_steps
    assert facts.settings["num_train_epochs"] == oracle.num_train_epochs == 2
    assert facts.settings["train_batch_size"] == oracle.train_batch_size == 16
    assert facts.total_flos == oracle.total_flos and facts.wall_seconds == summary_entry(state)["train_runtime"]
    assert facts.summary["train_loss"] == summary_entry(state)["train_loss"]
    # The facts record carries the points exactly through its JSON form, as the site publishes it.
    assert DeclaredTrainingFacts.model_validate_json(facts.model_dump_json()) == facts


def test_non_finite_values_are_kept_as_missing_points(tmp_path: Path) -> None:
    path = tmp_path / "trainer_state.json"
    path.write_text('{"log_history": [{"loss": NaN, "step": 1, "epoch": 0.5}, {"loss": 0.5, "step": 2, "epoch": 1.0}]}')
    [loss] = imported(path).series
    assert loss.values == [None, 0.5] and loss.steps == [1, 2]


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ('{"log_history": [{"loss": 0.69, "step": 2', "not valid JSON (line 1, column"),
        ('{"log_history": {"loss": 1}}', "`log_history` is missing or not a list"),
        ('{"log_history": [{"loss": 0.69, "epoch": 1.0}]}', "`log_history[0]` has no integer `step`"),
        ('{"log_history": [{"loss": [1], "step": 1}]}', "`log_history[0].loss` is [1], not a number"),
        ("[1, 2]", "holds a JSON list, not an object"),
    ],
)
def test_a_malformed_log_is_a_located_error(tmp_path: Path, text: str, phrase: str) -> None:
    path = tmp_path / "trainer_state.json"
    path.write_text(text)
    with pytest.raises(ModelFileError) as error:
        imported(path)
    message = str(error.value)
    assert phrase in message and str(path) in message and "source.load.training_log.file" in message
    assert "Fix: name the run's output folder or its `trainer_state.json`" in message


EVALUATED = slice(120, None)
"""The rows the run fine-tuned on are the first 120; it evaluated on the rest."""

SPEC = (
    """\
name: Income BERT trained elsewhere
version: "1"
task: binary classification of census records
description: A one-layer BERT fine-tuned by Hugging Face's Trainer outside the build.
owners: [{name: tests}]
license: Apache-2.0
intended_uses: [tests]
out_of_scope_uses: [anything else]
limitations: [tiny]
source:
  load:
    format: transformers
    file: {path: run/model}
    training_log:
      format: trainer_state
      file: {path: run}
      compare: {eval_loss: log_loss}
"""
    + ADULT_TEXT_EVALUATION
)


@pytest.mark.slow
def test_a_loaded_model_gets_the_training_report_its_log_declares(trainer_run: Path, tmp_path: Path) -> None:
    root = scaffold_project(tmp_path / "project")
    folder = root / "models" / "income-bert"
    folder.mkdir()
    (folder / "model.yaml").write_text(textwrap.dedent(SPEC))
    shutil.copytree(trainer_run, folder / "run")
    write_adult_rows(folder / "rows.csv", EVALUATED)  # the rows the run evaluated on
    built = reporter("build", str(root), cwd=root)
    assert built.returncode == 0, built.stderr
    facts = json.loads((root / "build" / "facts" / "income-bert.json").read_text())
    training = facts["training"]
    assert training["kind"] == "declared_by_training_log" and training["log_file"] == "run"
    state = json.loads((trainer_run / "trainer_state.json").read_text())
    losses = [e["loss"] for e in state["log_history"] if "loss" in e]
    assert next(s for s in training["series"] if s["name"] == "loss")["values"] == losses
    page = (root / "site" / "models" / "income-bert" / "training.html").read_text()
    assert "declared by the run's training log" in page and "training-log.svg" in page
    assert math.isclose(training["wall_seconds"], summary_entry(state)["train_runtime"])
    # The run's final evaluation and the build's own, on the same rows: Trainer's mean cross-entropy
    # is the build's log loss, up to float32 arithmetic.
    final = json.loads((trainer_run / "all_results.json").read_text())
    [compared] = training["comparisons"]
    assert compared["log_figure"] == "eval_loss" and compared["log_value"] == final["eval_loss"]
    assert math.isclose(compared["value"], final["eval_loss"], abs_tol=1e-5) and compared["within_interval"]
    card = (root / "site" / "models" / "income-bert" / "index.html").read_text()
    assert f"final <code>eval_loss</code> is {final['eval_loss']:.4f}" in card

    spec = (folder / "model.yaml").read_text()
    for pair, phrase in (
        ("{eval_accuracy: accuracy}", "the log holds no final value of 'eval_accuracy'; its figures: "),
        ("{eval_loss: perplexity}", "this build publishes no overall 'perplexity'"),
    ):
        (folder / "model.yaml").write_text(spec.replace("{eval_loss: log_loss}", pair))
        checked = reporter("check", str(root), cwd=root)
        assert checked.returncode == 2 and phrase in checked.stderr and "training_log.compare" in checked.stderr
    (folder / "model.yaml").write_text(spec)

    (folder / "run" / "trainer_state.json").write_text(json.dumps(state)[:200])  # truncated
    assert main(["check", str(root)]) == 2
