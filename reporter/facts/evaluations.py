"""What a model was measured on: one evaluation per task it carries, discriminated on `kind`.

Schema 2.0 keeps each task's published figures in one place, its evaluation, instead of five
record slots of which any model fills one or two. A model carries one task of labelled rows or
tagged words or generated text, and may carry a second: an encoder evaluated as a classifier whose
sentence embeddings are also tested for bias (`sentence_embedding`), because both are measured on
the same weights in one load.

:class:`EvaluationViews` reads the record the way pages and exports ask ("the performance", "the
language model"), with the reason a family is absent when the model does not carry its task.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Final

from pydantic import Discriminator, SerializeAsAny, Tag, ValidatorFunctionWrapHandler, WithJsonSchema, WrapValidator
from pydantic_core import PydanticCustomError

from reporter.entry_points import declared_task_type
from reporter.facts.base import NotReported, TaskFacts
from reporter.facts.embedding import EmbeddingBiasFacts
from reporter.facts.entities import TokenClassificationFacts
from reporter.facts.labelled import (
    BinaryEvaluation,
    FairnessFacts,
    ImageClassificationEvaluation,
    LabelledEvaluation,
    MulticlassEvaluation,
    MulticlassPerformanceFacts,
    PerformanceFacts,
    RegressionEvaluation,
    RegressionPerformanceFacts,
)
from reporter.facts.language import LanguageModelFacts

BUILT_IN_KINDS: Final = (
    "binary_classification",
    "multiclass_classification",
    "image_classification",
    "regression",
    "token_classification",
    "sentence_embedding",
    "text_generation",
)
PLUGIN_TAG: Final = "plugin"
"""The union's tag for every evaluation kind that is not built in."""


def _kind_of(evaluation: Any) -> str | None:
    """The union's tag: the evaluation's `kind`, or the plug-in member for kinds not built in."""
    kind = evaluation.get("kind") if isinstance(evaluation, dict) else getattr(evaluation, "kind", None)
    if not isinstance(kind, str):
        return None
    return kind if kind in BUILT_IN_KINDS else PLUGIN_TAG


def _plugin_facts(value: Any, handler: ValidatorFunctionWrapHandler) -> TaskFacts:
    """An evaluation of a plug-in task, read through the facts family its task declares."""
    if isinstance(value, TaskFacts):
        return value
    kind = value.get("kind") if isinstance(value, dict) else None
    family = declared_task_type(str(kind), "facts", TaskFacts)
    if family is None:
        raise PydanticCustomError(
            "unknown_evaluation",
            "evaluation kind {kind!r} is not written by any installed task; install the package that adds it",
            {"kind": kind},
        )
    facts: TaskFacts = family.model_validate(value)
    return facts


PLUGIN_SCHEMA: Final = {
    "type": "object",
    "description": "The evaluation of a task another package adds; its fields are that task's facts family.",
    "properties": {"kind": {"type": "string", "not": {"enum": list(BUILT_IN_KINDS)}}},
    "required": ["kind"],
}


EvaluationFacts = Annotated[
    Annotated[BinaryEvaluation, Tag("binary_classification")]
    | Annotated[MulticlassEvaluation, Tag("multiclass_classification")]
    | Annotated[ImageClassificationEvaluation, Tag("image_classification")]
    | Annotated[RegressionEvaluation, Tag("regression")]
    | Annotated[TokenClassificationFacts, Tag("token_classification")]
    | Annotated[EmbeddingBiasFacts, Tag("sentence_embedding")]
    | Annotated[LanguageModelFacts, Tag("text_generation")]
    | Annotated[
        SerializeAsAny[TaskFacts], WrapValidator(_plugin_facts), WithJsonSchema(PLUGIN_SCHEMA), Tag(PLUGIN_TAG)
    ],
    Discriminator(_kind_of),
]
"""One task's measured facts: a built-in family, or the family of a task another package adds."""

LABELLED_KINDS: Final = ("binary_classification", "multiclass_classification", "image_classification", "regression")

