"""Permutation importance: how much the task's headline metric worsens when one input column is
shuffled, overall and within each group of each sensitive feature.

The shuffles are scikit-learn's: for the same seed, repeat ``r`` of every column reorders the rows
exactly as ``sklearn.inspection.permutation_importance(random_state=seed)`` does, so anyone can
check a figure with scikit-learn on the same rows. Unlike scikit-learn, which calls the model
once per column and repeat, every shuffled copy of the rows is stacked and scored in a few large
calls (batched forward passes), and the bootstrap reuses those predictions: resampling rows needs
no further model call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reporter.extract.fairness import Grouping, group_visibility, groupings
from reporter.extract.metrics import Rows, interval, roc_auc, row_bootstrap_weights, safe_divide
from reporter.extract.multiclass import ClassPredictions, label_metrics
from reporter.facts import (
    ColumnImportanceFacts,
    FeatureImportanceFacts,
    GroupImportanceFacts,
    Interval,
    PermutationImportanceFacts,
)

Scorer = Callable[[pd.DataFrame], np.ndarray]
"""The model as a function of evaluation rows: positive-class probabilities (binary), class
probabilities of shape (rows, classes) (multiclass) or predicted values (regression)."""

CHUNK_ROWS = 8192  # rows per model call: shuffled copies are stacked up to this size


@dataclass(frozen=True)
class HeadlineMetric:
    """The metric importance is measured on, computed under bootstrap weights of shape (B, rows)."""

    name: str
    higher_is_better: bool
    compute: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]  # labels, predictions, weights → (B,)

    def worsening(self, baseline: np.ndarray, shuffled: np.ndarray) -> np.ndarray:
        """Positive when shuffling made the predictions worse, whichever way the metric points."""
        return baseline - shuffled if self.higher_is_better else shuffled - baseline


def _roc_auc(labels: np.ndarray, scores: np.ndarray, w: np.ndarray) -> np.ndarray:
    return roc_auc(Rows(labels=labels, scores=scores, threshold=0.5), w)


def _macro_f1(classes: list[str]) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    def compute(labels: np.ndarray, probabilities: np.ndarray, w: np.ndarray) -> np.ndarray:
        predictions = ClassPredictions(labels=labels, predicted=probabilities.argmax(axis=1), classes=classes)
        return label_metrics(predictions, w, predictions.present)["macro_f1"]

    return compute


def _mean_absolute_error(labels: np.ndarray, predicted: np.ndarray, w: np.ndarray) -> np.ndarray:
    return safe_divide(w @ np.abs(predicted - labels), w.sum(axis=1))


ROC_AUC = HeadlineMetric("roc_auc", True, _roc_auc)
"""Binary classification's importance metric: ROC AUC of the positive-class scores."""
MEAN_ABSOLUTE_ERROR = HeadlineMetric("mean_absolute_error", False, _mean_absolute_error)
"""Regression's importance metric."""


def macro_f1(classes: list[str]) -> HeadlineMetric:
    """Multiclass classification's importance metric: macro F1 over the classes present, as
    scikit-learn's ``f1_macro`` scorer."""
    return HeadlineMetric("macro_f1", True, _macro_f1(classes))


def shuffle_orders(rows: int, *, repeats: int, seed: int) -> np.ndarray:
    """Row orders of shape (repeats, rows): in repeat ``r`` a shuffled column holds the values of
    rows ``orders[r]``. scikit-learn draws one seed from ``seed``, then shuffles an index array in
    place once per repeat, applying each shuffle to the already shuffled column; this replays it."""
    state = np.random.RandomState(np.random.RandomState(seed).randint(np.iinfo(np.int32).max + 1))
    shuffling, current = np.arange(rows), np.arange(rows)
    orders = np.empty((repeats, rows), dtype=np.int64)
    for repeat in range(repeats):
        state.shuffle(shuffling)
        current = current[shuffling]
        orders[repeat] = current
    return orders


