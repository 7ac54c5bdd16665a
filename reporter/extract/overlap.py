"""Train–test overlap of labelled rows: which evaluation rows also occur in the training source.

A row the model was trained on says little about how it does on rows it has not seen, and public
benchmark files share rows (UCI Adult's training and test files do). Rows are compared on the
model's input columns after one normalisation (:data:`NORMALISATION`), twice: with the label (the
same example) and without it (the same inputs, whatever the label). Each row becomes one 64-bit
hash of its normalised values (pandas' `hash_pandas_object`), so that a million training rows
are compared in one pass instead of a merge on every column; the tests check the counts against
a pandas merge on the normalised rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist

import numpy as np
import pandas as pd

from reporter.datasets import LabelledData
from reporter.facts.base import Interval
from reporter.facts.data import OverlapCount, OverlapFacts, OverlapFigure

NORMALISATION = (
    "each value compared as text: a column that holds numbers in both sources as 64-bit floats (39 and "
    "39.0 are one value), any other stripped, case-folded and with each run of white space made one "
    "space; a missing value as empty; the label as the class the spec reads it as (`>50K` and `>50K.` "
    "are one label when both are positive labels)"
)
Z_95 = NormalDist().inv_cdf(0.975)
SEPARATOR = "\x1f"
"""Between a row's values in the text that is hashed (the ASCII unit separator, which data rarely holds)."""


def normalised_rows(train: pd.DataFrame, evaluation: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both sources' columns as normalised text, column by column, as :data:`NORMALISATION` says."""
    columns: dict[str, tuple[pd.Series, pd.Series]] = {}
    for column in evaluation.columns:
        first, second = train[column], evaluation[column]
        numeric = pd.api.types.is_numeric_dtype(first) and pd.api.types.is_numeric_dtype(second)
        columns[column] = (
            (_as_number_text(first), _as_number_text(second)) if numeric else (_text(first), _text(second))
        )
    return (
        pd.DataFrame({c: pair[0] for c, pair in columns.items()}),
        pd.DataFrame({c: pair[1] for c, pair in columns.items()}),
    )


def _as_number_text(values: pd.Series) -> pd.Series:
    return values.astype("float64").map(lambda v: "" if np.isnan(v) else repr(float(v))).reset_index(drop=True)


def _text(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip().str.casefold().str.replace(r"\s+", " ", regex=True)
    return text.fillna("").astype(str).reset_index(drop=True)


def row_keys(rows: pd.DataFrame, labels: np.ndarray | None = None) -> np.ndarray:
    """One 64-bit hash per row of normalised values (and its label, when given)."""
    keyed = rows if labels is None else rows.assign(**{SEPARATOR: [repr(v) for v in labels.tolist()]})
    return pd.util.hash_pandas_object(keyed, index=False).to_numpy()


def overlap_masks(train: LabelledData, evaluation: LabelledData) -> tuple[np.ndarray, np.ndarray]:
    """Per evaluation row: whether an identical training row exists with its label, and without it."""
    train_rows, evaluation_rows = normalised_rows(train.features, evaluation.features)
    with_label = np.isin(row_keys(evaluation_rows, evaluation.labels), row_keys(train_rows, train.labels))
    features_only = np.isin(row_keys(evaluation_rows), row_keys(train_rows))
    return with_label, features_only


def counted(mask: np.ndarray) -> OverlapCount:
    """The overlapping rows, their share and its 95 % Wilson score interval."""
    rows, total = int(mask.sum()), len(mask)
    low, high = wilson_interval(rows, total)
    return OverlapCount(rows=rows, share=rows / total, low=low, high=high)


def wilson_interval(successes: int, total: int) -> tuple[float, float]:
    """The 95 % Wilson score interval of a proportion: unlike the normal approximation, it stays
    inside [0, 1] and is not empty when no row (or every row) overlaps."""
    share = successes / total
    spread = Z_95**2 / total
    centre = (share + spread / 2) / (1 + spread)
    half = Z_95 * math.sqrt(share * (1 - share) / total + spread / (4 * total)) / (1 + spread)
    return max(0.0, centre - half), min(1.0, centre + half)


def extract_overlap(
    train: LabelledData,
    evaluation: LabelledData,
    *,
    sources: tuple[str, str],
    headline: dict[str, Interval],
    figures_on: Callable[[np.ndarray], dict[str, Interval]],
) -> OverlapFacts:
    """The overlap of the evaluation rows with the training rows, and the overall figures (by
    metric) over the rows whose inputs never occur in training (``figures_on(kept)`` evaluates the
    model's task on the rows ``kept`` selects), beside the ``headline`` figures."""
    with_label, features_only = overlap_masks(train, evaluation)
    kept = ~features_only
    without: list[OverlapFigure] = []
    if kept.any() and features_only.any():
        without = [
            OverlapFigure(metric=metric, value=f.value, low=f.low, high=f.high, headline=headline[metric].value)
            for metric, f in figures_on(kept).items()
            if f.value is not None and metric in headline and headline[metric].value is not None
        ]
    return OverlapFacts(
        train_source=sources[0],
        evaluation_source=sources[1],
        columns=[str(c) for c in evaluation.features.columns],
        normalisation=NORMALISATION,
        train_rows=len(train.labels),
        evaluation_rows=len(evaluation.labels),
        with_label=counted(with_label),
        features_only=counted(features_only),
        without_overlap=without,
    )
