"""Figures shared by the tasks measured on labelled rows (binary, multiclass, regression): the
performance record's intervals, and each reported group's intervals and each feature's disparities
from the fairness record."""

from __future__ import annotations

from typing import ClassVar

from reporter.facts import FactsRecord, FairnessFacts, NotReported
from reporter.tasks.figures import Figure, figure, interval_figures, metric_name


class LabelledRowsTask:
    """The common part of the tasks measured on labelled rows; each names itself, its partial and
    its explanation metric. The membership audit runs on their models."""

    name: ClassVar[str]
    partial: ClassVar[str]
    explanation_metric: ClassVar[str | None]
    overall_metrics: ClassVar[tuple[str, ...]]
    not_explained: ClassVar[str | None] = None
    not_audited: ClassVar[str | None] = None

    def carried_by(self, facts: FactsRecord) -> bool:
        return labelled_rows_carried(facts, self.name)

    def figures(self, facts: FactsRecord) -> list[Figure]:
        return labelled_rows_figures(facts)


def labelled_rows_carried(facts: FactsRecord, task: str) -> bool:
    """The record's performance facts are of ``task``."""
    return not isinstance(facts.performance, NotReported) and facts.performance.task == task


def labelled_rows_figures(facts: FactsRecord) -> list[Figure]:
    """Performance overall, then per reported group (with class selection rates) and the disparities."""
    if isinstance(facts.performance, NotReported):
        return []
    figures = interval_figures(facts.performance, feature=None, group=None)
    if isinstance(facts.fairness, FairnessFacts):
        for feature in facts.fairness.features:
            for group in feature.groups:
                if group.status == "reported":
                    figures.extend(interval_figures(group, feature=feature.feature, group=group.group))
                    for label, rate in sorted(group.class_selection_rates.items()):
                        figures.extend(
                            figure(f"selection_rate_{label}", rate, feature=feature.feature, group=group.group)
                        )
            for disparity in feature.disparities:
                figures.extend(
                    figure(metric_name(disparity.name), disparity.value, feature=feature.feature, group=None)
                )
    return figures
