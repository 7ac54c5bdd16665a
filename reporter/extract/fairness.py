"""Disaggregated metrics and disparities for sensitive features and their intersection.

Disparities use fairlearn's names and definitions (``between_groups``: largest minus smallest
group value, or smallest over largest), computed over the groups large enough to report, so a
reader can check every figure with fairlearn on the same data. Groups below the privacy threshold
are removed from every output and only counted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reporter.extract.metrics import (
    BOOTSTRAP_SAMPLES,
    Metric,
    Rows,
    accuracy,
    base_rate,
    bootstrap_weights,
    false_negative_rate,
    false_positive_rate,
    interval,
    precision,
    roc_auc,
    selection_rate,
    true_positive_rate,
)
from reporter.facts import DisparityFacts, FairnessFacts, FeatureFairnessFacts, GroupFacts, Interval

GROUP_METRICS: dict[str, Metric] = {
    "base_rate": base_rate,
    "selection_rate": selection_rate,
    "true_positive_rate": true_positive_rate,
    "false_positive_rate": false_positive_rate,
    "false_negative_rate": false_negative_rate,
    "precision": precision,
    "accuracy": accuracy,
    "roc_auc": roc_auc,
}
INTERSECTION_SEPARATOR = " × "


def group_labels(sensitive: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each sensitive column, plus the intersection of all of them when there are several."""
    features = {str(c): sensitive[c].astype(str).to_numpy() for c in sensitive.columns}
    if len(features) > 1:
        joined = sensitive.astype(str).agg(INTERSECTION_SEPARATOR.join, axis=1).to_numpy()
        features[INTERSECTION_SEPARATOR.join(features)] = joined
    return features


def _disparities(
    values: dict[str, np.ndarray], *, ratio_threshold: float, difference_threshold: float
) -> list[tuple[str, np.ndarray, str, float]]:
    """fairlearn's disparities from per-group metric arrays of shape (groups, B)."""

    def spread(metric: str) -> tuple[np.ndarray, np.ndarray]:
        v = values[metric]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.max(v, axis=0) - np.min(v, axis=0), np.min(v, axis=0) / np.max(v, axis=0)

    dp_diff, dp_ratio = spread("selection_rate")
    tpr_diff, tpr_ratio = spread("true_positive_rate")
    fpr_diff, fpr_ratio = spread("false_positive_rate")
    return [
        ("demographic_parity_difference", dp_diff, "difference", difference_threshold),
        ("demographic_parity_ratio", dp_ratio, "ratio", ratio_threshold),
        ("equalized_odds_difference", np.maximum(tpr_diff, fpr_diff), "difference", difference_threshold),
        ("equalized_odds_ratio", np.minimum(tpr_ratio, fpr_ratio), "ratio", ratio_threshold),
        ("equal_opportunity_difference", tpr_diff, "difference", difference_threshold),
    ]


def disparity_status(value: Interval, *, kind: str, threshold: float) -> str:
    """pass when the whole interval is on the right side of the threshold, warn when it straddles
    the threshold, fail when the point estimate is on the wrong side."""
    if value.value is None:
        return "not_computed"
    ok = value.value >= threshold if kind == "ratio" else value.value <= threshold
    if not ok:
        return "fail"
    edge = value.low if kind == "ratio" else value.high
    if edge is None:
        return "pass"
    return "pass" if (edge >= threshold if kind == "ratio" else edge <= threshold) else "warn"


