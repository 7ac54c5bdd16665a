"""Regression: a model that predicts a number per row, measured on labelled rows overall and per
group."""

from __future__ import annotations

from typing import ClassVar

from reporter.facts import FactsRecord
from reporter.tasks._grouped import labelled_rows_carried, labelled_rows_figures
from reporter.tasks.figures import Figure


class RegressionTask:
    name: ClassVar[str] = "regression"
    partial: ClassVar[str] = "partials/tasks/regression.md.j2"
    explanation_metric: ClassVar[str | None] = "mean_absolute_error"
    not_explained: ClassVar[str | None] = None
    not_audited: ClassVar[str | None] = None

    def carried_by(self, facts: FactsRecord) -> bool:
        return labelled_rows_carried(facts, self.name)

    def figures(self, facts: FactsRecord) -> list[Figure]:
        return labelled_rows_figures(facts)
