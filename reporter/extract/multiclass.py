"""Multiclass classification metrics, overall and per group, with seeded bootstrap intervals.

The same weights design as the binary metrics: every figure is a function of row weights, one per
row for the point estimate and the draw counts for a bootstrap replicate. Label metrics follow from
the weighted K × K confusion matrix. Macro averages run over the classes present in the evaluation
labels or predictions, and a class never predicted (or never true) counts 0, as scikit-learn does
with its default ``zero_division``. Score metrics reuse the binary machinery: ROC AUC is the macro
average of one-vs-rest AUCs (scikit-learn's ``multi_class="ovr"``), and the calibration error is
the top-label one (confidence of the predicted class against whether it was right).

Fairness: each group gets accuracy, balanced accuracy and macro F1, the rate at which it is
predicted each class, and its top-label reliability bins. Disparities are fairlearn's derived
``accuracy_score_difference`` and ``accuracy_score_ratio``, and, per class, fairlearn's demographic
parity of the one-vs-rest predictions (``demographic_parity_ratio[High]`` is ``demographic_parity_ratio`` with
``y_pred == "High"``), since which class a group is sorted into is what a multiclass decision does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from reporter.extract.fairness import Grouping, disparity_facts, fairness_over_features, group_visibility, groupings
from reporter.extract.groups import GroupEstimates, MetricTable, estimate_groups, points_of
from reporter.extract.metrics import (
    BOOTSTRAP_SAMPLES,
    LABELS_ONLY,
    Rows,
    calibration_bins,
    expected_calibration_error,
    interval,
    roc_auc,
    row_bootstrap_weights,
    safe_divide,
    weighted_sums,
)
from reporter.facts import (
    ClassFacts,
    FairnessFacts,
    FeatureFairnessFacts,
    Interval,
    MulticlassGroupFacts,
    MulticlassPerformanceFacts,
    NotReported,
)

LABEL_METRICS = ("accuracy", "balanced_accuracy", "macro_precision", "macro_recall", "macro_f1")
SCORE_METRICS = ("roc_auc", "log_loss", "brier_score", "expected_calibration_error")
GROUP_METRICS = ("accuracy", "balanced_accuracy", "macro_f1")
CLASS_RATES = "class_rates"
"""The group table's share of each group's rows put in each class (groups × classes)."""


@dataclass(frozen=True)
class ClassPredictions:
    """True and predicted class codes (indices into ``classes``), and class probabilities if given."""

    labels: np.ndarray
    predicted: np.ndarray
    classes: list[str]
    probabilities: np.ndarray | None = None  # (rows, classes), rows summing to 1

    @property
    def scored(self) -> bool:
        return self.probabilities is not None

    @cached_property
    def present(self) -> np.ndarray:
        """Classes seen among the labels or the predictions: the ones macro averages run over."""
        seen = np.zeros(len(self.classes), dtype=bool)
        seen[self.labels] = True
        seen[self.predicted] = True
        return seen

    @cached_property
    def log_losses(self) -> np.ndarray:
        """Per-row −log p(true class), probabilities clipped to [eps, 1 − eps] and renormalised as
        scikit-learn's ``log_loss`` does."""
        assert self.probabilities is not None
        eps = np.finfo(np.float64).eps
        clipped = np.clip(self.probabilities, eps, 1 - eps)
        clipped = clipped / clipped.sum(axis=1, keepdims=True)
        return -np.log(clipped[np.arange(self.labels.size), self.labels])

    @cached_property
    def squared_errors(self) -> np.ndarray:
        """Per-row Σₖ (pₖ − 1[y = k])², the multiclass Brier score's terms."""
        assert self.probabilities is not None
        one_hot = np.zeros_like(self.probabilities)
        one_hot[np.arange(self.labels.size), self.labels] = 1.0
        return ((self.probabilities - one_hot) ** 2).sum(axis=1)

    @cached_property
    def one_vs_rest(self) -> list[Rows]:
        """Per class, the binary rows "this class or not" scored by its probability."""
        assert self.probabilities is not None
        return [
            Rows(labels=(self.labels == k).astype(np.int8), scores=self.probabilities[:, k], threshold=0.5)
            for k in range(len(self.classes))
        ]

    @cached_property
    def top_label(self) -> Rows:
        """Confidence in the predicted class against whether it was right (top-label calibration)."""
        assert self.probabilities is not None
        confidence = self.probabilities[np.arange(self.labels.size), self.predicted]
        return Rows(labels=(self.predicted == self.labels).astype(np.int8), scores=confidence, threshold=0.5)

    def subset(self, mask: np.ndarray) -> ClassPredictions:
        return ClassPredictions(
            labels=self.labels[mask],
            predicted=self.predicted[mask],
            classes=self.classes,
            probabilities=None if self.probabilities is None else self.probabilities[mask],
        )


