"""One flat row per published number, with a stable identifier: the single list that the exports,
the openness check and every other reader of "what this model scored" take from a task.

huggingface_hub's `EvalResult` is the model: a metric, the slice of the data it is about, a value
and (here) its 95 % interval. A task builds its rows from its own facts family; nothing else walks
a facts record looking for numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from reporter.facts import Interval

CONFIDENCE = 0.95
"""The level of every interval a figure carries (percentile bootstrap, as the extractors compute it)."""


@dataclass(frozen=True)
class Figure:
    """One published number: a metric, overall or for one group, with its 95 % interval if any."""

    metric: str
    """Machine name of the metric (a facts field, e.g. ``true_positive_rate``)."""
    value: float
    low: float | None
    high: float | None
    feature: str | None = None
    """The sensitive feature (or intersection) the group belongs to, or the association test; None
    for figures over all the evaluation data."""
    group: str | None = None

    @property
    def label(self) -> str:
        """Human-readable name: ``accuracy (sex=Female)``, or ``… difference (sex)`` across a feature's groups."""
        readable = self.metric.replace("_", " ")
        return f"{readable} ({self.slice})" if self.slice is not None else readable

    @property
    def slice(self) -> str | None:
        """The part of the evaluation data the figure is about: ``sex=Female``, ``sex``, or None for all of it."""
        if self.group is not None:
            return f"{self.feature}={self.group}"
        return self.feature

    def unique_identifier(self) -> str:
        """Stable across builds: the metric and the slice (``true_positive_rate/sex=Female``)."""
        return f"{self.metric}/{self.slice or 'all'}"


def interval_figures(model: object, *, feature: str | None, group: str | None) -> list[Figure]:
    """The Interval fields of a facts model, in field order."""
    found = []
    for name in type(model).model_fields:  # type: ignore[attr-defined]  # a pydantic facts model
        value = getattr(model, name)
        if isinstance(value, Interval):
            found.extend(figure(name, value, feature=feature, group=group))
    return found


def figure(metric: str, interval: Interval, *, feature: str | None, group: str | None) -> list[Figure]:
    """The interval as a figure; none when it is undefined for the data (a rate over no positives)."""
    if interval.value is None:
        return []
    return [Figure(metric, interval.value, interval.low, interval.high, feature=feature, group=group)]


def metric_name(text: str) -> str:
    """A disparity's display name as a machine name: ``Equalized-odds difference`` → ``equalized_odds_difference``."""
    return "_".join(text.lower().replace("-", " ").split())