@dataclass(frozen=True)
class _Block:
    """One shuffled copy: column ``column`` in repeat ``repeat``, and the rows whose value moved."""

    column: int
    repeat: int
    moved: np.ndarray  # indices of the rows whose shuffled value differs from their own


def _moved_rows(codes: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Rows whose value changes under ``order``, from the column's value codes (a row that receives
    an equal value, or a missing value for a missing one, keeps its input)."""
    return np.flatnonzero(codes[order] != codes)


def shuffled_predictions(
    score_rows: Scorer,
    features: pd.DataFrame,
    orders: np.ndarray,
    baseline: np.ndarray,
    *,
    chunk_rows: int = CHUNK_ROWS,
    on_progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """The model's predictions with each column shuffled in each repeat, shape (columns, repeats,
    rows[, classes]).

    Only rows whose input changed are scored: a row that receives a value equal to its own (half
    the rows of a two-valued column, most rows of a column that is mostly zero) has exactly its
    baseline input, so it keeps its ``baseline`` prediction; the model is assumed to score each row
    independently of the others in a call, as a network in evaluation mode does. The changed rows
    of many copies are stacked and scored ``chunk_rows`` at a time.
    """
    columns = list(features.columns)
    repeats, rows = orders.shape
    codes = [pd.factorize(features[name], use_na_sentinel=False)[0] for name in columns]
    blocks = [_Block(c, r, _moved_rows(codes[c], orders[r])) for c in range(len(columns)) for r in range(repeats)]
    predictions = np.broadcast_to(baseline, (len(columns), repeats, *baseline.shape)).copy()
    total, done = sum(b.moved.size for b in blocks), 0
    for chunk in _chunks(blocks, chunk_rows):
        stacked = {}
        for j, name in enumerate(columns):
            take = np.concatenate([orders[b.repeat][b.moved] if b.column == j else b.moved for b in chunk])
            stacked[name] = features[name].take(take).reset_index(drop=True)
        scores = np.asarray(score_rows(pd.DataFrame(stacked, columns=columns)), dtype=np.float64)
        offset = 0
        for block in chunk:
            predictions[block.column, block.repeat, block.moved] = scores[offset : offset + block.moved.size]
            offset += block.moved.size
        done += offset
        if on_progress is not None:
            on_progress(done, total)
    return predictions


def _chunks(blocks: list[_Block], chunk_rows: int) -> list[list[_Block]]:
    """Consecutive blocks with changed rows, grouped up to ``chunk_rows`` rows (a larger block alone)."""
    chunks: list[list[_Block]] = []
    size = 0
    for block in (b for b in blocks if b.moved.size):
        if not chunks or size + block.moved.size > chunk_rows:
            chunks.append([])
            size = 0
        chunks[-1].append(block)
        size += block.moved.size
    return chunks


@dataclass(frozen=True)
class _Importance:
    baseline: Interval
    columns: list[ColumnImportanceFacts]


def _importance(
    metric: HeadlineMetric,
    labels: np.ndarray,
    baseline: np.ndarray,
    shuffled: np.ndarray,
    columns: list[str],
    *,
    samples: int,
    seed: int,
) -> _Importance:
    """Mean worsening over the repeats per column, with a bootstrap interval over the rows (every
    replicate reweights the same predictions, so no model call is repeated)."""
    point = np.ones((1, labels.size))
    base_point = metric.compute(labels, baseline, point)
    per_repeat = np.array(
        [[metric.worsening(base_point, metric.compute(labels, p, point))[0] for p in column] for column in shuffled]
    )
    replicates: list[np.ndarray] = []
    base_replicates: list[np.ndarray] = []
    if samples and labels.size:
        for w in row_bootstrap_weights(labels.size, samples=samples, seed=seed):
            base = metric.compute(labels, baseline, w)
            drops = [
                np.mean([metric.worsening(base, metric.compute(labels, p, w)) for p in col], axis=0) for col in shuffled
            ]
            replicates.append(np.stack(drops, axis=1))
            base_replicates.append(base)
    stacked = np.concatenate(replicates) if replicates else None
    facts = []
    for index, column in enumerate(columns):
        values = per_repeat[index]
        finite = values[np.isfinite(values)]
        facts.append(
            ColumnImportanceFacts(
                column=column,
                importance=interval(float(np.mean(values)), None if stacked is None else stacked[:, index]),
                repeat_std=float(np.std(finite)) if finite.size == values.size else None,
            )
        )
    base_stacked = np.concatenate(base_replicates) if base_replicates else None
    return _Importance(baseline=interval(float(base_point[0]), base_stacked), columns=facts)


def _or_lowest(value: float | None) -> float:
    return -np.inf if value is None else value


def _feature_importance(
    grouping: Grouping,
    metric: HeadlineMetric,
    labels: np.ndarray,
    baseline: np.ndarray,
    shuffled: np.ndarray,
    columns: list[str],
    *,
    min_group_size: int,
    privacy_threshold: int,
    samples: int,
    seed: int,
) -> FeatureImportanceFacts:
    """Importance within each group: the same shuffled predictions, scored on the group's rows."""
    shown = group_visibility(
        grouping, reference=None, min_group_size=min_group_size, privacy_threshold=privacy_threshold
    )
    groups = []
    for name, count in shown.visible:
        if name not in shown.reportable:
            groups.append(
                GroupImportanceFacts(group=name, count=count, status="insufficient_data", baseline=None, columns=[])
            )
            continue
        mask = grouping.codes == grouping.names.index(name)
        found = _importance(
            metric, labels[mask], baseline[mask], shuffled[:, :, mask], columns, samples=samples, seed=seed
        )
        groups.append(
            GroupImportanceFacts(
                group=name, count=count, status="reported", baseline=found.baseline, columns=found.columns
            )
        )
    return FeatureImportanceFacts(feature=grouping.feature, groups=groups, suppressed_groups=shown.suppressed)


