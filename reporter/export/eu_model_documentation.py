"""The Model Documentation Form of the EU General-Purpose AI Code of Practice (Transparency
chapter, July 2025), filled from the facts record: every field says whether the build **measured**
it, the spec **declared** it, or it is **missing**. JSON for machines and Markdown for people carry
the same entries, like the public summary of training content (:mod:`reporter.export.eu_training_content`).

The form's sections (general information, model properties, distribution and licenses, use,
training process, data, computational resources, energy) and their order are followed; each
field's wording is this project's paraphrase, and the Code's form is authoritative. Fields only a
provider can fill (market dates, acceptable use policy, distribution channels not on the Hub) are
listed as missing, with the reason, so the document shows what is left to write.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import jinja2

from reporter import __version__
from reporter.export.eu_training_content import Status, dependencies_entry, entry, training_sources, value_text
from reporter.facts import (
    CompositionFacts,
    ComputeFacts,
    DeclaredComputeFacts,
    EnergyFacts,
    FactsRecord,
    FlopFacts,
    NotReported,
    OverlapFacts,
    PhaseComputeFacts,
    TrainingFacts,
)
from reporter.templating import render_template

FORM = "Model Documentation Form, General-Purpose AI Code of Practice, Transparency chapter (July 2025)"
PARAMETER_RANGES = (
    (5e8, "under 500 million"),
    (5e9, "500 million to 5 billion"),
    (1.5e10, "5 to 15 billion"),
    (5e10, "15 to 50 billion"),
    (1e11, "50 to 100 billion"),
    (5e11, "100 to 500 billion"),
    (1e12, "500 billion to 1 trillion"),
)
OUTPUTS = {
    "binary_classification": "a score and a class per row",
    "multiclass_classification": "a probability per class per row",
    "image_classification": "a probability per class per image",
    "regression": "a number per row",
    "token_classification": "an entity tag per word",
    "sentence_embedding": "a vector per text",
    "text_generation": "text",
}


def _general(facts: FactsRecord) -> list[dict[str, Any]]:
    card, declared = facts.card, facts.training_content
    provider = declared.provider if declared and declared.provider else ", ".join(o.name for o in card.owners)
    files = [{"file": name, "sha256": digest} for name, digest in sorted(facts.weights.files.items())]
    return [
        entry("1.1", "Legal name of the provider", provider or None, "declared" if provider else "missing", "the spec"),
        entry("1.2", "Model name and version", {"name": card.name, "version": card.version}, "declared", "the spec"),
        entry("1.3", "Model authenticity", files, "measured", "SHA-256 of the weight files this build read"),
        entry("1.4", "Release date", card.date, "declared" if card.date else "missing", "the spec's `date`"),
        entry("1.5", "Union market release date", None, "missing", "a provider's fact; the spec has no field for it"),
        dependencies_entry(facts, "1.6"),
    ]


def _properties(facts: FactsRecord) -> list[dict[str, Any]]:
    architecture, weights = facts.architecture, facts.weights
    described = {"class": architecture.module_class, "recipe": architecture.recipe, "source": architecture.source}
    total = weights.parameters_total
    band = next((label for limit, label in PARAMETER_RANGES if total < limit), "over 1 trillion")
    kinds = [evaluation.kind for evaluation in facts.evaluations]
    output = "; ".join(OUTPUTS.get(kind, kind.replace("_", " ")) for kind in kinds) or None
    return [
        entry("2.1", "Model architecture", described, "measured", "the model the build ran"),
        entry("2.2", "Design specifications and rationale", None, "missing", "design choices are not declared"),
        _input_modalities(facts),
        entry("2.4", "Output modalities", output, "measured" if output else "missing", "the tasks the build ran"),
        entry("2.5", "Total number of parameters", f"{total:.2g} ({total:,})", "measured", "the weight files"),
        entry("2.6", "Parameter range", band, "measured", "the weight files"),
    ]


def _input_modalities(facts: FactsRecord) -> dict[str, Any]:
    read = [d.composition for d in facts.data if isinstance(d.composition, CompositionFacts)]
    if not read:
        return entry("2.3", "Input modalities", None, "missing", "no data source was read by this build")
    modalities = sorted({c.modality for c in read})
    return entry("2.3", "Input modalities", ", ".join(modalities), "measured", "the data sources as read by this build")


def _distribution_and_use(facts: FactsRecord) -> list[dict[str, Any]]:
    card, hub = facts.card, facts.hub
    channel = f"Hugging Face Hub: {hub.url}" if hub is not None else None
    libraries = {name: version for name, version in sorted(facts.provenance.libraries.items())}
    return [
        entry("3.1", "Distribution channels", channel, "measured" if channel else "missing", "the Hub reference"),
        entry("3.2", "License", card.license, "declared", "the spec"),
        entry("4.1", "Acceptable use policy", None, "missing", "a provider's policy; the spec has no field for it"),
        entry("4.2", "Intended uses", card.intended_uses or None, _said(card.intended_uses), "the spec"),
        entry(
            "4.3",
            "Restricted or out-of-scope uses",
            card.out_of_scope_uses or None,
            _said(card.out_of_scope_uses),
            "the spec",
        ),
        entry("4.4", "Software the model needs", libraries, "measured", "library versions the build ran with"),
        entry("4.5", "Hardware the model was run on", facts.provenance.device, "measured", "the build"),
    ]


def _said(items: Sequence[object]) -> Status:
    return "declared" if items else "missing"


def _training(facts: FactsRecord) -> list[dict[str, Any]]:
    training = facts.training
    if isinstance(training, TrainingFacts):
        value = {
            "recipe": facts.architecture.recipe,
            "optimizer": training.optimizer,
            "epochs": len(training.history),
            "training_rows": training.train_rows,
            "validation_rows": training.validation_rows,
            "seed": training.seed,
        }
        process = entry("5.1", "Training process", value, "measured", "the training run in this build")
    elif not isinstance(training, NotReported):
        process = entry("5.1", "Training process", training.summary_text(), "declared", "the run's training log")
    else:
        process = entry("5.1", "Training process", None, "missing", "loaded, not trained here, and no training log")
    return [process, entry("5.2", "Decision rationale", None, "missing", "design choices are not declared")]


def _data(facts: FactsRecord) -> list[dict[str, Any]]:
    sources = training_sources(facts)
    rows = {s.id: s.measurements.rows_used for s in facts.data if not isinstance(s.measurements, NotReported)}
    provenance = [{"source": s.id, "acquisition": s.acquisition, "origin": s.origin_url} for s in facts.data]
    curation = [{"source": s.id, "preprocessing": s.preprocessing} for s in facts.data if s.preprocessing]
    found = [
        entry(
            "6.1", "Training data sources", [s.id for s in sources] or None, _said([s.id for s in sources]), "data[]"
        ),
        entry("6.2", "Provenance and how the data was obtained", provenance or None, _said(provenance), "data[]"),
        entry(
            "6.3", "Number of data points", rows or None, "measured" if rows else "missing", "rows read by the build"
        ),
        entry("6.4", "Curation methodologies", curation or None, _said(curation), "data[].preprocessing"),
        _unsuitability(facts),
        _biases(facts),
    ]
    return found


def _unsuitability(facts: FactsRecord) -> dict[str, Any]:
    overlap = facts.overlap
    if isinstance(overlap, OverlapFacts):
        value = {"train_test_overlap_rows": overlap.features_only.rows, "evaluation_rows": overlap.evaluation_rows}
        return entry("6.5", "Measures to detect unsuitable data", value, "measured", "train-test overlap")
    return entry("6.5", "Measures to detect unsuitable data", None, "missing", overlap.not_reported)


def _biases(facts: FactsRecord) -> dict[str, Any]:
    from reporter.render.fmti import measured_risks

    found = measured_risks(facts)
    status: Status = "measured" if found else "missing"
    return entry("6.6", "Methods to detect identifiable biases", found or None, status, "the evaluations of this build")


def _compute(facts: FactsRecord) -> list[dict[str, Any]]:
    compute = facts.compute
    phase = compute.training if isinstance(compute, ComputeFacts) else None
    if isinstance(phase, PhaseComputeFacts):
        time = {"wall_seconds": phase.wall_seconds, phase.device_hours_unit: phase.device_hours, "device": phase.device}
        flops = phase.flops.counted if isinstance(phase.flops, FlopFacts) else None
        method = phase.flops.method if isinstance(phase.flops, FlopFacts) else phase.flops.not_reported
        return [
            entry("7.1", "Training time", time, "measured", "the training run in this build"),
            entry(
                "7.2", "Amount of computation for training (FLOPs)", flops, "measured" if flops else "missing", method
            ),
        ]
    if isinstance(phase, DeclaredComputeFacts):
        time = {phase.device_hours_unit or "device-hours": phase.device_hours, "hardware": phase.hardware}
        return [
            entry("7.1", "Training time", time, "declared", phase.source),
            entry("7.2", "Amount of computation for training (FLOPs)", phase.flops, _known(phase.flops), phase.source),
        ]
    reason = "loaded, not trained here, and no training compute declared"
    return [entry(section, field, None, "missing", reason) for section, field in _COMPUTE_FIELDS]


_COMPUTE_FIELDS = (("7.1", "Training time"), ("7.2", "Amount of computation for training (FLOPs)"))


def _known(value: object) -> Status:
    return "declared" if value is not None else "missing"


def _energy(facts: FactsRecord) -> list[dict[str, Any]]:
    compute = facts.compute
    training = compute.training if isinstance(compute, ComputeFacts) else None
    evaluation = compute.evaluation if isinstance(compute, ComputeFacts) else None
    if isinstance(training, PhaseComputeFacts) and isinstance(training.energy, EnergyFacts):
        energy = training.energy
        used = entry(
            "8.1", "Energy used for training (kWh)", {"kwh": energy.kwh, "kind": energy.kind}, "measured", energy.method
        )
    elif isinstance(training, DeclaredComputeFacts) and training.energy_kwh is not None:
        used = entry("8.1", "Energy used for training (kWh)", training.energy_kwh, "declared", training.source)
    else:
        used = entry("8.1", "Energy used for training (kWh)", None, "missing", "not measured or declared")
    if isinstance(evaluation, PhaseComputeFacts) and isinstance(evaluation.flops, FlopFacts):
        flops = evaluation.flops
        inference = entry(
            "8.2", "Computation for inference (FLOPs, the build's evaluation)", flops.counted, "measured", flops.method
        )
    else:
        inference = entry(
            "8.2", "Computation for inference (FLOPs, the build's evaluation)", None, "missing", "not counted"
        )
    return [used, inference]


def model_documentation(facts: FactsRecord, *, report_url: str) -> dict[str, Any]:
    """The form as data: what both renderings show."""
    sections = (_general, _properties, _distribution_and_use, _training, _data, _compute, _energy)
    return {
        "form": FORM,
        "generated_by": f"reporter {__version__}",
        "model": facts.slug,
        "report": report_url,
        "entries": [item for section in sections for item in section(facts)],
    }


def documentation_json(facts: FactsRecord, *, report_url: str) -> str:
    return json.dumps(model_documentation(facts, report_url=report_url), indent=2, ensure_ascii=False) + "\n"


def documentation_markdown(facts: FactsRecord, *, env: jinja2.Environment, report_url: str) -> str:
    form = model_documentation(facts, report_url=report_url)
    rows = [{**item, "text": value_text(item["value"])} for item in form["entries"]]
    card = report_url if "://" in report_url else "index.md"
    return render_template(env, "export/model_documentation.md.j2", facts=facts, form=form, rows=rows, card=card)
