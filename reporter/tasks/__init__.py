"""The task registry: every task the build knows, built-in or added by another package.

A package adds a task by declaring an entry point in the group ``reporter.tasks`` whose object is
a class implementing :class:`reporter.tasks.base.Task` (as MkDocs finds plugins): nothing in
`reporter/` changes. The built-in tasks are listed here, in the order a card shows them.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import cast

from reporter.entry_points import TASKS, declared
from reporter.facts import FactsRecord
from reporter.tasks._grouped import LabelledRowsTask
from reporter.tasks.base import MeasuringTask, Task, is_measuring
from reporter.tasks.figures import Figure

BUILT_IN = {
    "binary_classification": "reporter.tasks.binary_classification:BinaryTask",
    "multiclass_classification": "reporter.tasks.multiclass_classification:MulticlassTask",
    "image_classification": "reporter.tasks.image_classification:ImageClassificationTask",
    "regression": "reporter.tasks.regression:RegressionTask",
    "token_classification": "reporter.tasks.token_classification:TokenClassificationTask",
    "sentence_embedding": "reporter.tasks.sentence_embedding:SentenceEmbeddingTask",
    "text_generation": "reporter.tasks.text_generation:TextGenerationTask",
}


@cache
def registered_tasks() -> tuple[Task, ...]:
    """One instance of every task, built-ins first in their fixed order (the order of a card's
    Metrics section), then other packages' in name order."""
    found = {name: _load(reference) for name, reference in BUILT_IN.items()}
    for name, task_class in declared(TASKS).items():
        if name not in found:
            found[name] = task_class()
    return tuple(found.values())


def _load(reference: str) -> Task:
    module, attribute = reference.split(":")
    task: Task = getattr(import_module(module), attribute)()
    return task


def tasks_of(facts: FactsRecord) -> list[Task]:
    """The tasks whose measured facts the record holds, in registry order."""
    return [task for task in registered_tasks() if task.carried_by(facts)]


def figures_of(facts: FactsRecord) -> list[Figure]:
    """Every number the record publishes: each of its tasks' figures, in registry order. The one
    list the exports, the openness check and other readers of a model's figures take."""
    return [figure for task in tasks_of(facts) for figure in task.figures(facts)]


def labelled_task(name: str) -> LabelledRowsTask:
    """The task called ``name`` that evaluates labelled rows (a spec's `evaluation.task`).

    Raises:
        KeyError: no such task is registered (spec validation refuses such specs first).
    """
    for task in registered_tasks():
        if task.name == name and isinstance(task, LabelledRowsTask):
            return task
    raise KeyError(name)


def measuring_tasks() -> list[MeasuringTask]:
    """The registered tasks that declare their own spec section and facts family (tasks other
    packages add), in registry order."""
    return [cast(MeasuringTask, task) for task in registered_tasks() if is_measuring(task)]


def measuring_task(name: str) -> MeasuringTask | None:
    """The measuring task called ``name`` (a section's `task:`, an evaluation's `kind`), or None."""
    return next((task for task in measuring_tasks() if task.name == name), None)
