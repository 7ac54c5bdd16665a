"""Disaggregated metrics and disparities for sensitive features and their intersection.

Disparities use fairlearn's names and definitions (``between_groups``: largest minus smallest
group value, or smallest over largest), computed over the groups large enough to report, so a
reader can check every figure with fairlearn on the same data. Groups below the privacy threshold
are removed from every output and only counted.

All features share one set of bootstrap replicates (drawn over rows, or over cells of rows within
the intersection groups for large data), so a disparity's interval reflects one resampling of the
evaluation data, as its point estimate reflects the data itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from reporter.extract.groups import GroupEstimates, MetricTable, estimate_groups
from reporter.extract.metrics import (
    BOOTSTRAP_SAMPLES,
    LABELS_ONLY,
    Metric,
    Rows,
    accuracy,
    base_rate,
    bootstrap_weights,
    calibration_bins,
    false_negative_rate,
    false_positive_rate,
    interval,
    precision,
    roc_auc,
    safe_divide,
    sampling_units,
    selection_rate,
    true_positive_rate,
)
from reporter.facts import (
    BinaryGroupFacts,
    DisparityFacts,
    FairnessFacts,
    FeatureFairnessFacts,
    GroupFacts,
    Interval,
    NotReported,
)

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
RATIO_METRICS = ("selection_rate", "true_positive_rate")
INTERSECTION_SEPARATOR = " × "


@dataclass(frozen=True)
class Grouping:
    """One sensitive feature (or intersection): an integer group code per row, and the names."""

    feature: str
    codes: np.ndarray
    names: list[str]


def groupings(sensitive: pd.DataFrame) -> list[Grouping]:
    """Each sensitive column, plus the intersection of all of them when there are several.

    Groups are integer codes from a hash-based factorisation, so nothing sorts or compares strings
    per row; intersection names are built once per combination.
    """
    singles = []
    for column in sensitive.columns:
        codes, uniques = pd.factorize(sensitive[column].astype("string"), sort=True)
        singles.append(Grouping(str(column), codes.astype(np.int64), [str(u) for u in uniques]))
    if len(singles) < 2:
        return singles
    combined = np.zeros(len(sensitive), dtype=np.int64)
    for single in singles:
        combined = combined * len(single.names) + single.codes
    combinations = int(np.prod([len(single.names) for single in singles]))
    if combinations <= 4 * len(sensitive):  # code every combination directly, no sort needed
        distinct, codes = np.arange(combinations), combined
    else:
        distinct, codes = np.unique(combined, return_inverse=True)
    names = []
    for code in distinct:
        parts = []
        value = int(code)
        for single in reversed(singles):
            value, index = divmod(value, len(single.names))
            parts.append(single.names[index])
        names.append(INTERSECTION_SEPARATOR.join(reversed(parts)))
    feature = INTERSECTION_SEPARATOR.join(s.feature for s in singles)
    return [*singles, Grouping(feature, codes.reshape(-1).astype(np.int64), names)]


def group_point_metrics(rows: Rows, codes: np.ndarray, groups: int) -> dict[str, np.ndarray]:
    """Every group metric for every group in one pass over the rows (point estimates).

    The same definitions as the weighted metric functions, computed with counts: confusion cells by
    ``bincount``, and ROC AUC per group from the rows' shared score order, regrouped by a stable
    (radix) sort on the group code, counting tied scores one half as the Mann–Whitney statistic does.
    """
    y, d = rows.labels.astype(np.int64), rows.decisions.astype(np.int64)
    cells = np.bincount(codes * 4 + y * 2 + d, minlength=groups * 4).reshape(groups, 4).astype(np.float64)
    tn, fp, fn, tp = cells.T
    n = cells.sum(axis=1)
    narrow = np.int16 if groups < 2**15 else np.int64  # small integers take numpy's radix sort
    by_group = np.argsort(codes.astype(narrow)[rows.order], kind="stable")
    group_seq = codes[rows.order][by_group]
    tie_seq = rows.tie_runs[by_group]
    label_seq = rows.labels[rows.order][by_group].astype(np.float64)
    starts = np.r_[True, (group_seq[1:] != group_seq[:-1]) | (tie_seq[1:] != tie_seq[:-1])]
    run = np.cumsum(starts) - 1
    positives = np.bincount(run, weights=label_seq)
    negatives = np.bincount(run, weights=1 - label_seq)
    run_group = group_seq[starts]
    below = np.cumsum(negatives) - negatives  # negatives before this run, over all groups
    group_offset = np.zeros(groups)
    first_run = np.r_[True, run_group[1:] != run_group[:-1]]
    group_offset[run_group[first_run]] = below[first_run]
    wins = positives * (below - group_offset[run_group] + 0.5 * negatives)
    auc = safe_divide(
        np.bincount(run_group, wins, groups),
        np.bincount(run_group, positives, groups) * np.bincount(run_group, negatives, groups),
    )
    return {
        "base_rate": safe_divide(tp + fn, n),
        "selection_rate": safe_divide(tp + fp, n),
        "true_positive_rate": safe_divide(tp, tp + fn),
        "false_positive_rate": safe_divide(fp, fp + tn),
        "false_negative_rate": safe_divide(fn, tp + fn),
        "precision": safe_divide(tp, tp + fp),
        "accuracy": safe_divide(tp + tn, n),
        "roc_auc": auc,
    }


def _disparities(
    values: dict[str, np.ndarray], *, ratio_threshold: float, difference_threshold: float
) -> list[tuple[str, np.ndarray, Literal["difference", "ratio"], float]]:
    """fairlearn's disparities from per-group metric arrays of shape (groups, B)."""

    def spread(metric: str) -> tuple[np.ndarray, np.ndarray]:
        v = values[metric]
        return np.max(v, axis=0) - np.min(v, axis=0), safe_divide(np.min(v, axis=0), np.max(v, axis=0))

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


