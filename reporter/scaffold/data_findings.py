"""What an evaluation CSV suggests for a starter spec: its label, text and group columns.

These are guesses from column names and values, and the starter spec says so: a person confirms
each one. A guess is only offered where the file supports it (a label column whose values are the
model's labels, a tags column with one tag per token); otherwise the field is left to fill in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from reporter.errors import DataError

ROWS_READ = 100_000
"""Rows read to find the columns' values: enough to see every label of a classification set."""
SENSITIVE_WORDS = frozenset(
    "sex gender race ethnicity ethnic age religion disability nationality native country marital language "
    "dialect skin orientation pregnancy caste".split()
)
"""Words in a column's name that suggest a sensitive attribute (the groups of a fairness report)."""
LABEL_WORDS = frozenset("label labels target y class outcome category sentiment income tag tags ner_tags".split())
MAX_CLASSES = 50
MAX_GROUPS = 20
"""More distinct values than this and a column is not a grouping (each group would be tiny)."""
TEXT_CHARACTERS = 20
"""Values this long on average make a column text rather than a category."""


@dataclass
class DataFindings:
    """The columns of the evaluation file and the guesses made from them."""

    path: Path
    columns: list[str]
    rows_read: int
    text_column: str | None = None
    label: str | None = None
    label_values: list[str] = field(default_factory=list)
    tags_column: str | None = None
    sensitive: list[str] = field(default_factory=list)
    too_many_groups: list[str] = field(default_factory=list)
    """Columns named like a sensitive attribute but holding too many values to be groups (an age in
    years): a person bins them into a column of ranges."""


def find_columns(path: Path, *, task: str | None, model_labels: list[str]) -> DataFindings:
    """Read the head of the CSV at ``path`` and guess its columns' roles for ``task``.

    Raises:
        DataError: naming the file when it is not a readable CSV with a header row.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=ROWS_READ)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: not a readable CSV with a header row ({exc}). Fix: give a CSV file") from None
    found = DataFindings(path=path, columns=[str(c) for c in frame.columns], rows_read=len(frame))
    named = [c for c in found.columns if _words(c) & SENSITIVE_WORDS]
    found.sensitive = [c for c in named if frame[c].nunique() <= MAX_GROUPS]
    found.too_many_groups = [c for c in named if c not in found.sensitive]
    found.text_column = _text_column(frame)
    if task == "token_classification":
        found.tags_column = _tags_column(frame, found.text_column)
    elif task in ("binary_classification", "multiclass_classification", "regression"):
        found.label = _label_column(frame, found, model_labels, numeric=task == "regression")
        if found.label is not None and task != "regression":
            found.label_values = sorted(frame[found.label].unique().tolist())
    return found


def _words(column: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", column.lower())) | {column.lower()}


def _text_column(frame: pd.DataFrame) -> str | None:
    """The column of longest values, if they read as text (not codes or categories)."""
    if frame.empty:
        return None
    lengths = {str(c): frame[c].str.len().mean() for c in frame.columns}
    column, length = max(lengths.items(), key=lambda item: item[1])
    return column if length >= TEXT_CHARACTERS else None


def _tags_column(frame: pd.DataFrame, tokens: str | None) -> str | None:
    """A column holding one tag per token of the tokens column, in almost every row."""
    if tokens is None:
        return None
    counts = frame[tokens].map(lambda value: len(value.split()))
    for column in frame.columns:
        if column != tokens and (frame[column].map(lambda value: len(value.split())) == counts).mean() >= 0.95:
            return str(column)
    return None


def _label_column(frame: pd.DataFrame, found: DataFindings, model_labels: list[str], *, numeric: bool) -> str | None:
    """The label column: the one whose values are the model's labels, else one named like a label."""
    taken = {found.text_column, *found.sensitive, *found.too_many_groups}
    candidates = [c for c in found.columns if c not in taken]
    if model_labels:
        wanted = {label.lower() for label in model_labels}
        for column in candidates:
            if {str(v).lower() for v in frame[column].unique()} == wanted:
                return column
    for column in candidates:
        if not _words(column) & LABEL_WORDS:
            continue
        values = frame[column]
        if numeric and pd.to_numeric(values, errors="coerce").notna().all():
            return column
        if not numeric and 2 <= values.nunique() <= MAX_CLASSES:
            return column
    return None
