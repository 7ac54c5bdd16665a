"""Train–test overlap of labelled rows: which evaluation rows also occur in the training source.

A row the model was trained on says little about how it does on rows it has not seen, and public
benchmark files share rows (UCI Adult's training and test files do). Rows are compared on the
model's input columns after one normalisation (:data:`NORMALISATION`), twice: with the label (the
same example) and without it (the same inputs, whatever the label). Each distinct value is
normalised once and coded as an integer, and each row becomes one 64-bit hash of its codes
(pandas' `hash_pandas_object`), so that a million training rows are compared in one pass instead
of a merge on every column; the tests check the counts against a pandas merge on the normalised
rows.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from reporter.datasets import LabelledData
from reporter.facts.base import Interval, NotReported
from reporter.facts.data import NearDuplicateFacts, OverlapCount, OverlapFacts, OverlapFigure

NORMALISATION = (
    "each value compared as text: a column that holds numbers in both sources as 64-bit floats (39 and "
    "39.0 are one value), any other stripped, case-folded and with each run of white space made one "
    "space; a missing value as empty; the label as the class the spec reads it as (`>50K` and `>50K.` "
    "are one label when both are positive labels)"
)
if TYPE_CHECKING:
    from reporter.tasks.token_classification_measures import Sentences

Z_95 = NormalDist().inv_cdf(0.975)
NO_DATASKETCH = (
    "near-duplicate texts are searched with datasketch, which is not installed; "
    "install the `overlap` extra (pip install 'reporter[overlap]')"
)


def normalised_values(values: pd.Series, *, numeric: bool) -> pd.Series:
    """Values as :data:`NORMALISATION` compares them: as number text, or as normalised text."""
    if numeric:
        return values.astype("float64").map(lambda v: "" if np.isnan(v) else repr(float(v))).reset_index(drop=True)
    text = values.astype("string").str.strip().str.casefold().str.replace(r"\s+", " ", regex=True)
    return text.fillna("").astype(str).reset_index(drop=True)


def value_codes(train: pd.DataFrame, evaluation: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per source, one integer code per cell, equal exactly when the normalised values are equal.

    Each distinct raw value of a column is normalised once and the cells take its code, so a
    census column of a million rows costs a factorisation and a few dozen normalisations, not a
    million string operations."""
    train_codes, evaluation_codes = [], []
    for column in evaluation.columns:
        numeric = pd.api.types.is_numeric_dtype(train[column]) and pd.api.types.is_numeric_dtype(evaluation[column])
        both = pd.concat([train[column], evaluation[column]], ignore_index=True)
        raw, uniques = pd.factorize(both.astype("float64") if numeric else both)  # a missing value: -1
        normal = pd.concat([normalised_values(pd.Series(uniques), numeric=numeric), pd.Series([""])])
        merged, _ = pd.factorize(normal.to_numpy())  # one code per normalised value; missing is ""
        codes = merged[np.where(raw < 0, len(uniques), raw)]
        train_codes.append(codes[: len(train)])
        evaluation_codes.append(codes[len(train) :])
    return np.column_stack(train_codes), np.column_stack(evaluation_codes)


