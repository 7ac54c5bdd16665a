"""The facts record: every family about one model, its provenance, and the upgrade of records
written with an earlier schema."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field, model_validator

from reporter.facts.audits import ExplanationFacts, PrivacyFacts
from reporter.facts.base import EARLIER_VERSIONS, NOT_RECORDED, SCHEMA_VERSION, Fact, NotReported
from reporter.facts.data import DataSourceFacts
from reporter.facts.embedding import EmbeddingBiasFacts
from reporter.facts.entities import TokenClassificationFacts
from reporter.facts.labelled import (
    FairnessFacts,
    MulticlassPerformanceFacts,
    PerformanceFacts,
    RegressionPerformanceFacts,
)
from reporter.facts.language import LanguageModelFacts
from reporter.facts.model import ArchitectureFacts, CardFacts, InferenceFacts, TrainingFacts
from reporter.facts.openness import OpennessFacts
from reporter.facts.weights import WeightFacts


class ProvenanceFacts(Fact):
    """What produced these facts, so readers can reproduce them."""

    reporter_version: str
    python: str
    libraries: dict[str, str]
    device: str
    cache_key: str
    project_commit: str | None


class FactsRecord(Fact):
    """Everything reporter knows about one model."""

    schema_version: Literal["1.2.0", "1.3.0", "1.4.0", "1.5.0", "1.6.0", "1.7.0"] = SCHEMA_VERSION
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="URL-safe model identifier.")
    card: CardFacts
    architecture: ArchitectureFacts
    training: TrainingFacts | NotReported
    weights: WeightFacts
    data: list[DataSourceFacts]
    sensitive_features: list[str]
    performance: PerformanceFacts | MulticlassPerformanceFacts | RegressionPerformanceFacts | NotReported
    fairness: FairnessFacts | NotReported
    inference: InferenceFacts | NotReported
    embedding_bias: EmbeddingBiasFacts | NotReported
    explanations: ExplanationFacts | NotReported
    privacy: PrivacyFacts | NotReported
    openness: OpennessFacts | NotReported
    language_model: LanguageModelFacts | NotReported
    token_classification: TokenClassificationFacts | NotReported
    provenance: ProvenanceFacts

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        """Facts of an earlier schema version, with the fact families it did not have marked as such."""
        if isinstance(data, dict) and data.get("schema_version") in EARLIER_VERSIONS:
            missing = {"not_reported": f"{NOT_RECORDED} these facts were written with schema {data['schema_version']}"}
            data = {
                "inference": missing,
                "embedding_bias": missing,
                "openness": missing,
                "explanations": missing,
                "privacy": missing,
                "language_model": missing,
                "token_classification": missing,
                **data,
            }
            data["card"] = {"intended_users": [], **data.get("card", {})}
            if isinstance(data.get("weights"), dict):
                data["weights"] = {"quantization": missing, "file_metadata": missing, **data["weights"]}
        return data

    def to_json(self) -> str:
        """Serialise deterministically: sorted keys, fixed indentation, trailing newline."""
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"


def facts_json_schema() -> str:
    """The JSON Schema of :class:`FactsRecord`, as committed in the repository."""
    schema = FactsRecord.model_json_schema()
    schema["$id"] = f"https://reporter.invalid/schema/facts-{SCHEMA_VERSION}.json"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