def explained_rows(rows: int, *, sample: int | None, seed: int) -> np.ndarray:
    """Indices of the rows to explain: all, or a seeded sample in the evaluation file's order."""
    if sample is None or sample >= rows:
        return np.arange(rows)
    return np.sort(np.random.default_rng(seed).choice(rows, size=sample, replace=False))


def extract_permutation_importance(
    score_rows: Scorer,
    *,
    features: pd.DataFrame,
    labels: np.ndarray,
    sensitive: pd.DataFrame,
    metric: HeadlineMetric,
    repeats: int,
    seed: int,
    sampled: bool,
    min_group_size: int,
    privacy_threshold: int,
    samples: int,
    on_progress: Callable[[int, int], None] | None = None,
) -> PermutationImportanceFacts:
    """Permutation importance of every input column of ``features``, overall and per group of each
    sensitive feature (and their intersection), on the task's headline metric."""
    features = features.reset_index(drop=True)
    columns = [str(c) for c in features.columns]
    baseline = np.asarray(score_rows(features), dtype=np.float64)
    orders = shuffle_orders(len(features), repeats=repeats, seed=seed)
    shuffled = shuffled_predictions(score_rows, features, orders, baseline, on_progress=on_progress)
    overall = _importance(metric, labels, baseline, shuffled, columns, samples=samples, seed=seed)
    ranked = sorted(
        range(len(columns)),
        key=lambda i: (-_or_lowest(overall.columns[i].importance.value), columns[i]),
    )
    by_group = [
        _feature_importance(
            grouping,
            metric,
            labels,
            baseline,
            shuffled[ranked],
            [columns[i] for i in ranked],
            min_group_size=min_group_size,
            privacy_threshold=privacy_threshold,
            samples=samples,
            seed=seed,
        )
        for grouping in groupings(sensitive.reset_index(drop=True))
    ]
    return PermutationImportanceFacts(
        metric=metric.name,
        higher_is_better=metric.higher_is_better,
        rows=len(features),
        sampled=sampled,
        repeats=repeats,
        seed=seed,
        bootstrap_samples=samples,
        min_group_size=min_group_size,
        baseline=overall.baseline,
        columns=[overall.columns[i] for i in ranked],
        by_group=by_group,
    )