def disparity_facts(
    name: str,
    point: float | np.ndarray,
    replicates: np.ndarray | None,
    *,
    kind: Literal["difference", "ratio"],
    threshold: float,
) -> DisparityFacts:
    """A disparity with its interval and its status against the threshold."""
    value = interval(float(point), replicates)
    return DisparityFacts(
        name=name,
        value=value,
        threshold=threshold,
        kind=kind,
        status=disparity_status(value, kind=kind, threshold=threshold),
    )


@dataclass(frozen=True)
class Visibility:
    """Which groups of a feature may be shown (name, rows), which are large enough to report, the
    reference group, and how many groups are suppressed for privacy."""

    visible: list[tuple[str, int]]
    reportable: list[str]
    reference: str | None
    suppressed: int

    def facts(
        self, grouping: Grouping, groups: Sequence[GroupFacts], disparities: list[DisparityFacts]
    ) -> FeatureFairnessFacts:
        return FeatureFairnessFacts(
            feature=grouping.feature,
            groups=groups,
            suppressed_groups=self.suppressed,
            reference_group=self.reference,
            disparities=disparities,
        )


def group_visibility(
    grouping: Grouping, *, reference: str | None, min_group_size: int, privacy_threshold: int
) -> Visibility:
    """Apply the privacy and minimum-size rules to a feature's groups; the reference group is the
    one asked for if reportable, else the largest reportable group."""
    sizes = np.bincount(grouping.codes, minlength=len(grouping.names))
    visible = [(grouping.names[c], int(sizes[c])) for c in range(len(grouping.names)) if sizes[c] >= privacy_threshold]
    reportable = [g for g, c in visible if c >= min_group_size]
    if reference not in reportable:
        reference = max(reportable, key=lambda g: (dict(visible)[g], g)) if reportable else None
    suppressed = int(((sizes > 0) & (sizes < privacy_threshold)).sum())
    return Visibility(visible=visible, reportable=reportable, reference=reference, suppressed=suppressed)


def _binary_table(units: Rows, unit_codes: np.ndarray, codes: list[int]) -> MetricTable:
    """The group metrics of the given groups on bootstrap weights over the sampling units."""
    masks = [unit_codes == code for code in codes]
    subsets = [units.subset(mask) for mask in masks]

    def table(weights: np.ndarray) -> dict[str, np.ndarray]:
        if not masks:
            return {m: np.zeros((weights.shape[0], 0)) for m in GROUP_METRICS}
        return {
            m: np.stack([function(subset, weights[:, mask]) for mask, subset in zip(masks, subsets, strict=True)], 1)
            for m, function in GROUP_METRICS.items()
        }

    return table


