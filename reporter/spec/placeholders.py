"""Values `reporter init` leaves for a person to write, and the check that none is left.

A starter spec marks every field only a person can fill (who owns the model, what it must not be
used for, the data's license, …) with a value starting with :data:`PLACEHOLDER`, followed by what
to write. Such a value would often pass validation (it is text), so the spec is refused while any
is left, each named with its line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from reporter.errors import Problem
from reporter.spec.yaml_source import yaml_line

PLACEHOLDER = "FILL IN"


def placeholder_problems(path: Path, root: yaml.Node | None, data: object) -> list[Problem]:
    """One problem per value of ``data`` (a parsed spec) that still holds a placeholder."""
    return [
        Problem(
            file=path,
            field=".".join(map(str, location)),
            line=yaml_line(root, location),
            message="`reporter init` left this for you to fill in",
            fix=f"write {value[len(PLACEHOLDER) :].lstrip(': ')}",
        )
        for location, value in _strings(data, ())
        if value.startswith(PLACEHOLDER)
    ]


def _strings(value: Any, location: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(value, str):
        yield location, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*location, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*location, index))
