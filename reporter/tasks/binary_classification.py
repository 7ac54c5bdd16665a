"""Binary classification: a model that gives each row the probability of the positive label (or a
predicted label), measured on labelled rows overall and per group."""

from __future__ import annotations

from functools import partial
from typing import ClassVar

import numpy as np

from reporter.datasets import given_predictions, given_scores
from reporter.extract.explanations import ROC_AUC, HeadlineMetric
from reporter.extract.fairness import extract_fairness
from reporter.extract.membership import LOG_LOSS, RowLoss
from reporter.extract.metrics import PERFORMANCE_METRICS, Rows, extract_performance
from reporter.facts import BinaryEvaluation
from reporter.tasks._grouped import GroupPlots, LabelledRowsTask, ScoredRows


class BinaryTask(LabelledRowsTask):
    name: ClassVar[str] = "binary_classification"
    partial: ClassVar[str] = "partials/tasks/binary_classification.md.j2"
    catalog_partial: ClassVar[str] = "partials/catalog/classification.md.j2"
    fairness_partial: ClassVar[str] = "partials/fairness/binary_classification.md.j2"
    group_plots: ClassVar[GroupPlots] = GroupPlots(
        bars=(("selection_rate", "selection rate"), ("true_positive_rate", "true positive rate")),
        unit=None,
        reliability=("mean predicted probability", "observed positive fraction"),
    )
    explanation_metric: ClassVar[str | None] = ROC_AUC.name
    membership_loss: ClassVar[RowLoss] = LOG_LOSS
    overall_metrics: ClassVar[tuple[str, ...]] = tuple(PERFORMANCE_METRICS)

    def importance_metric(self, classes: list[str] | None) -> HeadlineMetric:
        return ROC_AUC

    def evaluate(self, rows: ScoredRows) -> BinaryEvaluation:
        """From the positive-class scores (thresholded at `threshold`) or from predicted labels
        (decisions, which are scores of 0 or 1 thresholded at 0.5)."""
        evaluation, scores, scored = rows.evaluation, rows.outputs, True
        if evaluation.scores_column:
            scores = given_scores(rows.table, evaluation, spec_path=rows.spec_path)
        elif evaluation.predictions_column:
            predicted = given_predictions(rows.table, evaluation, spec_path=rows.spec_path)
            scores, scored = predicted.astype(np.float64), False
        assert scores is not None
        threshold = evaluation.threshold if scored else 0.5
        measured = Rows(labels=rows.data.labels, scores=scores, threshold=threshold, scored=scored)
        return BinaryEvaluation(
            performance=extract_performance(measured, samples=rows.samples),
            fairness=rows.fairness(
                partial(extract_fairness, rows=measured, difference_threshold=evaluation.difference_threshold)
            ),
        )
