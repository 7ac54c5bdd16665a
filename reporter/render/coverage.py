"""How far a model's report covers the EU AI Act's technical documentation (Annex IV).

Each point is read from the facts record alone and gets one of three statuses: *measured* (this
build computed it), *declared* (the spec states it; reporter cannot check it) or *missing*. A
point that is only partly covered is *missing* with what is there named, so a gap is never
hidden behind a green cell. The points are paraphrased; the regulation's text is authoritative.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from reporter.facts import (
    ComputeFacts,
    DeclaredComputeFacts,
    DeclaredTrainingFacts,
    EnergyFacts,
    ExplanationFacts,
    FactsRecord,
    FairnessFacts,
    FlopFacts,
    NotReported,
    PermutationImportanceFacts,
    PhaseComputeFacts,
    TrainingFacts,
)

Status = Literal["measured", "declared", "missing"]


@dataclass(frozen=True)
class Coverage:
    """One documentation point and what the report holds for it."""

    point: str
    asks: str
    status: Status
    holds: str
    """What the report holds, or what is missing and how to add it."""
    page: str | None = None
    """The page of this report where it is, if any."""


Rule = Callable[[FactsRecord], tuple[Status, str, str | None]]


def _intended_purpose(f: FactsRecord) -> tuple[Status, str, str | None]:
    owners = ", ".join(o.name for o in f.card.owners)
    return "declared", f"Intended uses, provider ({owners}) and version {f.card.version}.", "index.md"


def _software(f: FactsRecord) -> tuple[Status, str, str | None]:
    return "measured", f"Versions of {len(f.provenance.libraries)} libraries the facts were computed with.", None


def _forms(f: FactsRecord) -> tuple[Status, str, str | None]:
    return (
        "missing",
        "This report and its exports are published; how the model is placed on the market (package, "
        "download, API) is not declared.",
        None,
    )


def _hardware(f: FactsRecord) -> tuple[Status, str, str | None]:
    return (
        "missing",
        f"The build ran on {f.provenance.device}; the hardware the model is intended to run on is not declared.",
        None,
    )


def _instructions(f: FactsRecord) -> tuple[Status, str, str | None]:
    uses = len(f.card.intended_uses) + len(f.card.out_of_scope_uses)
    return "declared", f"{uses} intended and out-of-scope uses, and {len(f.card.limitations)} limitations.", "index.md"


def _development(f: FactsRecord) -> tuple[Status, str, str | None]:
    if isinstance(f.training, TrainingFacts):
        return (
            "measured",
            f"Trained by recipe {f.architecture.recipe}: {len(f.training.history)} epochs.",
            "training.md",
        )
    if isinstance(f.training, DeclaredTrainingFacts):
        return "declared", f"{f.training.summary_text()}.", "training.md"
    return "missing", f"Loaded, not trained here: {f.training.not_reported}.", "training.md"


def _design(f: FactsRecord) -> tuple[Status, str, str | None]:
    if isinstance(f.training, TrainingFacts):
        held = f"Architecture, {len(f.training.hyperparameters)} hyperparameters, optimizer and objective"
        return "missing", f"{held} are measured; the rationale of the design choices is not declared.", "training.md"
    return "missing", "Architecture is measured; the design choices and their rationale are not declared.", "weights.md"


def architecture(f: FactsRecord) -> tuple[Status, str, str | None]:
    compute = (
        f"; trained for {f.training.wall_seconds:.1f} s on {f.training.device}"
        if isinstance(f.training, TrainingFacts)
        else ""
    )
    return (
        "measured",
        f"{f.weights.tensor_count} tensors, {f.weights.parameters_total:,} parameters{compute}.",
        "weights.md",
    )


def _data(f: FactsRecord) -> tuple[Status, str, str | None]:
    if not f.data:
        return "missing", "No data source is declared.", "data.md"
    measured = sum(not isinstance(d.measurements, NotReported) for d in f.data)
    if measured:
        return "measured", f"{len(f.data)} datasheets, {measured} measured from the files by this build.", "data.md"
    return "declared", f"{len(f.data)} datasheets, described by the spec (files not available to the build).", "data.md"


def testing(f: FactsRecord) -> tuple[Status, str, str | None]:
    if isinstance(f.performance, NotReported):
        if not isinstance(f.embedding_bias, NotReported):
            return "missing", "No labelled evaluation; embedding bias tests are measured.", "fairness.md"
        return "missing", f"No evaluation: {f.performance.not_reported}.", "index.md"
    if isinstance(f.fairness, FairnessFacts):
        return "measured", f"Metrics with intervals on {f.performance.rows:,} rows, and per group.", "fairness.md"
    return "missing", "Metrics are measured; discriminatory impacts are not (no sensitive features).", "index.md"


def _capabilities(f: FactsRecord) -> tuple[Status, str, str | None]:
    if isinstance(f.fairness, FairnessFacts):
        groups = sum(len(feature.groups) for feature in f.fairness.features)
        return "measured", f"Accuracy figures for {groups} groups, and the declared limitations.", "fairness.md"
    return "missing", "Limitations are declared; accuracy for specific groups is not measured.", "index.md"


def _metrics_fit(f: FactsRecord) -> tuple[Status, str, str | None]:
    return (
        "missing",
        "Each metric is defined on its page; why these metrics suit this system is not declared.",
        "index.md",
    )


def _changes(f: FactsRecord) -> tuple[Status, str, str | None]:
    return (
        "missing",
        "reporter diff reports what changed between two builds; a lifecycle history is not kept.",
        None,
    )


def _not_covered(text: str) -> Rule:
    def rule(f: FactsRecord) -> tuple[Status, str, str | None]:
        return "missing", text, None

    return rule


def _oversight(f: FactsRecord) -> tuple[Status, str, str | None]:
    explanations = f.explanations
    if isinstance(explanations, ExplanationFacts) and isinstance(explanations.importance, PermutationImportanceFacts):
        return (
            "missing",
            "Oversight measures are not declared. To help interpret the outputs, the permutation importance of "
            f"{len(explanations.importance.columns)} inputs, overall and per group, and the proxies of the "
            "sensitive features are measured.",
            "explanations.md",
        )
    return "missing", "Not declared.", None


ANNEX_IV: tuple[tuple[str, str, Rule], ...] = (
    ("1(a)", "Intended purpose, provider, version", _intended_purpose),
    ("1(b)", "Interaction with hardware, software and other AI systems", _not_covered("Not declared.")),
    ("1(c)", "Versions of relevant software, update requirements", _software),
    ("1(d)", "Forms in which the system is placed on the market", _forms),
    ("1(e)", "Hardware it is intended to run on", _hardware),
    ("1(f)", "Photographs of products it is part of", _not_covered("Not applicable to a model on its own.")),
    ("1(g)", "User interface provided to the deployer", _not_covered("Not declared.")),
    ("1(h)", "Instructions for use", _instructions),
    ("2(a)", "Development methods and steps, pre-trained systems used", _development),
    ("2(b)", "Design specifications, key choices and their rationale", _design),
    ("2(c)", "System architecture and compute used", architecture),
    ("2(d)", "Data requirements and datasheets", _data),
    ("2(e)", "Human oversight measures, technical aids to interpret the outputs", _oversight),
    ("2(f)", "Pre-determined changes", _not_covered("Not declared.")),
    ("2(g)", "Validation and testing, metrics, discriminatory impacts", testing),
    ("2(h)", "Cybersecurity measures", _not_covered("Not declared.")),
    ("3", "Capabilities and limitations, accuracy for groups, risks", _capabilities),
    ("4", "Appropriateness of the performance metrics", _metrics_fit),
    ("5", "Risk management system", _not_covered("Not declared.")),
    ("6", "Relevant changes through the lifecycle", _changes),
    ("7", "Harmonised standards applied", _not_covered("Not declared.")),
    ("8", "EU declaration of conformity", _not_covered("Not declared.")),
    ("9", "Post-market monitoring", _not_covered("Not declared.")),
)


def data_size(f: FactsRecord) -> tuple[Status, str, str | None]:
    rows = [d.measurements.rows_used for d in f.data if not isinstance(d.measurements, NotReported)]
    declared = [d.rows_declared for d in f.data if d.rows_declared is not None]
    if rows:
        return "measured", f"{sum(rows):,} rows read by this build.", "data.md"
    if declared:
        return "declared", f"{sum(declared):,} rows, as declared.", "data.md"
    return "missing", "Not reported.", "data.md"


def compute(f: FactsRecord) -> tuple[Status, str, str | None]:
    compute = f.compute
    if isinstance(compute, ComputeFacts) and isinstance(compute.training, PhaseComputeFacts):
        t = compute.training
        energy = f"{t.energy.kwh * 1000:.3g} Wh ({t.energy.kind})" if isinstance(t.energy, EnergyFacts) else "no energy"
        flops = f"{t.flops.counted:.3g} FLOPs (counted)" if isinstance(t.flops, FlopFacts) else "no FLOP count"
        return "measured", f"Training: {t.wall_seconds:.1f} s on {t.device}, {flops}, {energy}.", "training.md"
    if isinstance(compute, ComputeFacts) and isinstance(compute.training, DeclaredComputeFacts):
        return "declared", f"Training compute as declared by {compute.training.source}.", "training.md"
    if isinstance(f.training, DeclaredTrainingFacts) and f.training.wall_seconds is not None:
        return "declared", f"{f.training.wall_seconds:.1f} s of training, as its training log declares.", "training.md"
    return "missing", "Not trained by this build, and no training compute declared.", "training.md"


def documentation_coverage(facts: FactsRecord) -> list[Coverage]:
    """Annex IV's points, each with what the report holds (the FMTI scorecard is :mod:`reporter.render.fmti`)."""
    return [Coverage(point, asks, *rule(facts)) for point, asks, rule in ANNEX_IV]
