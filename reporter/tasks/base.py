"""What every task is: the interface the build, the renderers and the exports see.

A task (binary classification, token classification, text generation, …) owns the figures it
publishes, the metric permutation importance is measured on and the loss the membership audit
compares (or why it has neither), and the template partial that shows its facts on the card.
Tasks are found through the registry (`reporter.tasks`), never switched on by name elsewhere.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

from reporter.facts import FactsRecord
from reporter.tasks.figures import Figure


class Task(Protocol):
    """One task. Implementations are small classes with no state; the registry holds one of each."""

    name: ClassVar[str]
    """The value that names the task in a spec (`evaluation.task`) and in a facts record."""
    partial: ClassVar[str]
    """The card's template partial for this task's facts (under the templates folder)."""
    catalog_partial: ClassVar[str]
    """The catalog's two cells for a model of this task, its headline figure and its fairness
    status, as one line: `headline | status` (under the templates folder)."""
    explanation_metric: ClassVar[str | None]
    """The metric permutation importance is measured on; None when the task has none."""
    not_explained: ClassVar[str | None]
    """Why the build does not explain this task's models (None when it does)."""
    not_audited: ClassVar[str | None]
    """Why the build runs no membership-inference audit on this task's models (None when it does)."""
    overall_metrics: ClassVar[tuple[str, ...]]
    """The metrics of the figures it publishes over all the evaluation data: what `reporter diff`
    compares between two builds and what a `metric:NAME:DELTA` gate may name."""

    def carried_by(self, facts: FactsRecord) -> bool:
        """Whether the record holds this task's measured facts."""
        ...

    def figures(self, facts: FactsRecord) -> list[Figure]:
        """Every number this task publishes for the record, one flat row each."""
        ...
