"""What every task is: the interface the build, the renderers and the exports see.

A task (binary classification, token classification, text generation, …) owns the figures it
publishes, the metric permutation importance is measured on and the loss the membership audit
compares (or why it has neither), and the template partial that shows its facts on the card.
Tasks are found through the registry (`reporter.tasks`), never switched on by name elsewhere.

A task that measures something the built-in tasks do not (:class:`MeasuringTask`) also declares
its spec section, its facts family and the model capabilities it needs, reads its inputs before
any model is loaded, and evaluates the model: the whole of a new task, in the package that adds it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from reporter.facts import FactsRecord, InferenceFacts, TaskFacts
from reporter.tasks.figures import Figure

if TYPE_CHECKING:
    from reporter.datasets import Table
    from reporter.formats.declaration import Capability
    from reporter.runners.outcome import RunOutcome
    from reporter.spec import FileRef, TaskSection


NO_LABELLED_ROWS = "the spec declares no labelled evaluation data"
"""Why a model measured on no labelled rows is not explained (a task's `not_explained`)."""
LOADED_NOT_AUDITED = (
    "the model is loaded, not trained in the build: which rows it was fitted on is not known to the build"
)
"""Why a loaded model gets no membership audit (a task's `not_audited`, when it only loads models)."""


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


@dataclass(frozen=True)
class TaskContext:
    """What a measuring task may use besides the model: where its section is, the build's data
    tables and settings, and a way to name files and report progress. No other part of the build."""

    spec_path: Path
    """The spec file, for error messages (`<spec>: <field>: … Fix: …`)."""
    slug: str
    section_field: str
    """Where the task's section is written: `evaluation`, or `evaluation.N` in a list."""
    evaluation_table: Table | None
    """The spec's data source with `role: evaluation`, read and checked (None when it has none)."""
    train_table: Table | None
    samples: int
    """Bootstrap resamples for every interval (the build's `bootstrap_samples`)."""
    device: str
    """Where the model runs (`cpu`, `cuda:0`), for the facts that say so."""
    resolve: Callable[[FileRef, str], Path]
    """A file the section names, confined to the project: ``resolve(ref, field)``."""
    progress: Callable[[str], None]
    """A progress line for long work (shown every few seconds at most)."""
    throttled: Callable[[str], Callable[[int, int], None]]
    """A ``(done, total)`` callback for a loop over many items, showing the template given (with
    ``{done}`` and ``{total}``) every few seconds at most and at the end."""
    report_inference: Callable[[InferenceFacts], None]
    """How the task ran the model over its evaluation data (device, batches, speed), when it is the
    task that runs it: the record's inference facts."""
    full_benchmarks: bool = False
    """Score every benchmark item, not the sample the section names (`reporter build --full-benchmarks`)."""


class MeasuringTask(Task, Protocol):
    """A task that measures the model itself, end to end: spec section, inputs, evaluation, facts.

    The build validates the section when it reads the spec, calls :meth:`read_inputs` before the
    model is trained or loaded (so a bad column fails in a second), asks the model's format for
    :meth:`needs`, then calls :meth:`evaluate` once and stores what it returns in the record's
    `evaluations`.
    """

    section: ClassVar[type[TaskSection]]
    """Its spec section: a pydantic model with ``task: Literal["<name>"]``; unknown fields refused."""
    facts: ClassVar[type[TaskFacts]]
    """Its facts family: a :class:`~reporter.facts.TaskFacts` with ``kind: Literal["<name>"]``."""
    template_folder: ClassVar[Path | None]
    """Where its partials live when they are not reporter's own (a package's `templates/`)."""

    def needs(self, section: Any) -> frozenset[Capability]:
        """What the model must be able to do for this section (``score_rows``, ``embed_text``, …)."""
        ...

    def read_inputs(self, section: Any, context: TaskContext) -> Any:
        """Read and check everything the evaluation needs, before any model is touched.

        Raises:
            DataError: naming the spec, the field and the fix.
        """
        ...

    def evaluate(self, model: RunOutcome, inputs: Any, context: TaskContext) -> TaskFacts:
        """Measure the model on the inputs: the facts the record keeps for this task."""
        ...


def is_measuring(task: Task) -> bool:
    """Whether a task declares a section and facts of its own (a :class:`MeasuringTask`)."""
    return all(hasattr(task, member) for member in ("section", "facts", "needs", "read_inputs", "evaluate"))
