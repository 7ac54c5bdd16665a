"""The facts record: every family about one model, its provenance, and the upgrade of records
written with an earlier schema."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field, model_validator

from reporter.facts.audits import ExplanationFacts, PrivacyFacts
from reporter.facts.base import SCHEMA_VERSION, Fact, NotReported
from reporter.facts.compute import ComputeFacts
from reporter.facts.data import DataSourceFacts, OverlapFacts, TrainingContentFacts
from reporter.facts.evaluations import EvaluationFacts, EvaluationViews, at_most_one_of_each
from reporter.facts.model import (
    ArchitectureFacts,
    CardFacts,
    DeclaredTrainingFacts,
    HubFacts,
    InferenceFacts,
    TrainingFacts,
)
from reporter.facts.openness import OpennessFacts
from reporter.facts.upgrade import upgraded
from reporter.facts.weights import WeightFacts


class ProvenanceFacts(Fact):
    """What produced these facts, so readers can reproduce them."""

    reporter_version: str
    python: str
    libraries: dict[str, str]
    device: str
    cache_key: str
    project_commit: str | None


class FactsRecord(EvaluationViews, Fact):
    """Everything reporter knows about one model."""

    schema_version: Literal[
        "1.2.0",
        "1.3.0",
        "1.4.0",
        "1.5.0",
        "1.6.0",
        "1.7.0",
        "2.0.0",
        "2.1.0",
        "2.2.0",
        "2.3.0",
        "2.4.0",
        "2.5.0",
        "2.6.0",
        "2.7.0",
    ] = SCHEMA_VERSION
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="URL-safe model identifier.")
    card: CardFacts
    architecture: ArchitectureFacts
    training: TrainingFacts | DeclaredTrainingFacts | NotReported
    weights: WeightFacts
    data: list[DataSourceFacts]
    sensitive_features: list[str]
    evaluations: list[EvaluationFacts] = Field(
        description="What the model was measured on: one evaluation per task it carries, in the task "
        "registry's order (a classifier or regressor, a token classifier or a language model, and an "
        "encoder's embedding bias); empty when the spec asks for no measurement."
    )
    inference: InferenceFacts | NotReported
    explanations: ExplanationFacts | NotReported
    privacy: PrivacyFacts | NotReported
    openness: OpennessFacts | NotReported
    provenance: ProvenanceFacts
    overlap: OverlapFacts | NotReported = Field(
        default_factory=lambda: NotReported(not_reported="not measured: the record was written before schema 2.2.0"),
        description="Evaluation rows that also occur in the training source, and the figures without them.",
    )
    compute: ComputeFacts | NotReported = Field(
        default_factory=lambda: NotReported(not_reported="not measured: the record was written before schema 2.3.0"),
        description="The machine, and the time, FLOPs and energy of training and of evaluation.",
    )
    training_content: TrainingContentFacts | None = Field(
        default=None, description="The spec's declarations for the EU public summary of training content."
    )
    hub: HubFacts | None = Field(
        default=None, description="The Hugging Face Hub repository and commit the model was loaded from, if any."
    )

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        """A record of an earlier schema version in today's shape (see :mod:`reporter.facts.upgrade`)."""
        return upgraded(data)

    @model_validator(mode="after")
    def _one_evaluation_per_task(self) -> FactsRecord:
        problems = at_most_one_of_each(self.evaluations)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def to_json(self) -> str:
        """Serialise deterministically: sorted keys, fixed indentation, trailing newline."""
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"


def facts_json_schema() -> str:
    """The JSON Schema of :class:`FactsRecord`, as committed in the repository."""
    schema = FactsRecord.model_json_schema()
    schema["$id"] = f"https://reporter.invalid/schema/facts-{SCHEMA_VERSION}.json"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
