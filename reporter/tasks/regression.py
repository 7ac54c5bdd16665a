"""Regression: a model that predicts a number per row, measured on labelled rows overall and per
group."""

from __future__ import annotations

from typing import ClassVar

from reporter.tasks._grouped import LabelledRowsTask


class RegressionTask(LabelledRowsTask):
    name: ClassVar[str] = "regression"
    partial: ClassVar[str] = "partials/tasks/regression.md.j2"
    explanation_metric: ClassVar[str | None] = "mean_absolute_error"
    overall_metrics: ClassVar[tuple[str, ...]] = (
        "mean_absolute_error",
        "root_mean_squared_error",
        "r2",
        "mean_error",
        "mean_label",
        "mean_prediction",
    )
