"""Multiclass classification: a model that gives each row a probability per class (or a predicted
class), measured on labelled rows overall and per group."""

from __future__ import annotations

from typing import ClassVar

from reporter.facts import FactsRecord
from reporter.tasks._grouped import labelled_rows_carried, labelled_rows_figures
from reporter.tasks.figures import Figure


class MulticlassTask:
    name: ClassVar[str] = "multiclass_classification"
    partial: ClassVar[str] = "partials/tasks/multiclass_classification.md.j2"
    explanation_metric: ClassVar[str | None] = "macro_f1"
    not_explained: ClassVar[str | None] = None
    not_audited: ClassVar[str | None] = None

    def carried_by(self, facts: FactsRecord) -> bool:
        return labelled_rows_carried(facts, self.name)

    def figures(self, facts: FactsRecord) -> list[Figure]:
        return labelled_rows_figures(facts)