def confusion(p: ClassPredictions, w: np.ndarray) -> np.ndarray:
    """Weighted confusion matrices, shape (B, K, K): rows are true classes, columns predictions."""
    k = len(p.classes)
    return weighted_sums(p.labels * k + p.predicted, None, w, k * k).reshape(-1, k, k)


def label_metrics(p: ClassPredictions, w: np.ndarray, present: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy, balanced accuracy and macro precision, recall and F1, each of shape (B,)."""
    matrix = confusion(p, w)
    hits = np.diagonal(matrix, axis1=1, axis2=2)
    truths, predictions = matrix.sum(axis=2), matrix.sum(axis=1)
    zero = np.zeros_like(hits)
    recall = safe_divide(hits, truths)
    precision = np.nan_to_num(safe_divide(hits, predictions), nan=0.0)
    f1 = np.nan_to_num(safe_divide(2 * hits, truths + predictions), nan=0.0)
    with np.errstate(invalid="ignore"):
        balanced = np.nanmean(np.where(truths > 0, recall, np.nan), axis=1)
    return {
        "accuracy": safe_divide(hits.sum(axis=1), matrix.sum(axis=(1, 2))),
        "balanced_accuracy": balanced,
        "macro_precision": precision[:, present].mean(axis=1),
        "macro_recall": np.where(np.isnan(recall), zero, recall)[:, present].mean(axis=1),
        "macro_f1": f1[:, present].mean(axis=1),
    }


def score_metrics(p: ClassPredictions, w: np.ndarray) -> dict[str, np.ndarray]:
    """Macro one-vs-rest ROC AUC, log loss, Brier score and top-label calibration error, (B,)."""
    totals = w.sum(axis=1)
    aucs = np.stack([roc_auc(rows, w) for k, rows in enumerate(p.one_vs_rest) if (p.labels == k).any()])
    with np.errstate(invalid="ignore"):
        macro_auc = np.nanmean(aucs, axis=0) if aucs.size else np.full(w.shape[0], np.nan)
    return {
        "roc_auc": macro_auc,
        "log_loss": safe_divide(w @ p.log_losses, totals),
        "brier_score": safe_divide(w @ p.squared_errors, totals),
        "expected_calibration_error": expected_calibration_error(p.top_label, w),
    }


def class_rates(p: ClassPredictions, w: np.ndarray) -> np.ndarray:
    """Share of rows predicted as each class, shape (B, K)."""
    counts = weighted_sums(p.predicted, None, w, len(p.classes))
    return safe_divide(counts, counts.sum(axis=1, keepdims=True))


def _all_metrics(p: ClassPredictions, w: np.ndarray, present: np.ndarray) -> dict[str, np.ndarray]:
    metrics = label_metrics(p, w, present)
    if p.scored:
        metrics.update(score_metrics(p, w))
    return metrics


def _per_class(p: ClassPredictions, w: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall and F1 of every class, each of shape (B, K) (NaN where undefined)."""
    matrix = confusion(p, w)
    hits = np.diagonal(matrix, axis1=1, axis2=2)
    truths, predictions = matrix.sum(axis=2), matrix.sum(axis=1)
    return {
        "precision": safe_divide(hits, predictions),
        "recall": safe_divide(hits, truths),
        "f1": safe_divide(2 * hits, truths + predictions),
    }


def extract_multiclass_performance(
    p: ClassPredictions, *, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0
) -> MulticlassPerformanceFacts:
    """Overall performance of a multiclass model on the evaluation rows, with intervals."""
    ones = np.ones((1, p.labels.size))
    points = _all_metrics(p, ones, p.present)
    per_class_points = _per_class(p, ones)
    chunks = list(row_bootstrap_weights(p.labels.size, samples=samples, seed=seed)) if samples else []
    replicated = [(_all_metrics(p, w, p.present), _per_class(p, w)) for w in chunks]

    def estimate(name: str) -> Interval:
        reps = np.concatenate([r[0][name] for r in replicated]) if replicated else None
        return interval(float(points[name][0]), reps)

    def class_estimate(name: str, k: int) -> Interval:
        reps = np.concatenate([r[1][name][:, k] for r in replicated]) if replicated else None
        return interval(float(per_class_points[name][0, k]), reps)

    matrix = confusion(p, ones)[0].astype(int)
    estimates: dict[str, Interval | NotReported] = {name: estimate(name) for name in LABEL_METRICS}
    for name in SCORE_METRICS:
        estimates[name] = estimate(name) if p.scored else NotReported(not_reported=LABELS_ONLY)
    return MulticlassPerformanceFacts(
        rows=int(p.labels.size),
        predictions="scores" if p.scored else "labels",
        classes=p.classes,
        confusion=matrix.tolist(),
        per_class=[
            ClassFacts(
                label=label,
                support=int(matrix[k].sum()),
                predicted=int(matrix[:, k].sum()),
                precision=class_estimate("precision", k),
                recall=class_estimate("recall", k),
                f1=class_estimate("f1", k),
            )
            for k, label in enumerate(p.classes)
        ],
        calibration=calibration_bins(p.top_label) if p.scored else [],
        **estimates,
    )


def _group_tables(
    p: ClassPredictions, code_sets: list[tuple[np.ndarray, list[int]]], *, samples: int, seed: int
) -> list[GroupEstimates]:
    """Group metrics and the share of rows put in each class (`class_rates`: groups × classes) of
    the chosen group codes of several groupings of the same rows (``(codes, chosen)`` each), on
    one set of row replicates."""

    def table_of(codes: np.ndarray, chosen: list[int]) -> MetricTable:
        masks = [codes == code for code in chosen]
        subsets = [p.subset(mask) for mask in masks]

        def table(w: np.ndarray) -> dict[str, np.ndarray]:
            if not masks:
                return {**{m: np.zeros((w.shape[0], 0)) for m in GROUP_METRICS}, CLASS_RATES: _no_rates(w, p)}
            per_group = [
                label_metrics(subset, w[:, mask], p.present) for mask, subset in zip(masks, subsets, strict=True)
            ]
            metrics = {m: np.stack([values[m] for values in per_group], axis=1) for m in GROUP_METRICS}
            rates = [class_rates(subset, w[:, mask]) for mask, subset in zip(masks, subsets, strict=True)]
            return {**metrics, CLASS_RATES: np.stack(rates, axis=1)}

        return table

    tables = [table_of(codes, chosen) for codes, chosen in code_sets]
    draws = row_bootstrap_weights(p.labels.size, samples=samples, seed=seed) if samples else ()
    return estimate_groups(tables, points=points_of(tables, p.labels.size), replicate_weights=draws)


def _no_rates(w: np.ndarray, p: ClassPredictions) -> np.ndarray:
    return np.zeros((w.shape[0], 0, len(p.classes)))


def _spread(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """fairlearn's between-groups difference and ratio over the last axis."""
    return values.max(axis=-1) - values.min(axis=-1), safe_divide(values.min(axis=-1), values.max(axis=-1))


def _feature_fairness(
    grouping: Grouping,
    p: ClassPredictions,
    table: GroupEstimates,
    *,
    reference: str | None,
    min_group_size: int,
    privacy_threshold: int,
    ratio_threshold: float,
    difference_threshold: float,
) -> FeatureFairnessFacts:
    shown = group_visibility(
        grouping, reference=reference, min_group_size=min_group_size, privacy_threshold=privacy_threshold
    )
    visible, reportable, reference = shown.visible, shown.reportable, shown.reference
    chosen = [grouping.names.index(g) for g in reportable]
    reps = table.replicates
    ref = reportable.index(reference) if reference is not None else None
    group_facts = []
    for name, count in visible:
        if name not in reportable:
            group_facts.append(
                MulticlassGroupFacts(group=name, count=count, status="insufficient_data", ratios_to_reference={})
            )
            continue
        i = reportable.index(name)
        metrics = {m: interval(float(table.points[m][i]), reps[m][:, i] if reps else None) for m in GROUP_METRICS}
        accuracy_ratio = interval(
            float(safe_divide(table.points["accuracy"][i], table.points["accuracy"][ref])),
            safe_divide(reps["accuracy"][:, i], reps["accuracy"][:, ref]) if reps else None,
        )
        rates = {
            label: interval(float(table.points[CLASS_RATES][i, k]), reps[CLASS_RATES][:, i, k] if reps else None)
            for k, label in enumerate(p.classes)
        }
        group_facts.append(
            MulticlassGroupFacts(
                group=name,
                count=count,
                status="reported",
                class_selection_rates=rates,
                ratios_to_reference={"accuracy": accuracy_ratio},
                calibration=calibration_bins(p.subset(grouping.codes == chosen[i]).top_label) if p.scored else [],
                **metrics,
            )
        )
    disparities = []
    if len(reportable) >= 2:
        difference, ratio = _spread(table.points["accuracy"])
        rep_difference, rep_ratio = _spread(reps["accuracy"]) if reps else (None, None)
        disparities += [
            disparity_facts(
                "accuracy_score_difference",
                difference,
                rep_difference,
                kind="difference",
                threshold=difference_threshold,
            ),
            disparity_facts("accuracy_score_ratio", ratio, rep_ratio, kind="ratio", threshold=ratio_threshold),
        ]
        for k, label in enumerate(p.classes):
            if not p.present[k]:
                continue
            point_ratio = _spread(table.points[CLASS_RATES][:, k])[1]
            replicate_ratio = _spread(reps[CLASS_RATES][:, :, k])[1] if reps else None
            disparities.append(
                disparity_facts(
                    f"demographic_parity_ratio[{label}]",
                    point_ratio,
                    replicate_ratio,
                    kind="ratio",
                    threshold=ratio_threshold,
                )
            )
    return shown.facts(grouping, group_facts, disparities)


def extract_multiclass_fairness(
    sensitive: pd.DataFrame,
    p: ClassPredictions,
    *,
    min_group_size: int,
    privacy_threshold: int,
    ratio_threshold: float = 0.8,
    difference_threshold: float = 0.1,
    reference_groups: dict[str, str] | None = None,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = 0,
) -> FairnessFacts:
    """Accuracy and class rates per group of every sensitive feature and their intersection, every
    feature on the same row replicates, drawn once."""
    features = groupings(sensitive)
    code_sets = []
    for grouping in features:
        reportable = group_visibility(
            grouping, reference=None, min_group_size=min_group_size, privacy_threshold=privacy_threshold
        ).reportable
        code_sets.append((grouping.codes, [grouping.names.index(g) for g in reportable]))
    computed = _group_tables(p, code_sets, samples=samples, seed=seed)
    tables = {grouping.feature: table for grouping, table in zip(features, computed, strict=True)}

    def feature_facts(grouping: Grouping, reference: str | None) -> FeatureFairnessFacts:
        return _feature_fairness(
            grouping,
            p,
            tables[grouping.feature],
            reference=reference,
            min_group_size=min_group_size,
            privacy_threshold=privacy_threshold,
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
