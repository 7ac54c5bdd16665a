"""What other packages declare in reporter's entry-point groups (as MkDocs finds plugins).

Read here, below every layer of reporter, so that the lowest layers can ask for a declared task's
types without importing the layers above them: the facts record reads an evaluation back through
the facts family its task declares, and the spec validates a section with the section model its
task declares. The registries (`reporter.tasks`, `reporter.formats`) build on the same lists.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any

TASKS = "reporter.tasks"
FORMATS = "reporter.formats"


@cache
def declared(group: str) -> dict[str, Any]:
    """Every object declared in ``group``, loaded, by entry-point name in name order."""
    return {point.name: point.load() for point in sorted(entry_points(group=group), key=lambda p: p.name)}


def declared_task_type(name: str, member: str, base: type) -> Any:
    """The class a task another package declares under ``name`` gives as ``member`` (its `section`
    or its `facts`), when it is a subclass of ``base``; None otherwise."""
    found = getattr(declared(TASKS).get(name), member, None)
    return found if isinstance(found, type) and issubclass(found, base) else None
