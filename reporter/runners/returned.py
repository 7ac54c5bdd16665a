"""Checks on what user code hands back (a recipe's `TrainedModel`, a builder's `LoadedModule`,
an attributor's rows), made where the values enter the build.

A wrong value found later fails far from its cause: a `trained_rows` position past the training
rows was a pandas `IndexError` in the membership audit. Each check names the spec, the recipe or
builder, the field and the fix.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reporter.errors import RecipeError
from reporter.facts import DifferentialPrivacyFacts, NotReported


def check_trained_model(trained: Any, *, training_rows: int, where: str) -> np.ndarray:
    """Check the fields of a recipe's `TrainedModel`; return its trained rows as sorted positions
    (every training row when it names none).

    Raises:
        RecipeError: naming the field, the value's problem and the fix.
    """
    if not (isinstance(trained.architecture, dict) and all(isinstance(k, str) for k in trained.architecture)):
        _refuse(where, "architecture", f"is a {type(trained.architecture).__name__}", "return a dict with text keys")
    for name in ("optimizer", "schedule", "train_figures"):
        if not isinstance(getattr(trained, name), str):
            _refuse(where, name, f"is a {type(getattr(trained, name)).__name__}", "return text")
    for name in ("train_rows", "validation_rows"):
        value = getattr(trained, name)
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            _refuse(where, name, f"is {value!r}", "return the number of rows, a whole number of at least 0")
    for name in ("predict_scores", "save", "attribute_rows"):
        value = getattr(trained, name)
        if not (callable(value) or (value is None and name != "predict_scores")):
            _refuse(where, name, f"is a {type(value).__name__}, not a function", "return a function")
    if trained.guarantee is not None and not isinstance(trained.guarantee, DifferentialPrivacyFacts):
        _refuse(
            where, "guarantee", f"is a {type(trained.guarantee).__name__}", "return DifferentialPrivacyFacts or None"
        )
    return checked_rows(trained.trained_rows, rows=training_rows, where=where)


def checked_rows(positions: Any, *, rows: int, where: str) -> np.ndarray:
    """``trained_rows`` as sorted unique int64 positions in ``range(rows)``; None means every row."""
    if positions is None:
        return np.arange(rows)
    array = np.asarray(positions)
    fix = f"return positions in context.train, whole numbers from 0 to {rows - 1}, each once"
    if array.ndim != 1 or array.size == 0 or not np.issubdtype(array.dtype, np.integer):
        _refuse(
            where, "trained_rows", f"is not a non-empty list of whole numbers (shape {array.shape}, {array.dtype})", fix
        )
    outside = array[(array < 0) | (array >= rows)]
    if outside.size:
        _refuse(
            where,
            "trained_rows",
            f"holds {outside.size} position(s) outside the {rows:,} training rows (first: {int(outside[0])})",
            fix,
        )
    if np.unique(array).size != array.size:
        _refuse(where, "trained_rows", "repeats positions", fix)
    return np.sort(array.astype(np.int64))


def checked_attributions(found: Any, *, rows: int, columns: int, where: str) -> Any:
    """An attributor's answer: NotReported, or one row of attributions per row asked, each with a
    finite value and a column (-1 or a valid index) per token."""
    if isinstance(found, NotReported):
        return found
    if not isinstance(found, list) or len(found) != rows:
        _refuse(
            where,
            "attribute_rows",
            f"returned {type(found).__name__} for {rows} rows",
            "return one RowAttributions per row, or NotReported",
        )
    for index, row in enumerate(found):
        values = np.asarray(getattr(row, "values", None), dtype=np.float64)
        owners = np.asarray(getattr(row, "columns", None))
        tokens = getattr(row, "tokens", None)
        good = (
            isinstance(tokens, list)
            and values.shape == owners.shape == (len(tokens),)
            and bool(np.isfinite(values).all())
            and np.issubdtype(owners.dtype, np.integer)
            and bool(((owners >= -1) & (owners < columns)).all())
            and all(
                isinstance(getattr(row, n, None), float | int) and math.isfinite(getattr(row, n))
                for n in ("logit_change", "delta")
            )
        )
        if not good:
            _refuse(
                where,
                "attribute_rows",
                f"row {index}'s attributions are malformed (tokens, values and "
                "columns must have one finite entry per token; columns -1 or an input column's index)",
                "return RowAttributions as reporter.runners.attributions builds them",
            )
    return found


def _refuse(where: str, field: str, problem: str, fix: str) -> None:
    raise RecipeError(f"{where}: the returned {field} {problem}. Fix: {fix}")
