"""The group engine: a task's metrics for every group of every sensitive feature, with the
bootstrap replicates its intervals come from, all features on one set of replicates.

A task feeds it one *table* per grouping of the evaluation rows (a sensitive feature, or their
intersection): a function from a matrix of weights, one row per replicate and one column per
sampling unit, to its metrics per group (arrays whose first axis is the replicate and second the
group). The engine evaluates each table on the data itself and on every replicate, drawn once for
all the groupings, so a disparity's interval reflects one resampling of the evaluation data as its
point estimate reflects the data. What to show of the groups (privacy suppression, minimum size,
reference group) and the disparities' statuses are shared too (:mod:`reporter.extract.fairness`:
``group_visibility``, ``disparity_facts``, ``fairness_over_features``); what each task measures
per group is its own (binary rates, multiclass accuracy and class shares, regression errors,
entity recall and F1 per group of sentences).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from reporter.extract.metrics import interval
from reporter.facts import Interval

MetricTable = Callable[[np.ndarray], dict[str, np.ndarray]]
"""Weights (replicates × units) → each metric per group, shaped (replicates, groups, …)."""


@dataclass(frozen=True)
class GroupEstimates:
    """One grouping's metrics on the data (``points``: groups first) and on every replicate
    (``replicates``: replicates first, then groups; None when no replicate was drawn)."""

    points: dict[str, np.ndarray]
    replicates: dict[str, np.ndarray] | None

    def estimate(self, metric: str, group: int) -> Interval:
        """One group's metric: the point estimate with its bootstrap interval."""
        replicates = self.replicates[metric][:, group] if self.replicates is not None else None
        return interval(float(self.points[metric][group]), replicates)


def estimate_groups(
    tables: Sequence[MetricTable],
    *,
    points: Sequence[dict[str, np.ndarray]],
    replicate_weights: Iterable[np.ndarray],
) -> list[GroupEstimates]:
    """Each table's replicates on the same weight chunks (drawn once, in memory-bounded chunks),
    beside its point estimates.

    Args:
        tables: one per grouping.
        points: each grouping's metrics on the data, groups first (most tasks evaluate their
            table on unit weights: :func:`points_of`).
        replicate_weights: the bootstrap's weight chunks; empty for no intervals.
    """
    chunks: list[list[dict[str, np.ndarray]]] = [[] for _ in tables]
    for weights in replicate_weights:
        for found, table in zip(chunks, tables, strict=True):
            found.append(table(weights))
    return [
        GroupEstimates(
            points=point,
            replicates={m: np.concatenate([c[m] for c in found]) for m in found[0]} if found else None,
        )
        for point, found in zip(points, chunks, strict=True)
    ]


def points_of(tables: Sequence[MetricTable], units: int) -> list[dict[str, np.ndarray]]:
    """Each table on the data itself: every unit weighted once."""
    ones = np.ones((1, units))
    return [{m: values[0] for m, values in table(ones).items()} for table in tables]