def extract_feature_fairness(
    feature: str,
    groups: np.ndarray,
    rows: Rows,
    *,
    min_group_size: int,
    privacy_threshold: int,
    ratio_threshold: float,
    difference_threshold: float,
    samples: int,
    seed: int,
) -> FeatureFairnessFacts:
    """Metrics per group of one feature, and the disparities between the reportable groups."""
    names, counts = np.unique(groups, return_counts=True)
    visible = [(str(g), int(c)) for g, c in zip(names, counts, strict=True) if c >= privacy_threshold]
    reportable = [g for g, c in visible if c >= min_group_size]
    n = rows.labels.size
    masks = {g: groups == g for g in reportable}
    points = {
        g: {m: f(rows.subset(masks[g]), np.ones((1, int(masks[g].sum()))))[0] for m, f in GROUP_METRICS.items()}
        for g in reportable
    }
    replicates: dict[str, dict[str, list[np.ndarray]]] = {g: {m: [] for m in GROUP_METRICS} for g in reportable}
    disparity_reps: dict[str, list[np.ndarray]] = {}
    for w in bootstrap_weights(n, samples=samples, seed=seed) if samples else []:
        chunk: dict[str, np.ndarray] = {}
        for g in reportable:
            subset = rows.subset(masks[g])
            for m, f in GROUP_METRICS.items():
                reps = f(subset, w[:, masks[g]])
                replicates[g][m].append(reps)
        if reportable:
            for m in ("selection_rate", "true_positive_rate", "false_positive_rate"):
                chunk[m] = np.stack([replicates[g][m][-1] for g in reportable])
            for name, reps, _, _ in _disparities(
                chunk, ratio_threshold=ratio_threshold, difference_threshold=difference_threshold
            ):
                disparity_reps.setdefault(name, []).append(reps)

    group_facts = []
    for g, c in visible:
        if g not in masks:
            group_facts.append(
                GroupFacts(group=g, count=c, status="insufficient_data", **{m: None for m in GROUP_METRICS})
            )
            continue
        group_facts.append(
            GroupFacts(
                group=g,
                count=c,
                status="reported",
                **{
                    m: interval(float(points[g][m]), np.concatenate(replicates[g][m]) if replicates[g][m] else None)
                    for m in GROUP_METRICS
                },
            )
        )

    disparities = []
    if len(reportable) >= 2:
        point_values = {
            m: np.array([[points[g][m]] for g in reportable])
            for m in ("selection_rate", "true_positive_rate", "false_positive_rate")
        }
        for name, value, kind, threshold in _disparities(
            point_values, ratio_threshold=ratio_threshold, difference_threshold=difference_threshold
        ):
            estimate = interval(
                float(value[0]), np.concatenate(disparity_reps[name]) if name in disparity_reps else None
            )
            disparities.append(
                DisparityFacts(
                    name=name,
                    value=estimate,
                    threshold=threshold,
                    kind=kind,
                    status=disparity_status(estimate, kind=kind, threshold=threshold),
                )
            )
    reference = max(reportable, key=lambda g: (int(masks[g].sum()), g)) if reportable else None
    return FeatureFairnessFacts(
        feature=feature,
        groups=group_facts,
        suppressed_groups=int(sum(1 for c in counts if c < privacy_threshold)),
        reference_group=reference,
        disparities=disparities,
    )


def overall_status(statuses: list[str]) -> str:
    """The worst status of all disparities: fail > warn > pass; not_computed when there are none."""
    for status in ("fail", "warn", "pass"):
        if status in statuses:
            return status
    return "not_computed"


def extract_fairness(
    sensitive: pd.DataFrame,
    rows: Rows,
    *,
    min_group_size: int,
    privacy_threshold: int,
    ratio_threshold: float = 0.8,
    difference_threshold: float = 0.1,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = 0,
) -> FairnessFacts:
    """Fairness facts for every sensitive feature and their intersection."""
    features = [
        extract_feature_fairness(
            name,
            groups,
            rows,
            min_group_size=min_group_size,
            privacy_threshold=privacy_threshold,
            ratio_threshold=ratio_threshold,
            difference_threshold=difference_threshold,
            samples=samples,
            seed=seed,
        )
        for name, groups in group_labels(sensitive).items()
    ]
    statuses = [d.status for f in features for d in f.disparities]
    return FairnessFacts(
        min_group_size=min_group_size,
        privacy_threshold=privacy_threshold,
        bootstrap_samples=samples,
        features=features,
        status=overall_status(statuses),
    )
