"""Multiclass classification: a model that gives each row a probability per class (or a predicted
class), measured on labelled rows overall and per group."""

from __future__ import annotations

from typing import ClassVar

from reporter.tasks._grouped import LabelledRowsTask


class MulticlassTask(LabelledRowsTask):
    name: ClassVar[str] = "multiclass_classification"
    partial: ClassVar[str] = "partials/tasks/multiclass_classification.md.j2"
    explanation_metric: ClassVar[str | None] = "macro_f1"
    overall_metrics: ClassVar[tuple[str, ...]] = (
        "accuracy",
        "balanced_accuracy",
        "macro_precision",
        "macro_recall",
        "macro_f1",
        "roc_auc",
        "log_loss",
        "brier_score",
        "expected_calibration_error",
    )
