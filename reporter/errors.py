"""Errors that reporter shows to its users.

Every error a user can cause is a :class:`ReporterError` whose message says what went wrong, where
(file, line, field) and how to fix it. The CLI turns :class:`InputError` into exit status 2 and any
other :class:`ReporterError` into exit status 1, without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class ReporterError(Exception):
    """Base class for failures reporter explains to the user (exit status 1)."""


class InputError(ReporterError):
    """The user's input (spec, data, model file, template) is wrong (exit status 2)."""


@dataclass(frozen=True)
class Problem:
    """One problem in one input file, located as precisely as the input allows."""

    file: Path
    message: str
    fix: str
    field: str | None = None
    line: int | None = None

    def describe(self) -> str:
        """Render as ``file:line: field: message; fix``, the format editors can jump to."""
        where = str(self.file) + (f":{self.line}" if self.line else "")
        what = f"{self.field}: " if self.field else ""
        return f"{where}: {what}{self.message}. Fix: {self.fix}"


class SpecError(InputError):
    """One or more problems in model specs; each is reported, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(p.describe() for p in problems))


def problem_error(
    file: Path, message: str, fix: str, *, field: str | None = None, line: int | None = None
) -> SpecError:
    """Build a :class:`SpecError` holding a single problem."""
    return SpecError([Problem(file=file, message=message, fix=fix, field=field, line=line)])


class DataError(InputError):
    """A data file cannot be read or does not hold what the spec says."""


class ModelFileError(InputError):
    """A model or weight file is missing, malformed or refused as unsafe."""


class RecipeError(InputError):
    """A training recipe failed, returned the wrong thing, or diverged."""


class TemplateError(InputError):
    """A template (built-in or a project override) failed to parse or render."""