def extract_feature_fairness(
    grouping: Grouping,
    rows: Rows,
    estimates: GroupEstimates,
    *,
    shown: Visibility,
    ratio_threshold: float,
    difference_threshold: float,
) -> FeatureFairnessFacts:
    """Metrics per group of one feature (``estimates``: its reportable groups, in order), ratios to
    the reference group, and the disparities between the reportable groups."""
    visible, reportable, reference = shown.visible, shown.reportable, shown.reference
    codes = [grouping.names.index(g) for g in reportable]
    points, reps = estimates.points, estimates.replicates
    group_facts = []
    ref = reportable.index(reference) if reference is not None else None
    for g, c in visible:
        if g not in reportable:
            group_facts.append(
                BinaryGroupFacts(
                    group=g,
                    count=c,
                    status="insufficient_data",
                    **{m: None for m in GROUP_METRICS},
                    ratios_to_reference={},
                    calibration=[],
                )
            )
            continue
        i = reportable.index(g)
        metrics: dict[str, object] = {m: estimates.estimate(m, i) for m in GROUP_METRICS}
        if not rows.scored:
            metrics["roc_auc"] = NotReported(not_reported=LABELS_ONLY)
        ratios = {
            m: interval(
                float(safe_divide(points[m][i], points[m][ref])),
                safe_divide(reps[m][:, i], reps[m][:, ref]) if reps else None,
            )
            for m in RATIO_METRICS
        }
        calibration = calibration_bins(rows.subset(grouping.codes == codes[i])) if rows.scored else []
        group_facts.append(
            BinaryGroupFacts(
                group=g, count=c, status="reported", **metrics, ratios_to_reference=ratios, calibration=calibration
            )
        )
    disparities = []
    if len(reportable) >= 2:
        rules = {"ratio_threshold": ratio_threshold, "difference_threshold": difference_threshold}
        point_sets = _disparities({m: v[:, None] for m, v in points.items()}, **rules)
        rep_sets = _disparities({m: v.T for m, v in reps.items()}, **rules) if reps else [None] * len(point_sets)
        disparities = [
            disparity_facts(name, value[0], rep[1] if rep is not None else None, kind=kind, threshold=threshold)
            for (name, value, kind, threshold), rep in zip(point_sets, rep_sets, strict=True)
        ]
    return shown.facts(grouping, group_facts, disparities)


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
    reference_groups: dict[str, str] | None = None,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = 0,
) -> FairnessFacts:
    """Fairness facts for every sensitive feature and their intersection, every feature on the
    same replicates (drawn over rows, or over cells of rows within the intersection groups)."""
    features = groupings(sensitive)
    finest = features[-1]  # the intersection, or the only feature: every group is a union of these
    units, unit_strata = sampling_units(rows, finest.codes) if samples else (rows, finest.codes)
    representative = np.zeros(len(finest.names), dtype=np.int64)
    representative[finest.codes] = np.arange(finest.codes.size)  # one row of each stratum
    rules = {"min_group_size": min_group_size, "privacy_threshold": privacy_threshold}
    reportable = {
        g.feature: [g.names.index(n) for n in group_visibility(g, reference=None, **rules).reportable] for g in features
    }
    tables = [_binary_table(units, g.codes[representative[unit_strata]], reportable[g.feature]) for g in features]
    points = []
    for grouping in features:
        every_group = group_point_metrics(rows, grouping.codes, len(grouping.names))
        points.append({m: values[reportable[grouping.feature]] for m, values in every_group.items()})
    drawn = samples and any(reportable.values())
    draws = bootstrap_weights(units, samples=samples, seed=seed) if drawn else ()
    estimates = dict(
        zip([g.feature for g in features], estimate_groups(tables, points=points, replicate_weights=draws), strict=True)
    )

    def feature_facts(grouping: Grouping, reference: str | None) -> FeatureFairnessFacts:
        shown = group_visibility(grouping, reference=reference, **rules)
        return extract_feature_fairness(
            grouping,
            rows,
            estimates[grouping.feature],
            shown=shown,
            ratio_threshold=ratio_threshold,
            difference_threshold=difference_threshold,
        )

    return fairness_over_features(
        features,
        feature_facts,
        min_group_size=min_group_size,
        privacy_threshold=privacy_threshold,
        reference_groups=reference_groups,
        samples=samples,
    )


def fairness_over_features(
    features: list[Grouping],
    feature_facts: Callable[[Grouping, str | None], FeatureFairnessFacts],
    *,
    min_group_size: int,
    privacy_threshold: int,
    reference_groups: dict[str, str] | None,
    samples: int,
) -> FairnessFacts:
    """Fairness facts from one feature's facts per sensitive feature (and intersection); the
    overall status is the worst disparity status. Shared by every task type."""
    results = [feature_facts(grouping, (reference_groups or {}).get(grouping.feature)) for grouping in features]
    return FairnessFacts(
        min_group_size=min_group_size,
        privacy_threshold=privacy_threshold,
        bootstrap_samples=samples,
        features=results,
        status=overall_status([d.status for f in results for d in f.disparities]),
    )
