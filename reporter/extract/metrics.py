"""Binary classification metrics with seeded bootstrap intervals.

Every metric is written once, as a function of row weights ``W`` (shape ``(B, n)``): the point
estimate uses all-ones weights and bootstrap replicate ``b`` uses the number of times each row was
drawn in that replicate. Drawing counts is the same distribution as resampling rows with
replacement, so the intervals are an ordinary nonparametric row bootstrap, computed as matrix
products instead of a Python loop, and the point estimate and the intervals can never disagree on
what a metric means.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from reporter.facts import CalibrationBin, ConfusionFacts, Interval, PerformanceFacts

BOOTSTRAP_SAMPLES = 1000
CALIBRATION_BINS = 10
MAX_WEIGHT_CELLS = 20_000_000  # B×n weights per chunk (~160 MB of float64)

Metric = Callable[["Rows", np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Rows:
    """Labels, scores and decisions of the rows a metric is computed on."""

    labels: np.ndarray  # 0/1
    scores: np.ndarray  # probability of the positive class
    threshold: float

    @property
    def decisions(self) -> np.ndarray:
        return (self.scores >= self.threshold).astype(np.int8)

    def subset(self, mask: np.ndarray) -> Rows:
        return Rows(labels=self.labels[mask], scores=self.scores[mask], threshold=self.threshold)


def bootstrap_weights(n: int, *, samples: int, seed: int) -> Iterator[np.ndarray]:
    """Yield row-count matrices for ``samples`` bootstrap replicates, in memory-bounded chunks."""
    rng = np.random.default_rng(seed)
    chunk = max(1, MAX_WEIGHT_CELLS // max(n, 1))
    for start in range(0, samples, chunk):
        rows = min(chunk, samples - start)
        draws = rng.integers(0, n, size=(rows, n)) + (np.arange(rows) * n)[:, None]
        yield np.bincount(draws.ravel(), minlength=rows * n).reshape(rows, n).astype(np.float64)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


def _cells(rows: Rows, weights: np.ndarray) -> tuple[np.ndarray, ...]:
    y, d = rows.labels.astype(bool), rows.decisions.astype(bool)
    indicators = np.stack([y & d, ~y & d, ~y & ~d, y & ~d], axis=1).astype(np.float64)
    tp, fp, tn, fn = (weights @ indicators).T
    return tp, fp, tn, fn


def accuracy(rows: Rows, w: np.ndarray) -> np.ndarray:
    tp, fp, tn, fn = _cells(rows, w)
    return _ratio(tp + tn, tp + fp + tn + fn)


def true_positive_rate(rows: Rows, w: np.ndarray) -> np.ndarray:
    tp, _, _, fn = _cells(rows, w)
    return _ratio(tp, tp + fn)


def false_positive_rate(rows: Rows, w: np.ndarray) -> np.ndarray:
    _, fp, tn, _ = _cells(rows, w)
    return _ratio(fp, fp + tn)


def false_negative_rate(rows: Rows, w: np.ndarray) -> np.ndarray:
    tp, _, _, fn = _cells(rows, w)
    return _ratio(fn, tp + fn)


def precision(rows: Rows, w: np.ndarray) -> np.ndarray:
    tp, fp, _, _ = _cells(rows, w)
    return _ratio(tp, tp + fp)


def selection_rate(rows: Rows, w: np.ndarray) -> np.ndarray:
    tp, fp, tn, fn = _cells(rows, w)
    return _ratio(tp + fp, tp + fp + tn + fn)


def base_rate(rows: Rows, w: np.ndarray) -> np.ndarray:
    tp, fp, tn, fn = _cells(rows, w)
    return _ratio(tp + fn, tp + fp + tn + fn)


def balanced_accuracy(rows: Rows, w: np.ndarray) -> np.ndarray:
    tp, fp, tn, fn = _cells(rows, w)
    return (_ratio(tp, tp + fn) + _ratio(tn, tn + fp)) / 2


def f1(rows: Rows, w: np.ndarray) -> np.ndarray:
    tp, fp, _, fn = _cells(rows, w)
    return _ratio(2 * tp, 2 * tp + fp + fn)


def log_loss(rows: Rows, w: np.ndarray) -> np.ndarray:
    """Mean negative log-likelihood; scores are clipped to [eps, 1 - eps] as scikit-learn does."""
    eps = np.finfo(np.float64).eps
    p = np.clip(rows.scores.astype(np.float64), eps, 1 - eps)
    losses = -(rows.labels * np.log(p) + (1 - rows.labels) * np.log1p(-p))
    return _ratio(w @ losses, w.sum(axis=1))


def brier_score(rows: Rows, w: np.ndarray) -> np.ndarray:
    return _ratio(w @ (rows.scores - rows.labels) ** 2, w.sum(axis=1))


def _calibration_cells(rows: Rows, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    bins = np.minimum((rows.scores * CALIBRATION_BINS).astype(np.int64), CALIBRATION_BINS - 1)
    one_hot = np.zeros((rows.scores.size, CALIBRATION_BINS))
    one_hot[np.arange(rows.scores.size), bins] = 1.0
    return w @ one_hot, w @ (one_hot * rows.scores[:, None]), w @ (one_hot * rows.labels[:, None])


def expected_calibration_error(rows: Rows, w: np.ndarray) -> np.ndarray:
    """ECE over 10 equal-width score bins: Σ (n_b / n) · |mean score_b − positive fraction_b|."""
    counts, score_sums, positive_sums = _calibration_cells(rows, w)
    gaps = np.abs(score_sums - positive_sums)  # n_b · |mean score − positive fraction|
    return _ratio(gaps.sum(axis=1), counts.sum(axis=1))


def roc_auc(rows: Rows, w: np.ndarray) -> np.ndarray:
    """Area under the ROC curve as the weighted Mann–Whitney statistic (ties count one half)."""
    order = np.argsort(rows.scores, kind="stable")
    sorted_scores = rows.scores[order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    positive = rows.labels[order].astype(np.float64)
    pos = np.add.reduceat(w[:, order] * positive, starts, axis=1)
    neg = np.add.reduceat(w[:, order] * (1 - positive), starts, axis=1)
    negatives_below = np.cumsum(neg, axis=1) - neg
    wins = (pos * (negatives_below + 0.5 * neg)).sum(axis=1)
    return _ratio(wins, pos.sum(axis=1) * neg.sum(axis=1))


def estimate(metric: Metric, rows: Rows, *, samples: int, seed: int) -> Interval:
    """Point estimate and bootstrap 95 % percentile interval of one metric."""
    return estimate_many({"m": metric}, rows, samples=samples, seed=seed)["m"]


def estimate_many(metrics: dict[str, Metric], rows: Rows, *, samples: int, seed: int) -> dict[str, Interval]:
    """Several metrics on the same bootstrap replicates (so their intervals are comparable)."""
    n = rows.labels.size
    points = {name: float(m(rows, np.ones((1, n)))[0]) for name, m in metrics.items()}
    replicates: dict[str, list[np.ndarray]] = {name: [] for name in metrics}
    if samples and n:
        for w in bootstrap_weights(n, samples=samples, seed=seed):
            for name, m in metrics.items():
                replicates[name].append(m(rows, w))
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


def extract_performance(rows: Rows, *, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0) -> PerformanceFacts:
    """Overall performance of the model on the evaluation rows."""
    estimates = estimate_many(PERFORMANCE_METRICS, rows, samples=samples, seed=seed)
    ones = np.ones((1, rows.labels.size))
    tp, fp, tn, fn = (int(c[0]) for c in _cells(rows, ones))
    counts, score_sums, positive_sums = (c[0] for c in _calibration_cells(rows, ones))
    calibration = [
        CalibrationBin(
            lower=b / CALIBRATION_BINS,
            upper=(b + 1) / CALIBRATION_BINS,
            count=int(counts[b]),
            mean_score=float(score_sums[b] / counts[b]) if counts[b] else None,
            positive_fraction=float(positive_sums[b] / counts[b]) if counts[b] else None,
        )
        for b in range(CALIBRATION_BINS)
    ]
    return PerformanceFacts(
        rows=int(rows.labels.size),
        threshold=rows.threshold,
        confusion=ConfusionFacts(true_positive=tp, false_positive=fp, true_negative=tn, false_negative=fn),
        calibration=calibration,
        **estimates,
    )
