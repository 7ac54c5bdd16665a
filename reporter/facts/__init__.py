"""The facts record: everything reporter publishes about one model, typed and versioned.

This is the contract between the half of reporter that computes (runners, extractors) and the half
that publishes (templates, diff, exports). The site shows only what is here. A fact that could not
be computed is a :class:`NotReported` with a reason, never a silent blank.

Change the schema only together with :data:`SCHEMA_VERSION` and the committed JSON Schema file
(`schema/facts-<version>.schema.json`, printed by `reporter schema`). One module per family: the
building blocks, the model and its run, weights, data, labelled-row performance and fairness,
embedding bias, explanations and privacy, openness, language models, entities; then the
evaluations a model carries (one per task, schema 2.0), the upgrade of older records, and the
record.
"""

from __future__ import annotations

from reporter.facts.audits import (
    AttackFacts,
    AttributedRowFacts,
    AttributedToken,
    ColumnAttributionFacts,
    ColumnImportanceFacts,
    DifferentialPrivacyFacts,
    ExplanationFacts,
    FeatureAttackFacts,
    FeatureImportanceFacts,
    GroupImportanceFacts,
    MembershipFacts,
    PermutationImportanceFacts,
    PrivacyFacts,
    ProxyFacts,
    RocPoint,
    TokenAttributionFacts,
)
from reporter.facts.base import EARLIER_VERSIONS, NOT_RECORDED, SCHEMA_VERSION, Fact, Interval, NotReported, TaskFacts
from reporter.facts.data import ColumnFacts, DataMeasurements, DataSourceFacts, IdentifierFinding
from reporter.facts.embedding import AssociationTestFacts, EmbeddingBiasFacts
from reporter.facts.entities import (
    EntityFeatureFacts,
    EntityGroupFacts,
    EntityModeFacts,
    EntityScoreFacts,
    NameProbeFacts,
    NameProbeGroupFacts,
    SpanErrorFacts,
    TokenClassificationFacts,
)
from reporter.facts.evaluations import LABELLED_KINDS, EvaluationFacts
from reporter.facts.labelled import (
    BinaryEvaluation,
    BinaryGroupFacts,
    CalibrationBin,
    ClassFacts,
    ConfusionFacts,
    DisparityFacts,
    FairnessFacts,
    FeatureFairnessFacts,
    GroupFacts,
    LabelledEvaluation,
    MulticlassEvaluation,
    MulticlassGroupFacts,
    MulticlassPerformanceFacts,
    PerformanceFacts,
    RegressionBin,
    RegressionEvaluation,
    RegressionGroupFacts,
    RegressionPerformanceFacts,
)
from reporter.facts.language import (
    BiasCategoryFacts,
    LanguageModelFacts,
    LikelihoodBiasFacts,
    PerplexityFacts,
    SampleOutputFacts,
    SampleOutputsFacts,
)
from reporter.facts.model import ArchitectureFacts, CardFacts, EpochFacts, InferenceFacts, Owner, TrainingFacts
from reporter.facts.openness import OpennessComponentFacts, OpennessFacts
from reporter.facts.record import FactsRecord, ProvenanceFacts, facts_json_schema
from reporter.facts.weights import (
    FileMetadataFacts,
    Histogram,
    LayerSpectrum,
    PowerLawFit,
    QuantizationFacts,
    QuantizedLayerFacts,
    QuantizedTypeFacts,
    SpectralSettings,
    TensorFacts,
    WeightFacts,
)

__all__ = [
    "BinaryEvaluation",
    "BinaryGroupFacts",
    "EvaluationFacts",
    "LABELLED_KINDS",
    "LabelledEvaluation",
    "MulticlassEvaluation",
    "MulticlassGroupFacts",
    "RegressionEvaluation",
    "RegressionGroupFacts",
    "ArchitectureFacts",
    "AssociationTestFacts",
    "AttackFacts",
    "AttributedRowFacts",
    "AttributedToken",
    "BiasCategoryFacts",
    "CalibrationBin",
    "CardFacts",
    "ClassFacts",
    "ColumnAttributionFacts",
    "ColumnFacts",
    "ColumnImportanceFacts",
    "ConfusionFacts",
    "DataMeasurements",
    "DataSourceFacts",
    "DifferentialPrivacyFacts",
    "DisparityFacts",
    "EARLIER_VERSIONS",
    "EmbeddingBiasFacts",
    "EntityFeatureFacts",
    "EntityGroupFacts",
    "EntityModeFacts",
    "EntityScoreFacts",
    "EpochFacts",
    "ExplanationFacts",
    "Fact",
    "FactsRecord",
    "FairnessFacts",
    "FeatureAttackFacts",
    "FeatureFairnessFacts",
    "FeatureImportanceFacts",
    "FileMetadataFacts",
    "GroupFacts",
    "GroupImportanceFacts",
    "Histogram",
    "IdentifierFinding",
    "InferenceFacts",
    "Interval",
    "LanguageModelFacts",
    "LayerSpectrum",
    "LikelihoodBiasFacts",
    "MembershipFacts",
    "MulticlassPerformanceFacts",
    "NOT_RECORDED",
    "NameProbeFacts",
    "NameProbeGroupFacts",
    "NotReported",
    "OpennessComponentFacts",
    "OpennessFacts",
    "Owner",
    "PerformanceFacts",
    "PermutationImportanceFacts",
    "PerplexityFacts",
    "PowerLawFit",
    "PrivacyFacts",
    "ProvenanceFacts",
    "ProxyFacts",
    "QuantizationFacts",
    "QuantizedLayerFacts",
    "QuantizedTypeFacts",
    "RegressionBin",
    "RegressionPerformanceFacts",
    "RocPoint",
    "SCHEMA_VERSION",
    "SampleOutputFacts",
    "SampleOutputsFacts",
    "SpanErrorFacts",
    "SpectralSettings",
    "TaskFacts",
    "TensorFacts",
    "TokenAttributionFacts",
    "TokenClassificationFacts",
    "TrainingFacts",
    "WeightFacts",
    "facts_json_schema",
]
