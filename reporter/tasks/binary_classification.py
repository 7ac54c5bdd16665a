"""Binary classification: a model that gives each row the probability of the positive label (or a
predicted label), measured on labelled rows overall and per group."""

from __future__ import annotations

from typing import ClassVar

from reporter.tasks._grouped import LabelledRowsTask


class BinaryTask(LabelledRowsTask):
    name: ClassVar[str] = "binary_classification"
    partial: ClassVar[str] = "partials/tasks/binary_classification.md.j2"
    explanation_metric: ClassVar[str | None] = "roc_auc"
    overall_metrics: ClassVar[tuple[str, ...]] = (
        "accuracy",
        "balanced_accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "log_loss",
        "brier_score",
        "expected_calibration_error",
    )