def row_keys(codes: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """One 64-bit hash per row of value codes (and its label, when given)."""
    columns = {str(i): codes[:, i] for i in range(codes.shape[1])}
    if labels is not None:
        columns["label"] = labels.astype("float64")
    return pd.util.hash_pandas_object(pd.DataFrame(columns), index=False).to_numpy()


def overlap_masks(train: LabelledData, evaluation: LabelledData) -> tuple[np.ndarray, np.ndarray]:
    """Per evaluation row: whether an identical training row exists with its label, and without it."""
    train_rows, evaluation_rows = value_codes(train.features, evaluation.features)
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
    return (0.0 if successes == 0 else max(0.0, centre - half)), (
        1.0 if successes == total else min(1.0, centre + half)
    )


def extract_overlap(
    train: LabelledData,
    evaluation: LabelledData,
    *,
    sources: tuple[str, str],
    headline: dict[str, Interval],
    figures_on: Callable[[np.ndarray], dict[str, Interval]],
    text_column: str | None = None,
    normalisation: str = NORMALISATION,
    privacy_threshold: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> OverlapFacts:
    """The overlap of the evaluation rows with the training rows, and the overall figures (by
    metric) over the rows that do not overlap (``figures_on(kept)`` evaluates the model's task on the
    rows ``kept`` selects), beside the ``headline`` figures. With a ``text_column`` (free text the
    model reads), its near-duplicates count as overlap too. With a ``privacy_threshold``, a few
    overlapping rows are kept as examples (:func:`overlap_examples`); without one, none are."""
    with_label, features_only = overlap_masks(train, evaluation)
    near = None if text_column is None else _near_duplicates(train, evaluation, text_column, on_progress)
    kept = ~features_only if near is None or near[1] is None else ~(features_only | near[1])
    without: list[OverlapFigure] = []
    if kept.any() and not kept.all():
        without = [
            OverlapFigure(metric=metric, value=f.value, low=f.low, high=f.high, headline=headline[metric].value)
            for metric, f in figures_on(kept).items()
            if f.value is not None and metric in headline and headline[metric].value is not None
        ]
    return OverlapFacts(
        train_source=sources[0],
        evaluation_source=sources[1],
        columns=[str(c) for c in evaluation.features.columns],
        normalisation=normalisation,
        train_rows=len(train.labels),
        evaluation_rows=len(evaluation.labels),
        with_label=counted(with_label),
        features_only=counted(features_only),
        near_duplicates=None if near is None else near[0],
        examples=[] if privacy_threshold is None else overlap_examples(evaluation, features_only, privacy_threshold),
        examples_rule=None if privacy_threshold is None else EXAMPLES_RULE,
        unseen_rows=int(kept.sum()),
        without_overlap=without,
    )


EXAMPLES = 3
EXAMPLES_RULE = (
    f"the first {EXAMPLES} evaluation rows (in file order) whose inputs occur in training, leaving out any row in a "
    "group of a sensitive feature smaller than the privacy threshold; values of a column that looks like a direct "
    "identifier are withheld"
)


def overlap_examples(evaluation: LabelledData, overlapping: np.ndarray, privacy_threshold: int) -> list[dict[str, str]]:
    """A few overlapping rows as text, by :data:`EXAMPLES_RULE`: a row of a small group could point
    to a person, and an identifier's value is never published."""
    from reporter.extract.identifiers import find_identifiers

    allowed = overlapping.copy()
    for column in evaluation.sensitive.columns:
        groups = evaluation.sensitive[column].astype("string").fillna("(missing)")
        sizes = groups.map(groups.value_counts()).to_numpy()
        allowed &= sizes >= privacy_threshold
    withheld = {f.column: f.kind for f in find_identifiers(evaluation.features)}
    rows = evaluation.features.iloc[np.flatnonzero(allowed)[:EXAMPLES]]
    return [
        {
            str(column): f"(withheld: {withheld[str(column)]})" if str(column) in withheld else _as_text(value)
            for column, value in row.items()
        }
        for _, row in rows.iterrows()
    ]


def _as_text(value: object) -> str:
    return "" if pd.isna(value) else str(value)  # type: ignore[call-overload]


def _near_duplicates(
    train: LabelledData, evaluation: LabelledData, column: str, on_progress: Callable[[int, int], None] | None
) -> tuple[NearDuplicateFacts | NotReported, np.ndarray | None]:
    """The evaluation rows whose text in ``column`` has a near-duplicate in training, as facts and
    as a mask; why not, without the `overlap` extra."""
    from reporter.extract import near_duplicates as near

    if importlib.util.find_spec("datasketch") is None:
        return NotReported(not_reported=NO_DATASKETCH), None

    def texts(data: LabelledData) -> list[str]:
        return normalised_values(data.features[column], numeric=False).tolist()

    found = near.near_duplicate_mask(texts(train), texts(evaluation), on_progress=on_progress)
    facts = NearDuplicateFacts(
        column=column,
        method=near.describe(),
        shingle_words=near.SHINGLE_WORDS,
        threshold=near.THRESHOLD,
        permutations=near.PERMUTATIONS,
        miss_probability=found.miss_probability,
        count=counted(found.mask),
    )
    return facts, found.mask


def sentence_rows(sentences: Sentences, column: str, tag_codes: dict[str, int]) -> LabelledData:
    """Tagged sentences as rows to compare: the tokens joined by spaces as the one feature, the tags
    (joined, coded by ``tag_codes``, which both sources share) as the label."""
    joined_tags = [" ".join(tags) for tags in sentences.tags]
    for tags in joined_tags:
        tag_codes.setdefault(tags, len(tag_codes))
    return LabelledData(
        features=pd.DataFrame({column: [" ".join(tokens) for tokens in sentences.tokens]}),
        labels=np.array([tag_codes[tags] for tags in joined_tags], dtype=np.int64),
        sensitive=pd.DataFrame(index=range(len(sentences.tokens))),
    )
