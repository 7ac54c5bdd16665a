"""Binary classification metrics with seeded bootstrap intervals.

Every metric is written once, as a function of weights ``W`` (shape ``(B, units)``): the point
estimate uses one weight per row and bootstrap replicate ``b`` uses the number of times each row
was drawn in that replicate. Drawing counts is the same distribution as resampling rows with
replacement, so the intervals are an ordinary nonparametric row bootstrap, computed as matrix
products instead of a Python loop, and the point estimate and the intervals can never disagree on
what a metric means.

Above :data:`ROW_BOOTSTRAP_LIMIT` rows, replicates are drawn over *cells* instead of rows: rows
that share a stratum, a label and a score bin are counted together, and a replicate draws cell
counts from a multinomial with the cells' shares. The summed row counts of a cell under a row
bootstrap have exactly that distribution, so every confusion-matrix metric and the calibration
error (cells never straddle the decision threshold or a calibration bin) are resampled exactly;
AUC, log loss and Brier score use the cell's mean score and losses, which at 1,024 score bins
moves their intervals by far less than their width. Point estimates always use every row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from reporter.facts import CalibrationBin, ConfusionFacts, Interval, NotReported, PerformanceFacts

BOOTSTRAP_SAMPLES = 1000
CALIBRATION_BINS = 10
MAX_WEIGHT_CELLS = 20_000_000  # B×n weights per chunk (~160 MB of float64)
ROW_BOOTSTRAP_LIMIT = 100_000
SCORE_BINS = 1024

Metric = Callable[["Rows", np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Rows:
    """Labels, scores and decisions of the units a metric is computed on: rows, or cells of rows.

    For cells, ``counts`` holds how many rows each stands for and the loss arrays hold the mean
    per-row losses of the cell (the loss of a mean score is not the mean loss).
    """

    labels: np.ndarray  # 0/1
    scores: np.ndarray  # probability of the positive class; 0/1 decisions when not ``scored``
    threshold: float
    scored: bool = True  # False: the model gave labels only, so score-based metrics are undefined
    counts: np.ndarray | None = None
    mean_log_losses: np.ndarray | None = None
    mean_squared_errors: np.ndarray | None = None

    @cached_property
    def decisions(self) -> np.ndarray:
        return (self.scores >= self.threshold).astype(np.int8)

    @cached_property
    def order(self) -> np.ndarray:
        """Indices that sort the units by score (computed once, shared by every AUC)."""
        return np.argsort(self.scores, kind="stable")

    @cached_property
    def tie_runs(self) -> np.ndarray:
        """For the units in score order, the index of their run of equal scores."""
        ordered = self.scores[self.order]
        return np.cumsum(np.r_[True, ordered[1:] != ordered[:-1]]) - 1

    @property
    def log_losses(self) -> np.ndarray:
        if self.mean_log_losses is not None:
            return self.mean_log_losses
        eps = np.finfo(np.float64).eps  # clipped as scikit-learn does
        p = np.clip(self.scores.astype(np.float64), eps, 1 - eps)
        return -(self.labels * np.log(p) + (1 - self.labels) * np.log1p(-p))

    @property
    def squared_errors(self) -> np.ndarray:
        if self.mean_squared_errors is not None:
            return self.mean_squared_errors
        return (self.scores - self.labels) ** 2

    @property
    def weights(self) -> np.ndarray:
        """The point-estimate weights: one per row, or each cell's row count."""
        return (np.ones(self.labels.size) if self.counts is None else self.counts.astype(np.float64))[None, :]

    def subset(self, mask: np.ndarray) -> Rows:
        def pick(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[mask]

        return Rows(
            labels=self.labels[mask],
            scores=self.scores[mask],
            threshold=self.threshold,
            scored=self.scored,
            counts=pick(self.counts),
            mean_log_losses=pick(self.mean_log_losses),
            mean_squared_errors=pick(self.mean_squared_errors),
        )


def sampling_units(rows: Rows, strata: np.ndarray) -> tuple[Rows, np.ndarray]:
    """The units replicates are drawn over, and the stratum of each: the rows themselves up to
    :data:`ROW_BOOTSTRAP_LIMIT`, else cells of rows sharing stratum, label and score bin."""
    if rows.labels.size <= ROW_BOOTSTRAP_LIMIT:
        return rows, strata
    quantiles = np.quantile(rows.scores, np.linspace(0, 1, SCORE_BINS + 1)[1:-1])
    forced = [rows.threshold, *(np.arange(1, CALIBRATION_BINS) / CALIBRATION_BINS)]
    edges = np.unique(np.concatenate([quantiles, forced]))
    score_bin = np.searchsorted(edges, rows.scores, side="right")
    key = (strata.astype(np.int64) * 2 + rows.labels) * (edges.size + 1) + score_bin
    cells, first, inverse, counts = np.unique(key, return_index=True, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)

    def cell_mean(values: np.ndarray) -> np.ndarray:
        return np.bincount(inverse, weights=values, minlength=cells.size) / counts

    units = Rows(
        labels=rows.labels[first],
        scores=cell_mean(rows.scores),
        threshold=rows.threshold,
        scored=rows.scored,
        counts=counts,
        mean_log_losses=cell_mean(rows.log_losses),
        mean_squared_errors=cell_mean(rows.squared_errors),
    )
    return units, strata[first]


def bootstrap_weights(units: Rows, *, samples: int, seed: int) -> Iterator[np.ndarray]:
    """Yield unit-count matrices for ``samples`` bootstrap replicates, in memory-bounded chunks."""
    if units.counts is None:
        yield from row_bootstrap_weights(units.labels.size, samples=samples, seed=seed)
        return
    rng = np.random.default_rng(seed)
    total = int(units.counts.sum())
    chunk = max(1, MAX_WEIGHT_CELLS // max(units.counts.size, 1))
    for start in range(0, samples, chunk):
        yield rng.multinomial(total, units.counts / total, size=min(chunk, samples - start)).astype(np.float64)


def row_bootstrap_weights(n: int, *, samples: int, seed: int) -> Iterator[np.ndarray]:
    """Yield, in memory-bounded chunks, how often each of ``n`` rows is drawn in each replicate."""
    rng = np.random.default_rng(seed)
    chunk = max(1, MAX_WEIGHT_CELLS // max(n, 1))
    for start in range(0, samples, chunk):
        rows = min(chunk, samples - start)
        draws = rng.integers(0, n, size=(rows, n)) + (np.arange(rows) * n)[:, None]
        yield np.bincount(draws.ravel(), minlength=rows * n).reshape(rows, n).astype(np.float64)


def safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Elementwise ratio, NaN where the denominator is zero (the metric is undefined there)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


def weighted_sums(codes: np.ndarray, values: np.ndarray | None, weights: np.ndarray, size: int) -> np.ndarray:
    """Per-code sums of ``values`` (or counts) under each row of ``weights``: shape (B, size).

    One weight row (a point estimate) is a ``bincount``; many (bootstrap replicates over at most
    a few thousand units) a product with a one-hot matrix.
    """
    if weights.shape[0] == 1:
        per_row = weights[0] if values is None else weights[0] * values
        return np.bincount(codes, weights=per_row, minlength=size)[None, :]
    one_hot = np.zeros((codes.size, size))
    one_hot[np.arange(codes.size), codes] = 1.0 if values is None else values
    return weights @ one_hot


def _cells(rows: Rows, weights: np.ndarray) -> tuple[np.ndarray, ...]:
    """Weighted confusion-matrix cells (tp, fp, tn, fn), each of shape (B,)."""
    code = (1 - rows.labels.astype(np.int64)) * 2 + (1 - rows.decisions.astype(np.int64))  # tp, fp, fn, tn
    tp, fn, fp, tn = weighted_sums(code, None, weights, 4).T
    return tp, fp, tn, fn


def accuracy(rows: Rows, w: np.ndarray) -> np.ndarray:
    tp, fp, tn, fn = _cells(rows, w)
    return safe_divide(tp + tn, tp + fp + tn + fn)


def true_positive_rate(rows: Rows, w: np.ndarray) -> np.ndarray:
    tp, _, _, fn = _cells(rows, w)
    return safe_divide(tp, tp + fn)


def false_positive_rate(rows: Rows, w: np.ndarray) -> np.ndarray:
    _, fp, tn, _ = _cells(rows, w)
    return safe_divide(fp, fp + tn)


def false_negative_rate(rows: Rows, w: np.ndarray) -> np.ndarray:
    tp, _, _, fn = _cells(rows, w)
    return safe_divide(fn, tp + fn)


def precision(rows: Rows, w: np.ndarray) -> np.ndarray:
    tp, fp, _, _ = _cells(rows, w)
    return safe_divide(tp, tp + fp)


def selection_rate(rows: Rows, w: np.ndarray) -> np.ndarray:
    tp, fp, tn, fn = _cells(rows, w)
    return safe_divide(tp + fp, tp + fp + tn + fn)


def base_rate(rows: Rows, w: np.ndarray) -> np.ndarray:
    tp, fp, tn, fn = _cells(rows, w)
    return safe_divide(tp + fn, tp + fp + tn + fn)


def balanced_accuracy(rows: Rows, w: np.ndarray) -> np.ndarray:
    tp, fp, tn, fn = _cells(rows, w)
    return (safe_divide(tp, tp + fn) + safe_divide(tn, tn + fp)) / 2


def f1(rows: Rows, w: np.ndarray) -> np.ndarray:
    tp, fp, _, fn = _cells(rows, w)
    return safe_divide(2 * tp, 2 * tp + fp + fn)


def log_loss(rows: Rows, w: np.ndarray) -> np.ndarray:
    """Mean negative log-likelihood; scores are clipped to [eps, 1 - eps] as scikit-learn does."""
    return safe_divide(w @ rows.log_losses, w.sum(axis=1))


def brier_score(rows: Rows, w: np.ndarray) -> np.ndarray:
    return safe_divide(w @ rows.squared_errors, w.sum(axis=1))


def _calibration_cells(rows: Rows, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted count, score sum and positive count per calibration bin, each of shape (B, bins)."""
    bins = np.minimum((rows.scores * CALIBRATION_BINS).astype(np.int64), CALIBRATION_BINS - 1)
    # Score sums use each unit's mean score times its draws (exact for rows).
    return (
        weighted_sums(bins, None, w, CALIBRATION_BINS),
        weighted_sums(bins, rows.scores.astype(np.float64), w, CALIBRATION_BINS),
        weighted_sums(bins, rows.labels.astype(np.float64), w, CALIBRATION_BINS),
    )


def expected_calibration_error(rows: Rows, w: np.ndarray) -> np.ndarray:
    """ECE over 10 equal-width score bins: Σ (n_b / n) · |mean score_b − positive fraction_b|."""
    counts, score_sums, positive_sums = _calibration_cells(rows, w)
    gaps = np.abs(score_sums - positive_sums)  # n_b · |mean score − positive fraction|
    return safe_divide(gaps.sum(axis=1), counts.sum(axis=1))


def roc_auc(rows: Rows, w: np.ndarray) -> np.ndarray:
    """Area under the ROC curve as the weighted Mann–Whitney statistic (ties count one half)."""
    order, runs = rows.order, rows.tie_runs
    positive = rows.labels[order].astype(np.float64)
    if w.shape[0] == 1:
        weights = w[0, order]
        pos = np.bincount(runs, weights=weights * positive)[None, :]
        neg = np.bincount(runs, weights=weights * (1 - positive))[None, :]
    else:
        starts = np.flatnonzero(np.r_[True, runs[1:] != runs[:-1]])
        pos = np.add.reduceat(w[:, order] * positive, starts, axis=1)
        neg = np.add.reduceat(w[:, order] * (1 - positive), starts, axis=1)
    negatives_below = np.cumsum(neg, axis=1) - neg
    wins = (pos * (negatives_below + 0.5 * neg)).sum(axis=1)
    return safe_divide(wins, pos.sum(axis=1) * neg.sum(axis=1))


def estimate(metric: Metric, rows: Rows, *, samples: int, seed: int) -> Interval:
    """Point estimate and bootstrap 95 % percentile interval of one metric."""
    return estimate_many({"m": metric}, rows, samples=samples, seed=seed)["m"]


def estimate_many(metrics: dict[str, Metric], rows: Rows, *, samples: int, seed: int) -> dict[str, Interval]:
    """Several metrics on the same bootstrap replicates (so their intervals are comparable)."""
    points = {name: float(m(rows, rows.weights)[0]) for name, m in metrics.items()}
    replicates: dict[str, list[np.ndarray]] = {name: [] for name in metrics}
    if samples and rows.labels.size:
        units, _ = sampling_units(rows, np.zeros(rows.labels.size, dtype=np.int64))
        for w in bootstrap_weights(units, samples=samples, seed=seed):
            for name, m in metrics.items():
                replicates[name].append(m(units, w))
    return {
        name: interval(points[name], np.concatenate(replicates[name]) if replicates[name] else None) for name in metrics
    }


def interval(point: float, replicates: np.ndarray | None) -> Interval:
    """Wrap a point estimate and its replicates; undefined values become None, not NaN."""
    value = None if np.isnan(point) else point
    if replicates is None or np.isnan(replicates).all():
        return Interval(value=value)
    low, high = np.nanpercentile(replicates, [2.5, 97.5])
    return Interval(value=value, low=float(low), high=float(high))


PERFORMANCE_METRICS: dict[str, Metric] = {
    "accuracy": accuracy,
    "balanced_accuracy": balanced_accuracy,
    "precision": precision,
    "recall": true_positive_rate,
    "f1": f1,
    "roc_auc": roc_auc,
    "log_loss": log_loss,
    "brier_score": brier_score,
    "expected_calibration_error": expected_calibration_error,
}


def calibration_bins(rows: Rows) -> list[CalibrationBin]:
    """The reliability diagram's data: per score bin, count, mean score and positive fraction."""
    counts, score_sums, positive_sums = (c[0] for c in _calibration_cells(rows, rows.weights))
    return [
        CalibrationBin(
            lower=b / CALIBRATION_BINS,
            upper=(b + 1) / CALIBRATION_BINS,
            count=int(counts[b]),
            mean_score=float(score_sums[b] / counts[b]) if counts[b] else None,
            positive_fraction=float(positive_sums[b] / counts[b]) if counts[b] else None,
        )
        for b in range(CALIBRATION_BINS)
    ]


SCORE_METRICS = ("roc_auc", "log_loss", "brier_score", "expected_calibration_error")
LABELS_ONLY = "the model's predictions are labels without scores"


def extract_performance(rows: Rows, *, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0) -> PerformanceFacts:
    """Overall performance of the model on the evaluation rows (label metrics only for label predictions)."""
    wanted = {n: m for n, m in PERFORMANCE_METRICS.items() if rows.scored or n not in SCORE_METRICS}
    estimates: dict[str, Interval | NotReported] = dict(estimate_many(wanted, rows, samples=samples, seed=seed))
    if not rows.scored:
        estimates.update({n: NotReported(not_reported=LABELS_ONLY) for n in SCORE_METRICS})
    tp, fp, tn, fn = (int(c[0]) for c in _cells(rows, rows.weights))
    calibration = calibration_bins(rows) if rows.scored else []
    return PerformanceFacts(
        rows=int(rows.labels.size),
        predictions="scores" if rows.scored else "labels",
        threshold=rows.threshold if rows.scored else None,
        confusion=ConfusionFacts(true_positive=tp, false_positive=fp, true_negative=tn, false_negative=fn),
        calibration=calibration,
        **estimates,
    )