GENERATES_TEXT: Final = (
    "a language model is measured by perplexity, a bias probe and sample outputs (see Metrics); "
    "the spec declares no labelled evaluation data to disaggregate"
)
TAGGED_ENTITIES: Final = (
    "a token classifier is measured on the entities it tags, overall, per type and per group (see Metrics)"
)
NO_EVALUATION_DATA: Final = "the spec declares no evaluation data"
NOT_A_TAGGER: Final = "the model is not a token classifier"
NO_LANGUAGE_MODEL: Final = "the spec asks for no language-model measurements (`language_model:`)"
NO_SEAT: Final = "the spec asks for no embedding association test (`embedding_bias:`)"


def at_most_one_of_each(evaluations: list[EvaluationFacts]) -> list[str]:
    """Why a list of evaluations cannot be one model's (empty when it can): a kind twice, or two
    tasks of labelled rows, which would be two models."""
    kinds = [evaluation.kind for evaluation in evaluations]
    problems = [
        f"the evaluation {kind!r} appears {kinds.count(kind)} times"
        for kind in sorted(set(kinds))
        if kinds.count(kind) > 1
    ]
    if sum(kind in LABELLED_KINDS for kind in kinds) > 1:
        problems.append("a model is evaluated as one kind of classifier or regressor, not several")
    return problems


class EvaluationViews:
    """Read-only views of a record's evaluations by family, each with the reason it is absent.

    The reasons are the ones the build gives: derived from which tasks the model carries, so a
    record written before schema 2.0 and one built today read alike.
    """

    if TYPE_CHECKING:
        evaluations: list[EvaluationFacts]  # a field of the record this is mixed into

    @property
    def evaluation_kinds(self) -> list[str]:
        """The kinds of the model's evaluations, in the record's order."""
        return [evaluation.kind for evaluation in self.evaluations]

    @property
    def labelled(self) -> LabelledEvaluation | None:
        """The evaluation on labelled rows (classification or regression), if the model has one."""
        for evaluation in self.evaluations:
            if isinstance(evaluation, BinaryEvaluation | MulticlassEvaluation | RegressionEvaluation):
                return evaluation
        return None

    @property
    def labelled_kind(self) -> str | None:
        """The task of the labelled evaluation (``regression``, …), or None."""
        labelled = self.labelled
        return labelled.kind if labelled is not None else None

    def _unlabelled_reason(self) -> NotReported:
        kinds = self.evaluation_kinds
        reason = (
            GENERATES_TEXT
            if "text_generation" in kinds
            else TAGGED_ENTITIES
            if "token_classification" in kinds
            else NO_EVALUATION_DATA
        )
        return NotReported(not_reported=reason)

    @property
    def performance(
        self,
    ) -> PerformanceFacts | MulticlassPerformanceFacts | RegressionPerformanceFacts | NotReported:
        """Overall performance on labelled rows, or why there is none."""
        labelled = self.labelled
        return labelled.performance if labelled is not None else self._unlabelled_reason()

    @property
    def fairness(self) -> FairnessFacts | NotReported:
        """Performance per group on labelled rows, or why there is none."""
        labelled = self.labelled
        return labelled.fairness if labelled is not None else self._unlabelled_reason()

    @property
    def token_classification(self) -> TokenClassificationFacts | NotReported:
        """A token classifier's entity-level evaluation, or why there is none."""
        found = [e for e in self.evaluations if isinstance(e, TokenClassificationFacts)]
        return found[0] if found else NotReported(not_reported=NOT_A_TAGGER)

    @property
    def language_model(self) -> LanguageModelFacts | NotReported:
        """A language model's perplexity, bias probe and samples, or why there are none."""
        found = [e for e in self.evaluations if isinstance(e, LanguageModelFacts)]
        return found[0] if found else NotReported(not_reported=NO_LANGUAGE_MODEL)

    @property
    def embedding_bias(self) -> EmbeddingBiasFacts | NotReported:
        """Bias in an encoder's sentence embeddings, or why it was not measured."""
        found = [e for e in self.evaluations if isinstance(e, EmbeddingBiasFacts)]
        return found[0] if found else NotReported(not_reported=NO_SEAT)
