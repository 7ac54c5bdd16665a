"""Regression metrics, overall and per group, with seeded bootstrap intervals.

As for classification, every figure is written once as a function of row weights: a bootstrap
replicate weighs each row by how often it was drawn, the point estimate weighs every row once. All
six metrics follow from six weighted sums per group (rows, label, label², error, |error|, error²),
so one matrix product per replicate chunk gives every group of a feature at once. Labels are
centred on their mean first so that R²'s sum of squares does not cancel in floating point.

Disparities use fairlearn's derived-metric naming (``make_derived_metric(metric=...,
transform="ratio")``): ``mean_absolute_error_ratio`` is the smallest group MAE over the largest, so
the four-fifths rule reads as for classification and does not depend on the label's unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reporter.extract.fairness import Grouping, disparity_facts, fairness_over_features, group_visibility, groupings
from reporter.extract.groups import GroupEstimates, MetricTable, estimate_groups, points_of
from reporter.extract.metrics import BOOTSTRAP_SAMPLES, interval, row_bootstrap_weights, safe_divide, weighted_sums
from reporter.facts import (
    FairnessFacts,
    FeatureFairnessFacts,
    RegressionBin,
    RegressionGroupFacts,
    RegressionPerformanceFacts,
)

REGRESSION_METRICS = (
    "mean_absolute_error",
    "root_mean_squared_error",
    "r2",
    "mean_error",
    "mean_label",
    "mean_prediction",
)
RATIO_DISPARITIES = ("mean_absolute_error", "root_mean_squared_error")
CALIBRATION_BINS = 10
SUMS = ("rows", "label", "label_squared", "error", "absolute_error", "squared_error")


@dataclass(frozen=True)
class Predictions:
    """True and predicted values of the evaluation rows, as float64."""

    labels: np.ndarray
    predicted: np.ndarray

    def sum_terms(self) -> tuple[np.ndarray, float]:
        """Per-row terms of :data:`SUMS` (labels centred) and the centring shift."""
        shift = float(self.labels.mean()) if self.labels.size else 0.0
        centred = self.labels - shift
        error = self.predicted - self.labels
        terms = np.stack([np.ones_like(centred), centred, centred**2, error, np.abs(error), error**2], axis=1)
        return terms, shift


def group_sums(terms: np.ndarray, codes: np.ndarray, groups: int, weights: np.ndarray) -> np.ndarray:
    """Weighted sums of every term per group: shape (len(SUMS), B, groups)."""
    return np.stack([weighted_sums(codes, terms[:, k], weights, groups) for k in range(terms.shape[1])])


def metrics_from_sums(sums: np.ndarray, shift: float) -> dict[str, np.ndarray]:
    """Every regression metric from the weighted sums; NaN where a metric is undefined (no rows,
    or R² of a group whose labels are all equal)."""
    n, label, label_squared, error, absolute_error, squared_error = sums
    mean_label = safe_divide(label, n)
    total_squares = label_squared - label * mean_label  # Σ w (y − ȳ)², on centred labels
    with np.errstate(invalid="ignore"):
        root_mse = np.sqrt(safe_divide(squared_error, n))
    return {
        "mean_absolute_error": safe_divide(absolute_error, n),
        "root_mean_squared_error": root_mse,
        "r2": 1 - safe_divide(squared_error, np.where(total_squares > 1e-12 * label_squared, total_squares, 0)),
        "mean_error": safe_divide(error, n),
        "mean_label": mean_label + shift,
        "mean_prediction": mean_label + safe_divide(error, n) + shift,
    }


def group_tables(
    predictions: Predictions, code_sets: list[tuple[np.ndarray, int]], *, samples: int, seed: int
) -> list[GroupEstimates]:
    """Every metric per group code (point estimates and bootstrap replicates), for several
    groupings of the same rows (``(codes, groups)`` each) on one set of row replicates."""
    terms, shift = predictions.sum_terms()

    def table_of(codes: np.ndarray, groups: int) -> MetricTable:
        return lambda weights: metrics_from_sums(group_sums(terms, codes, groups, weights), shift)

    tables = [table_of(codes, groups) for codes, groups in code_sets]
    draws = row_bootstrap_weights(predictions.labels.size, samples=samples, seed=seed) if samples else ()
    return estimate_groups(tables, points=points_of(tables, predictions.labels.size), replicate_weights=draws)


def calibration_bins(predictions: Predictions) -> list[RegressionBin]:
    """Mean label per decile of the predictions (edges shared by tied predictions are merged)."""
    edges = np.unique(np.quantile(predictions.predicted, np.linspace(0, 1, CALIBRATION_BINS + 1)))
    if edges.size < 2:
        edges = np.array([edges[0], edges[0]])
    index = np.clip(np.searchsorted(edges, predictions.predicted, side="right") - 1, 0, edges.size - 2)
    bins = []
    for b in range(edges.size - 1):
        mask = index == b
        if mask.any():
            bins.append(
                RegressionBin(
                    lower=float(edges[b]),
                    upper=float(edges[b + 1]),
                    count=int(mask.sum()),
                    mean_prediction=float(predictions.predicted[mask].mean()),
                    mean_label=float(predictions.labels[mask].mean()),
                )
            )
    return bins


def extract_regression_performance(
    predictions: Predictions, *, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0
) -> RegressionPerformanceFacts:
    """Overall error of the model on the evaluation rows, with intervals."""
    codes = np.zeros(predictions.labels.size, dtype=np.int64)
    [table] = group_tables(predictions, [(codes, 1)], samples=samples, seed=seed)
    return RegressionPerformanceFacts(
        rows=int(predictions.labels.size),
        calibration=calibration_bins(predictions),
        **{name: table.estimate(name, 0) for name in REGRESSION_METRICS},
    )


def _feature_fairness(
    grouping: Grouping,
    table: GroupEstimates,
    *,
    reference: str | None,
    min_group_size: int,
    privacy_threshold: int,
    ratio_threshold: float,
) -> FeatureFairnessFacts:
    shown = group_visibility(
        grouping, reference=reference, min_group_size=min_group_size, privacy_threshold=privacy_threshold
    )
    visible, reportable, reference = shown.visible, shown.reportable, shown.reference
    ref = grouping.names.index(reference) if reference is not None else None
    group_facts = []
    for name, count in visible:
        code = grouping.names.index(name)
        if name not in reportable:
            group_facts.append(
                RegressionGroupFacts(group=name, count=count, status="insufficient_data", ratios_to_reference={})
            )
            continue
        mae = "mean_absolute_error"
        ratio = interval(
            float(safe_divide(table.points[mae][code], table.points[mae][ref])),
            safe_divide(table.replicates[mae][:, code], table.replicates[mae][:, ref]) if table.replicates else None,
        )
        group_facts.append(
            RegressionGroupFacts(
                group=name,
                count=count,
                status="reported",
                ratios_to_reference={mae: ratio},
                **{m: table.estimate(m, code) for m in REGRESSION_METRICS},
            )
        )
    disparities = []
    codes = [grouping.names.index(g) for g in reportable]
    for metric in RATIO_DISPARITIES if len(codes) >= 2 else ():
        values = table.points[metric][codes]
        replicate_ratios = None
        if table.replicates is not None:
            chosen = table.replicates[metric][:, codes]
            replicate_ratios = safe_divide(chosen.min(axis=1), chosen.max(axis=1))
        disparities.append(
            disparity_facts(
                f"{metric}_ratio",
                float(safe_divide(values.min(), values.max())),
                replicate_ratios,
                kind="ratio",
                threshold=ratio_threshold,
            )
        )
    return shown.facts(grouping, group_facts, disparities)


def extract_regression_fairness(
    sensitive: pd.DataFrame,
    predictions: Predictions,
    *,
    min_group_size: int,
    privacy_threshold: int,
    ratio_threshold: float = 0.8,
    reference_groups: dict[str, str] | None = None,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = 0,
) -> FairnessFacts:
    """Error per group of every sensitive feature and their intersection, and the error ratios.

    Every feature is computed on the same row replicates, drawn once, as for classification.
    """
    features = groupings(sensitive)
    code_sets = [(grouping.codes, len(grouping.names)) for grouping in features]
    computed = group_tables(predictions, code_sets, samples=samples, seed=seed)
    tables = {grouping.feature: table for grouping, table in zip(features, computed, strict=True)}

    def feature_facts(grouping: Grouping, reference: str | None) -> FeatureFairnessFacts:
        return _feature_fairness(
            grouping,
            tables[grouping.feature],
            reference=reference,
            min_group_size=min_group_size,
            privacy_threshold=privacy_threshold,
            ratio_threshold=ratio_threshold,
        )

    return fairness_over_features(
        features,
        feature_facts,
        min_group_size=min_group_size,
        privacy_threshold=privacy_threshold,
        reference_groups=reference_groups,
        samples=samples,
    )
