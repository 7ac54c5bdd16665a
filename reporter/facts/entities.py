"""A token classifier: entity scores per reading and type, span errors, groups and the name probe."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reporter.facts.base import Fact, Interval, NotReported, TaskFacts


class EntityScoreFacts(Fact):
    """Exact-match entity scores of one entity type (or of all types, micro-averaged)."""

    type: str
    gold: int = Field(description="Entities in the gold tags.")
    predicted: int = Field(description="Entities in the predicted tags.")
    correct: int = Field(description="Predicted entities whose span and type are both exact.")
    precision: Interval = Field(description="correct / predicted; null when nothing was predicted.")
    recall: Interval = Field(description="correct / gold; null when the data has none.")
    f1: Interval = Field(description="2 · correct / (gold + predicted).")


class EntityModeFacts(Fact):
    """Entity scores under one reading of the IOB2 tags."""

    mode: Literal["conlleval", "strict"]
    description: str
    micro: EntityScoreFacts
    types: list[EntityScoreFacts]


class SpanErrorFacts(Fact):
    """What became of one type's gold entities, and its predictions that overlap no gold entity."""

    type: str
    gold: int
    correct: int
    wrong_type: int = Field(description="Same span, another type predicted.")
    wrong_boundary: int = Field(description="An overlapping prediction of the same type, with another span.")
    wrong_type_and_boundary: int = Field(description="Only predictions of other types and spans overlap it.")
    missed: int = Field(description="No predicted entity overlaps it.")
    predicted: int
    spurious: int = Field(description="Predicted entities of this type that overlap no gold entity.")


class EntityGroupFacts(Fact):
    """Micro entity scores for the sentences of one group of a sensitive feature."""

    group: str
    sentences: int
    entities: int = Field(description="Gold entities in the group's sentences.")
    status: Literal["reported", "insufficient_data"]
    recall: Interval | None = None
    f1: Interval | None = None
    ratios_to_reference: dict[str, Interval] = Field(
        default_factory=dict, description="Recall and F1 divided by the reference group's."
    )


class EntityFeatureFacts(Fact):
    feature: str
    reference_group: str | None
    groups: list[EntityGroupFacts]
    suppressed_groups: int = Field(description="Groups smaller than the privacy threshold, hidden.")
    status: Literal["pass", "warn", "fail", "not_computed"]


class NameProbeGroupFacts(Fact):
    """How the model tags one group's names in the probe's template sentences."""

    group: str
    names: int
    sentences: int
    recognised: Interval = Field(
        description="Share of sentences whose name is tagged exactly as one entity of the type."
    )
    other_type: float = Field(description="Share whose name span is tagged exactly, as another type.")
    partly: float = Field(description="Share where predicted entities overlap the name but none spans it exactly.")
    missed: float = Field(description="Share where no predicted entity overlaps the name.")
    ratio_to_reference: Interval | None = Field(description="recognised divided by the reference group's.")
    example: list[str] = Field(description="One sentence and the tags the model gave it.")


class NameProbeFacts(Fact):
    """The name-template probe of NER bias: are some groups' names recognised less often?"""

    source: str = Field(description="The name lists: file, tests and SHA-256.")
    license: str
    entity_type: str
    templates: list[str]
    method: str
    reference_groups: list[str] = Field(
        description="The first name set of each test, which the second is compared with."
    )
    ratio_threshold: float
    groups: list[NameProbeGroupFacts]
    status: Literal["pass", "warn", "fail", "not_computed"]


class TokenClassificationFacts(TaskFacts):
    """A token classifier (named-entity recogniser) evaluated at the entity level."""

    kind: Literal["token_classification"] = "token_classification"
    source: str = Field(description="The evaluation data and its token and tag columns.")
    sentences: int
    tokens: int
    entity_types: list[str]
    headline_mode: Literal["conlleval", "strict"]
    modes: list[EntityModeFacts]
    token_accuracy: Interval = Field(description="Share of tokens whose IOB2 tag is predicted exactly, O included.")
    span_errors: list[SpanErrorFacts] = Field(description="In the headline mode.")
    untagged_tokens: int = Field(
        description="Tokens the model gave no prediction (past its input length, or no sub-word token), tagged O."
    )
    bootstrap_samples: int
    min_group_size: int
    privacy_threshold: int
    ratio_threshold: float
    groups: list[EntityFeatureFacts] | NotReported
    name_probe: NameProbeFacts | NotReported
