"""The facts record as a CycloneDX 1.6 ML-BOM (`bom.cdx.json`).

cyclonedx-python-lib does not model `modelCard`, so the BOM is built as a dict that follows the
1.6 JSON schema; the tests validate every example's BOM with the library's strict validator.
The schema wants performance figures and interval bounds as strings: they are written with
`repr`, which reads back to the same float.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from reporter import __version__
from reporter.export.hf_card import pipeline_tag_of
from reporter.extract.openness import is_spdx_license
from reporter.facts import DataSourceFacts, FactsRecord, FairnessFacts, NotReported
from reporter.tasks import figures_of
from reporter.tasks.figures import Figure

BOM_NAMESPACE = uuid.UUID("5d1f3c9e-2b7a-4f0e-9a51-3c7e2f8d6b10")
"""Namespace of the BOM serial numbers: the same facts give the same serial number."""


def cyclonedx_bom(facts: FactsRecord, *, report_url: str) -> str:
    """The BOM as deterministic JSON (sorted keys, two-space indent, trailing newline)."""
    model_ref = f"model:{facts.slug}"
    data_refs = {source.id: f"data:{facts.slug}:{source.id}" for source in facts.data}
    model = {
        "type": "machine-learning-model",
        "bom-ref": model_ref,
        "name": facts.card.name,
        "version": facts.card.version,
        "description": facts.card.description,
        "licenses": [_license(facts.card.license)],
        "externalReferences": [{"type": "documentation", "url": report_url, "comment": "Full report"}],
        "components": [
            {
                "type": "file",
                "bom-ref": f"file:{facts.slug}:{name}",
                "name": name,
                "hashes": [{"alg": "SHA-256", "content": digest}],
            }
            for name, digest in facts.weights.files.items()
        ],
        "modelCard": _model_card(facts, data_refs),
    }
    if facts.hub is not None:
        model["externalReferences"].append(  # type: ignore[attr-defined]
            {
                "type": "distribution",
                "url": facts.hub.url,
                "comment": f"{facts.hub.repo_id} at commit {facts.hub.commit}",
            }
        )
    if len(facts.weights.files) == 1:
        model["hashes"] = [{"alg": "SHA-256", "content": next(iter(facts.weights.files.values()))}]
    if facts.card.owners:
        model["authors"] = [{"name": owner.name} for owner in facts.card.owners]
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{uuid.uuid5(BOM_NAMESPACE, facts.to_json())}",
        "version": 1,
        "metadata": {
            "tools": {"components": [{"type": "application", "name": "reporter", "version": __version__}]},
            "component": {"type": "machine-learning-model", "bom-ref": f"{model_ref}:root", "name": facts.card.name},
        },
        "components": [model, *(_data_component(facts, source, data_refs[source.id]) for source in facts.data)],
        "dependencies": [{"ref": model_ref, "dependsOn": sorted(data_refs.values())}],
    }
    return json.dumps(bom, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _license(identifier: str) -> dict[str, Any]:
    """An SPDX identifier as `id`; anything else as a `name` (the schema enumerates the ids)."""
    return {"license": {"id": identifier} if is_spdx_license(identifier) else {"name": identifier}}


def _data_component(facts: FactsRecord, source: DataSourceFacts, ref: str) -> dict[str, Any]:
    component: dict[str, Any] = {
        "type": "data",
        "bom-ref": ref,
        "name": source.id,
        "description": source.description,
        "licenses": [_license(source.license)],
        "data": [
            {
                "type": "dataset",
                "name": source.id,
                "description": source.description,
                **({"contents": {"url": source.origin_url}} if source.origin_url else {}),
                **(
                    {"governance": {"owners": [{"organization": {"name": o.name}} for o in facts.card.owners]}}
                    if facts.card.owners
                    else {}
                ),
            }
        ],
    }
    if not isinstance(source.measurements, NotReported):
        component["hashes"] = [{"alg": "SHA-256", "content": source.measurements.sha256}]
    if source.origin_url:
        component["externalReferences"] = [{"type": "distribution", "url": source.origin_url}]
    return component


def _model_card(facts: FactsRecord, data_refs: dict[str, str]) -> dict[str, Any]:
    parameters: dict[str, Any] = {
        "approach": {"type": "supervised" if not isinstance(facts.performance, NotReported) else "unsupervised"},
        "task": pipeline_tag_of(facts) or facts.card.task,
        "architectureFamily": facts.architecture.module_class,
        "modelArchitecture": facts.architecture.module_class,
    }
    if data_refs:
        parameters["datasets"] = [{"ref": ref} for ref in data_refs.values()]
    if not isinstance(facts.inference, NotReported):
        parameters["inputs"] = [{"format": facts.inference.input}]
    parameters["outputs"] = [{"format": _output_format(facts)}]
    card: dict[str, Any] = {"modelParameters": parameters}
    figures = figures_of(facts)
    if figures:
        card["quantitativeAnalysis"] = {"performanceMetrics": [_metric(f) for f in figures]}
    card["considerations"] = _considerations(facts)
    return card


def _output_format(facts: FactsRecord) -> str:
    kind = facts.labelled_kind
    if kind is None:
        return "embedding vectors" if not isinstance(facts.embedding_bias, NotReported) else "model outputs"
    return {
        "binary_classification": "score of the positive class",
        "multiclass_classification": "class probabilities",
        "image_classification": "class probabilities of an image",
        "regression": "predicted value",
    }[kind]


def _metric(figure: Figure) -> dict[str, Any]:
    metric: dict[str, Any] = {"type": figure.metric, "value": repr(figure.value)}
    if figure.slice is not None:
        metric["slice"] = figure.slice
    if figure.low is not None and figure.high is not None:
        metric["confidenceInterval"] = {"lowerBound": repr(figure.low), "upperBound": repr(figure.high)}
    return metric


def _considerations(facts: FactsRecord) -> dict[str, Any]:
    card = facts.card
    considerations: dict[str, Any] = {"useCases": card.intended_uses, "technicalLimitations": card.limitations}
    if card.intended_users:
        considerations["users"] = card.intended_users
    ethical = [{"name": text} for text in card.ethical_considerations]
    ethical += [{"name": f"Out of scope: {use}"} for use in card.out_of_scope_uses]
    considerations["ethicalConsiderations"] = ethical
    assessments = []
    if isinstance(facts.fairness, FairnessFacts):
        for feature in facts.fairness.features:
            for disparity in feature.disparities:
                if disparity.status in ("warn", "fail"):
                    value = disparity.value
                    interval = f" (95 % interval {value.low!r} to {value.high!r})" if value.low is not None else ""
                    assessments.append(
                        {
                            "groupAtRisk": f"groups of {feature.feature}",
                            "harms": (
                                f"{disparity.name} across {feature.feature} is {value.value!r}{interval}; "
                                f"the {disparity.status} threshold is {disparity.threshold!r} ({disparity.kind})"
                            ),
                            "mitigationStrategy": "none applied by this build; see the fairness report",
                        }
                    )
    if assessments:
        considerations["fairnessAssessments"] = assessments
    return considerations
