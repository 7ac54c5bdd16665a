"""Token classification (named-entity recognition): a model that tags each word of a sentence,
measured on the entities it finds (strict IOB2 and conlleval readings), per type and per group,
with the name probe."""

from __future__ import annotations

from typing import ClassVar

from reporter.facts import FactsRecord, NotReported, TokenClassificationFacts
from reporter.tasks.figures import Figure, figure


class TokenClassificationTask:
    name: ClassVar[str] = "token_classification"
    partial: ClassVar[str] = "partials/token_classification.md.j2"
    catalog_partial: ClassVar[str] = "partials/catalog/token_classification.md.j2"
    explanation_metric: ClassVar[str | None] = None
    overall_metrics: ClassVar[tuple[str, ...]] = (
        *(f"entity_{name}_{mode}" for mode in ("conlleval", "strict") for name in ("precision", "recall", "f1")),
        "token_accuracy",
    )
    not_explained: ClassVar[str | None] = (
        "permutation importance and token attributions are measured on whole rows; "
        "the build does not yet compute them for token classifiers"
    )
    not_audited: ClassVar[str | None] = (
        "the membership-inference audit compares the losses of whole rows; "
        "the build does not yet run it for token classifiers"
    )

    def carried_by(self, facts: FactsRecord) -> bool:
        return isinstance(facts.token_classification, TokenClassificationFacts)

    def figures(self, facts: FactsRecord) -> list[Figure]:
        """Micro entity scores in both readings, the headline reading's per type and per group,
        token accuracy and the name probe's recognition rates; metric names carry the reading."""
        tagging = facts.token_classification
        if not isinstance(tagging, TokenClassificationFacts):
            return []
        figures = []
        for mode in tagging.modes:
            for name in ("precision", "recall", "f1"):
                metric = f"entity_{name}_{mode.mode}"
                figures.extend(figure(metric, getattr(mode.micro, name), feature=None, group=None))
                if mode.mode == tagging.headline_mode:
                    for scores in mode.types:
                        figures.extend(figure(metric, getattr(scores, name), feature="entity_type", group=scores.type))
        figures.extend(figure("token_accuracy", tagging.token_accuracy, feature=None, group=None))
        if not isinstance(tagging.groups, NotReported):
            for feature in tagging.groups:
                for group in feature.groups:
                    for name in ("recall", "f1"):
                        value = getattr(group, name)
                        if value is not None:
                            metric = f"entity_{name}_{tagging.headline_mode}"
                            figures.extend(figure(metric, value, feature=feature.feature, group=group.group))
        if not isinstance(tagging.name_probe, NotReported):
            for probe_group in tagging.name_probe.groups:
                metric = f"names_recognised_as_{tagging.name_probe.entity_type}"
                figures.extend(figure(metric, probe_group.recognised, feature="name_probe", group=probe_group.group))
        return figures
