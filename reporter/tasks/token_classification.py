"""Token classification (named-entity recognition): a model that tags each word of a sentence,
measured on the entities it finds (strict IOB2 and conlleval readings), per type and per group,
with the name probe.

It measures through the task interface (:class:`reporter.tasks.base.MeasuringTask`): its inputs are
read before the model is fine-tuned or loaded, and its evaluation asks the model only to tag words
(its `tag_words` capability); what it computes is in
:mod:`reporter.tasks.token_classification_measures`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from reporter.facts import FactsRecord, NotReported, TaskFacts, TokenClassificationFacts
from reporter.spec import Evaluation, TaskSection
from reporter.tasks.base import TaskContext
from reporter.tasks.figures import Figure, figure
from reporter.tasks.token_classification_measures import TokenInputs, token_classification_facts, token_inputs

if TYPE_CHECKING:
    from reporter.formats.declaration import Capability
    from reporter.runners.outcome import RunOutcome


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

    section: ClassVar[type[TaskSection]] = Evaluation
    """The labelled-rows section (`tokens_column`, `label`, groups, `name_probe`), shared with the
    row tasks whose columns it reads the same way."""
    facts: ClassVar[type[TaskFacts]] = TokenClassificationFacts
    template_folder: ClassVar[Path | None] = None

    def needs(self, section: Evaluation) -> frozenset[Capability]:
        return frozenset({"tag_words"})

    def read_inputs(self, section: Evaluation, context: TaskContext) -> TokenInputs:
        return token_inputs(section, context)

    def evaluate(self, model: RunOutcome, inputs: TokenInputs, context: TaskContext) -> TokenClassificationFacts:
        """Entities, groups and the name probe from the model's tags; the tagging pass is the
        record's inference facts."""
        assert model.tag_words is not None, "a tagger is bound for `tag_words` when the task needs it"
        facts, inference = token_classification_facts(inputs, model.tag_words, context)
        context.report_inference(inference)
        return facts

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
