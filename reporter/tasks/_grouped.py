"""What the tasks measured on labelled rows (binary, multiclass, regression) share: the rows and
model outputs they evaluate, and their figures (the performance record's intervals, and each
reported group's intervals and each feature's disparities from the fairness record)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from reporter.datasets import LabelledData, Table
from reporter.extract.explanations import HeadlineMetric
from reporter.extract.membership import RowLoss
from reporter.facts import FactsRecord, FairnessFacts, LabelledEvaluation, NotReported
from reporter.spec import Evaluation
from reporter.tasks.figures import Figure, figure, interval_figures, metric_name

NO_SENSITIVE_FEATURES = "the spec names no sensitive features"


@dataclass(frozen=True)
class ScoredRows:
    """The labelled evaluation rows and what the model gave for them: everything a labelled task
    evaluates, with no model in it (a task never runs the model, so it is tested with arrays)."""

    spec_path: Path
    evaluation: Evaluation
    table: Table
    """The table given predictions are read from (`scores_column:`, `predictions_column:`)."""
    data: LabelledData
    outputs: np.ndarray | None
    """The model's outputs in the task's shape (scores, class probabilities or predictions); None
    when the predictions were computed elsewhere and are read from ``table``."""
    samples: int
    """Bootstrap resamples for every interval."""
    group_rules: dict[str, Any] | None
    """The group-size rules, thresholds, reference groups and bootstrap size of the fairness
    facts; None when the spec names no sensitive feature."""

    def subset(self, kept: np.ndarray) -> ScoredRows:
        """The rows ``kept`` selects (a boolean mask), without groups: a subset's figures are
        overall figures (the evaluation without the rows that also occur in training)."""
        data = LabelledData(
            features=self.data.features[kept].reset_index(drop=True),
            labels=self.data.labels[kept],
            sensitive=self.data.sensitive[kept].reset_index(drop=True),
            classes=self.data.classes,
        )
        frame = self.table.frame[kept].reset_index(drop=True)
        table = replace(self.table, frame=frame, positions=self.table.positions[kept])
        outputs = None if self.outputs is None else self.outputs[kept]
        return replace(self, table=table, data=data, outputs=outputs, group_rules=None)

    def fairness(self, extract: Callable[..., FairnessFacts]) -> FairnessFacts | NotReported:
        """``extract(sensitive, **group_rules)``, or why there are no groups to measure."""
        if self.group_rules is None:
            return NotReported(not_reported=self.evaluation.fairness_not_applicable or NO_SENSITIVE_FEATURES)
        return extract(self.data.sensitive, **self.group_rules)


@dataclass(frozen=True)
class GroupPlots:
    """How the pages plot a task of labelled rows: its groups' bars and heat map, and its
    reliability diagram."""

    bars: tuple[tuple[str, str], ...]
    """(group record field, label) of the metrics drawn as bars per group; the first is the
    intersection heat map's."""
    unit: str | None
    """The bars' axis label for a metric in the label's unit (errors); None for rates in [0, 1]."""
    reliability: tuple[str, str] | None
    """Axis labels of the reliability diagram of scores (x, y); None when the task has no scores
    (regression draws predictions against labels instead)."""


class LabelledRowsTask:
    """The common part of the tasks measured on labelled rows; each names itself, its partial and
    its explanation metric. The membership audit runs on their models."""

    name: ClassVar[str]
    partial: ClassVar[str]
    catalog_partial: ClassVar[str]
    fairness_partial: ClassVar[str]
    """The fairness page's body for one sensitive feature: its groups' table, the ratios to the
    reference group, a reading and the plots (the page around it is the same for every task)."""
    group_plots: ClassVar[GroupPlots]
    ratio_reading: ClassVar[str] = ""
    """What the fairness page adds to "a ratio is the smallest over the largest" for this task."""
    explanation_metric: ClassVar[str | None]
    overall_metrics: ClassVar[tuple[str, ...]]
    not_explained: ClassVar[str | None] = None
    not_audited: ClassVar[str | None] = None
    membership_loss: ClassVar[RowLoss]
    """The per-row loss the membership audit's attacker computes from the model's outputs."""

    def importance_metric(self, classes: list[str] | None) -> HeadlineMetric:
        """The metric permutation importance is measured on (named ``explanation_metric``)."""
        raise NotImplementedError(f"the {self.name} task names no importance metric")

    def carried_by(self, facts: FactsRecord) -> bool:
        return labelled_rows_carried(facts, self.name)

    def figures(self, facts: FactsRecord) -> list[Figure]:
        return labelled_rows_figures(facts)

    def evaluate(self, rows: ScoredRows) -> LabelledEvaluation:
        """Performance overall and fairness per sensitive feature."""
        raise NotImplementedError(f"the {self.name} task does not evaluate labelled rows")


def labelled_rows_carried(facts: FactsRecord, task: str) -> bool:
    """The record's evaluation on labelled rows is of ``task``."""
    return facts.labelled_kind == task


def labelled_rows_figures(facts: FactsRecord) -> list[Figure]:
    """Performance overall, then per reported group (with class selection rates) and the disparities."""
    labelled = facts.labelled
    if labelled is None:
        return []
    figures = interval_figures(labelled.performance, feature=None, group=None)
    if isinstance(labelled.fairness, FairnessFacts):
        for feature in labelled.fairness.features:
            for group in feature.groups:
                if group.status == "reported":
                    figures.extend(interval_figures(group, feature=feature.feature, group=group.group))
                    for label, rate in sorted(getattr(group, "class_selection_rates", {}).items()):
                        figures.extend(
                            figure(f"selection_rate_{label}", rate, feature=feature.feature, group=group.group)
                        )
            for disparity in feature.disparities:
                figures.extend(
                    figure(metric_name(disparity.name), disparity.value, feature=feature.feature, group=None)
                )
    return figures
