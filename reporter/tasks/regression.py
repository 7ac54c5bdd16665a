"""Regression: a model that predicts a number per row, measured on labelled rows overall and per
group."""

from __future__ import annotations

from functools import partial
from typing import ClassVar

import numpy as np

from reporter.datasets import given_predictions
from reporter.extract.explanations import MEAN_ABSOLUTE_ERROR, HeadlineMetric
from reporter.extract.membership import SQUARED_ERROR, RowLoss
from reporter.extract.regression import (
    REGRESSION_METRICS,
    Predictions,
    extract_regression_fairness,
    extract_regression_performance,
)
from reporter.facts import RegressionEvaluation
from reporter.tasks._grouped import GroupPlots, LabelledRowsTask, ScoredRows


class RegressionTask(LabelledRowsTask):
    name: ClassVar[str] = "regression"
    partial: ClassVar[str] = "partials/tasks/regression.md.j2"
    catalog_partial: ClassVar[str] = "partials/catalog/regression.md.j2"
    fairness_partial: ClassVar[str] = "partials/fairness/regression.md.j2"
    ratio_reading: ClassVar[str] = (
        " (for this regression model, of the groups' errors, as fairlearn's "
        '`make_derived_metric(..., transform="ratio")` computes them, so the four-fifths rule does not '
        "depend on the label's unit)"
    )
    group_plots: ClassVar[GroupPlots] = GroupPlots(
        bars=(("mean_absolute_error", "mean absolute error"), ("root_mean_squared_error", "root mean squared error")),
        unit="error, in the label's unit",
        reliability=None,
    )
    explanation_metric: ClassVar[str | None] = MEAN_ABSOLUTE_ERROR.name
    membership_loss: ClassVar[RowLoss] = SQUARED_ERROR
    overall_metrics: ClassVar[tuple[str, ...]] = REGRESSION_METRICS

    def importance_metric(self, classes: list[str] | None) -> HeadlineMetric:
        return MEAN_ABSOLUTE_ERROR

    def evaluate(self, rows: ScoredRows) -> RegressionEvaluation:
        """From the model's predictions, or predictions computed elsewhere."""
        predicted = rows.outputs
        if rows.evaluation.predictions_column:
            predicted = given_predictions(rows.table, rows.evaluation, spec_path=rows.spec_path)
        assert predicted is not None
        predictions = Predictions(labels=rows.data.labels.astype(np.float64), predicted=predicted)
        return RegressionEvaluation(
            performance=extract_regression_performance(predictions, samples=rows.samples),
            fairness=rows.fairness(partial(extract_regression_fairness, predictions=predictions)),
        )
