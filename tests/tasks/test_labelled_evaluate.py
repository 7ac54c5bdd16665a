"""Each labelled-rows task's `evaluate`, fed arrays as a model would give them (no model, no torch,
milliseconds), checked against scikit-learn and fairlearn on the same rows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from sklearn import metrics

from reporter.datasets import LabelledData, Table
from reporter.spec import DataSource, Evaluation
from reporter.tasks import labelled_task
from reporter.tasks._grouped import ScoredRows

ROWS = 400
RULES = {"min_group_size": 5, "privacy_threshold": 1, "ratio_threshold": 0.8, "reference_groups": {}, "samples": 30}


def rows_of(
    task: str, labels: np.ndarray, outputs: np.ndarray | None, frame: pd.DataFrame, **fields: object
) -> ScoredRows:
    evaluation = Evaluation.model_validate({"task": task, "label": "y", "sensitive_features": ["group"], **fields})
    source = DataSource.model_validate({"id": "rows", "role": "evaluation", "license": "CC0-1.0", "description": "d"})
    table = Table(
        source=source,
        path=Path("rows.csv"),
        frame=frame,
        rows_in_file=len(frame),
        positions=np.arange(len(frame)),
        field="data.0",
    )
    data = LabelledData(
        features=frame[["x"]],
        labels=labels,
        sensitive=frame[["group"]],
        classes=["a", "b", "c"] if task == "multiclass_classification" else None,
    )
    return ScoredRows(
        spec_path=Path("model.yaml"),
        evaluation=evaluation,
        table=table,
        data=data,
        outputs=outputs,
        samples=30,
        group_rules=RULES,
    )


@pytest.fixture(scope="session")
def frame() -> pd.DataFrame:
    generator = np.random.default_rng(7)
    return pd.DataFrame({"x": generator.normal(size=ROWS), "group": generator.choice(["F", "M", "X"], size=ROWS)})


def test_binary_figures_equal_scikit_learn_and_fairlearn(frame: pd.DataFrame) -> None:
    generator = np.random.default_rng(1)
    labels = generator.integers(0, 2, size=ROWS).astype(np.int8)
    scores = np.clip(0.35 * labels + generator.uniform(0, 0.65, size=ROWS), 0, 1)
    rows = rows_of("binary_classification", labels, scores, frame, positive_label=["1"], threshold=0.5)
    evaluated = labelled_task("binary_classification").evaluate(rows)
    assert evaluated.kind == "binary_classification"
    performance, fairness = evaluated.performance, evaluated.fairness
    predicted = (scores >= 0.5).astype(int)
    assert performance.accuracy.value == pytest.approx(metrics.accuracy_score(labels, predicted), abs=1e-12)
    assert performance.roc_auc.value == pytest.approx(metrics.roc_auc_score(labels, scores), abs=1e-12)
    assert performance.log_loss.value == pytest.approx(metrics.log_loss(labels, scores), abs=1e-12)
    assert performance.accuracy.low <= performance.accuracy.value <= performance.accuracy.high
    [feature] = [f for f in fairness.features if f.feature == "group"]
    assert {type(g).__name__ for g in feature.groups} == {"BinaryGroupFacts"}
    disparities = {d.name: d.value.value for d in feature.disparities}
    groups = frame["group"]
    assert disparities["demographic_parity_difference"] == pytest.approx(
        demographic_parity_difference(labels, predicted, sensitive_features=groups), abs=1e-12
    )
    assert disparities["equalized_odds_difference"] == pytest.approx(
        equalized_odds_difference(labels, predicted, sensitive_features=groups), abs=1e-12
    )


def test_binary_from_predicted_labels_in_the_data(frame: pd.DataFrame) -> None:
    labels = (frame["x"] > 0).astype(np.int8).to_numpy()
    given = frame.assign(prediction=np.where(frame["x"] > 0.3, "1", "0"))
    rows = rows_of("binary_classification", labels, None, given, positive_label=["1"], predictions_column="prediction")
    performance = labelled_task("binary_classification").evaluate(rows).performance
    predicted = (frame["x"] > 0.3).astype(int)
    assert performance.accuracy.value == pytest.approx(metrics.accuracy_score(labels, predicted), abs=1e-12)
    assert performance.recall.value == pytest.approx(metrics.recall_score(labels, predicted), abs=1e-12)


def test_multiclass_figures_equal_scikit_learn(frame: pd.DataFrame) -> None:
    generator = np.random.default_rng(2)
    labels = generator.integers(0, 3, size=ROWS)
    probabilities = generator.dirichlet(np.ones(3), size=ROWS)
    probabilities[np.arange(ROWS), labels] += 0.4
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    rows = rows_of("multiclass_classification", labels, probabilities, frame)
    evaluated = labelled_task("multiclass_classification").evaluate(rows)
    performance, fairness = evaluated.performance, evaluated.fairness
    predicted = probabilities.argmax(axis=1)
    assert performance.accuracy.value == pytest.approx(metrics.accuracy_score(labels, predicted), abs=1e-12)
    assert performance.macro_f1.value == pytest.approx(metrics.f1_score(labels, predicted, average="macro"), abs=1e-12)
    assert performance.log_loss.value == pytest.approx(metrics.log_loss(labels, probabilities), abs=1e-12)
    [feature] = fairness.features
    assert feature.feature == "group" and {type(g).__name__ for g in feature.groups} == {"MulticlassGroupFacts"}


def test_regression_figures_equal_scikit_learn(frame: pd.DataFrame) -> None:
    generator = np.random.default_rng(3)
    labels = 40 + 10 * frame["x"].to_numpy()
    predicted = labels + generator.normal(scale=4, size=ROWS)
    rows = rows_of("regression", labels, predicted, frame)
    evaluated = labelled_task("regression").evaluate(rows)
    performance = evaluated.performance
    assert {type(g).__name__ for g in evaluated.fairness.features[0].groups} == {"RegressionGroupFacts"}
    assert performance.mean_absolute_error.value == pytest.approx(
        metrics.mean_absolute_error(labels, predicted), abs=1e-12
    )
    assert performance.root_mean_squared_error.value == pytest.approx(
        metrics.root_mean_squared_error(labels, predicted), abs=1e-12
    )
    assert performance.r2.value == pytest.approx(metrics.r2_score(labels, predicted), abs=1e-12)


def test_without_sensitive_features_a_task_says_why_there_are_no_groups(frame: pd.DataFrame) -> None:
    from dataclasses import replace

    labels = 40 + 10 * frame["x"].to_numpy()
    rows = replace(rows_of("regression", labels, labels + 1.0, frame), group_rules=None)
    evaluated = labelled_task("regression").evaluate(rows)
    assert evaluated.performance.mean_error.value == pytest.approx(1.0, abs=1e-12)
    assert evaluated.fairness.not_reported == "the spec names no sensitive features"  # type: ignore[union-attr]


def test_a_labelled_task_is_evaluated_without_importing_a_framework() -> None:
    """The tasks never run a model: evaluating one imports neither torch nor transformers."""
    script = (
        "import json, sys\n"
        "import numpy as np\n"
        "from reporter.tasks import labelled_task\n"
        "labelled_task('regression'); labelled_task('binary_classification')\n"
        "print(json.dumps(sorted(m for m in ('torch', 'transformers') if m in sys.modules)))\n"
    )
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert json.loads(found.stdout) == []
