"""The figures every export publishes, read from the facts record in one fixed order.

The Hugging Face card, the CycloneDX model card and the SPDX AI package each list the same
figures; reading them here once keeps the three in step, and lets the tests read every export
back and compare it with this list.
"""

from __future__ import annotations

from dataclasses import dataclass

from reporter.facts import (
    FactsRecord,
    FairnessFacts,
    Interval,
    LanguageModelFacts,
    NotReported,
    TokenClassificationFacts,
)

CONFIDENCE = 0.95


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


def figures_of(facts: FactsRecord) -> list[Figure]:
    """Every defined figure: performance, per-group metrics, disparities, embedding association tests,
    a language model's perplexity and bias probe, and a token classifier's entity scores."""
    figures: list[Figure] = []
    if not isinstance(facts.performance, NotReported):
        figures.extend(_intervals(facts.performance, feature=None, group=None))
    if isinstance(facts.fairness, FairnessFacts):
        for feature in facts.fairness.features:
            for group in feature.groups:
                if group.status == "reported":
                    figures.extend(_intervals(group, feature=feature.feature, group=group.group))
                    for label, rate in sorted(group.class_selection_rates.items()):
                        figures.extend(
                            _figure(f"selection_rate_{label}", rate, feature=feature.feature, group=group.group)
                        )
            for disparity in feature.disparities:
                figures.extend(
                    _figure(_metric_name(disparity.name), disparity.value, feature=feature.feature, group=None)
                )
    if not isinstance(facts.embedding_bias, NotReported):
        for test in facts.embedding_bias.tests:
            figures.extend(_figure("seat_effect_size", test.effect_size, feature=test.name, group=None))
            figures.append(Figure("seat_p_value", test.p_value, None, None, feature=test.name))
    if isinstance(facts.language_model, LanguageModelFacts):
        figures.extend(_language_figures(facts.language_model))
    if isinstance(facts.token_classification, TokenClassificationFacts):
        figures.extend(_entity_figures(facts.token_classification))
    return figures


def _entity_figures(tagging: TokenClassificationFacts) -> list[Figure]:
    """Micro entity scores in both readings, the headline reading's per type and per group, token
    accuracy and the name probe's recognition rates; metric names carry the reading."""
    figures = []
    for mode in tagging.modes:
        for name in ("precision", "recall", "f1"):
            metric = f"entity_{name}_{mode.mode}"
            figures.extend(_figure(metric, getattr(mode.micro, name), feature=None, group=None))
            if mode.mode == tagging.headline_mode:
                for scores in mode.types:
                    figures.extend(_figure(metric, getattr(scores, name), feature="entity_type", group=scores.type))
    figures.extend(_figure("token_accuracy", tagging.token_accuracy, feature=None, group=None))
    if not isinstance(tagging.groups, NotReported):
        for feature in tagging.groups:
            for group in feature.groups:
                for name in ("recall", "f1"):
                    value = getattr(group, name)
                    if value is not None:
                        metric = f"entity_{name}_{tagging.headline_mode}"
                        figures.extend(_figure(metric, value, feature=feature.feature, group=group.group))
    if not isinstance(tagging.name_probe, NotReported):
        for probe_group in tagging.name_probe.groups:
            metric = f"names_recognised_as_{tagging.name_probe.entity_type}"
            figures.extend(_figure(metric, probe_group.recognised, feature="name_probe", group=probe_group.group))
    return figures


def _language_figures(language: LanguageModelFacts) -> list[Figure]:
    figures = []
    if not isinstance(language.perplexity, NotReported):
        figures.extend(_figure("perplexity", language.perplexity.perplexity, feature=None, group=None))
        figures.extend(_figure("bits_per_byte", language.perplexity.bits_per_byte, feature=None, group=None))
    if not isinstance(language.bias_probe, NotReported):
        for category in language.bias_probe.categories:
            name = category.category
            figures.extend(_figure("stereotyped_share", category.stereotyped_share, feature=name, group=None))
            figures.append(Figure("stereotyped_share_p_value", category.share_p_value, None, None, feature=name))
            figures.extend(
                _figure("mean_log_probability_difference", category.mean_difference, feature=name, group=None)
            )
            figures.append(Figure("mean_difference_p_value", category.difference_p_value, None, None, feature=name))
    return figures


def _intervals(model: object, *, feature: str | None, group: str | None) -> list[Figure]:
    """The Interval fields of a facts model, in field order."""
    found = []
    for name in type(model).model_fields:  # type: ignore[attr-defined]  # a pydantic facts model
        value = getattr(model, name)
        if isinstance(value, Interval):
            found.extend(_figure(name, value, feature=feature, group=group))
    return found


def _figure(metric: str, interval: Interval, *, feature: str | None, group: str | None) -> list[Figure]:
    if interval.value is None:
        return []  # undefined for the data (e.g. a rate over no positives): nothing to publish
    return [Figure(metric, interval.value, interval.low, interval.high, feature=feature, group=group)]


def _metric_name(text: str) -> str:
    return "_".join(text.lower().replace("-", " ").split())
