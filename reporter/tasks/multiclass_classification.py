"""Multiclass classification: a model that gives each row a probability per class (or a predicted
class), measured on labelled rows overall and per group."""

from __future__ import annotations

from functools import partial
from typing import ClassVar

from reporter.datasets import given_predictions
from reporter.extract.explanations import HeadlineMetric, macro_f1
from reporter.extract.membership import CLASS_LOG_LOSS, RowLoss
from reporter.extract.multiclass import (
    LABEL_METRICS,
    SCORE_METRICS,
    ClassPredictions,
    extract_multiclass_fairness,
    extract_multiclass_performance,
)
from reporter.facts import MulticlassEvaluation
from reporter.tasks._grouped import GroupPlots, LabelledRowsTask, ScoredRows


class MulticlassTask(LabelledRowsTask):
    name: ClassVar[str] = "multiclass_classification"
    partial: ClassVar[str] = "partials/tasks/multiclass_classification.md.j2"
    catalog_partial: ClassVar[str] = "partials/catalog/classification.md.j2"
    fairness_partial: ClassVar[str] = "partials/fairness/multiclass_classification.md.j2"
    group_plots: ClassVar[GroupPlots] = GroupPlots(
        bars=(("accuracy", "accuracy"), ("balanced_accuracy", "balanced accuracy")),
        unit=None,
        reliability=("mean confidence in the predicted class", "share predicted right"),  # top-label
    )
    explanation_metric: ClassVar[str | None] = "macro_f1"
    membership_loss: ClassVar[RowLoss] = CLASS_LOG_LOSS
    overall_metrics: ClassVar[tuple[str, ...]] = LABEL_METRICS + SCORE_METRICS

    def importance_metric(self, classes: list[str] | None) -> HeadlineMetric:
        assert classes is not None, "a multiclass evaluation knows its classes"
        return macro_f1(classes)

    def evaluate(self, rows: ScoredRows) -> MulticlassEvaluation:
        """From the class probabilities (the predicted class is the most probable) or from
        predicted labels."""
        return self.measured(rows, self.predictions(rows))

    @staticmethod
    def predictions(rows: ScoredRows) -> ClassPredictions:
        """The labels, the predicted classes and (when the model gave them) the class probabilities."""
        evaluation, probabilities, classes = rows.evaluation, rows.outputs, rows.data.classes
        assert classes is not None
        if evaluation.predictions_column:
            predicted, probabilities = given_predictions(rows.table, evaluation, spec_path=rows.spec_path), None
        else:
            assert probabilities is not None
            predicted = probabilities.argmax(axis=1)
        return ClassPredictions(
            labels=rows.data.labels, predicted=predicted, classes=classes, probabilities=probabilities
        )

    @staticmethod
    def measured(rows: ScoredRows, predictions: ClassPredictions) -> MulticlassEvaluation:
        """Performance overall and fairness per sensitive feature, from the predictions."""
        evaluation = rows.evaluation
        return MulticlassEvaluation(
            performance=extract_multiclass_performance(predictions, samples=rows.samples),
            fairness=rows.fairness(
                partial(
                    extract_multiclass_fairness,
                    p=predictions,
                    difference_threshold=evaluation.difference_threshold,
                )
            ),
        )
