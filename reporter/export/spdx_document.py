"""The facts record as an SPDX 3.0.1 document (`spdx.json`, JSON-LD) with an AI package.

Written with `spdx-python-model`. That library checks property types but not the required
properties a class inherits, so the tests validate every example's document against the SPDX
3.0.1 JSON Schema shipped in `tests/fixtures/spdx/`. Beyond the schema, the AI profile's own
rules are kept: exactly one concluded and one declared license per AI package, and a supplier,
download location, version, purpose and release time.

Element ids are URNs made from the model's slug and weights fingerprint, so the same facts give
the same document; the library writes the graph sorted by id.
"""

from __future__ import annotations

import datetime
import io
import json
from typing import Any

from reporter import __version__
from reporter.extract.openness import is_spdx_license
from reporter.facts import (
    DataSourceFacts,
    DeclaredTrainingFacts,
    FactsRecord,
    NotReported,
    PerformanceFacts,
    TrainingFacts,
)
from reporter.tasks import figures_of


def spdx_document(facts: FactsRecord, *, report_url: str, created: datetime.datetime) -> str:
    """The document as deterministic JSON (two-space indent, trailing newline)."""
    from spdx_python_model import v3_0_1 as spdx

    base = f"urn:reporter:{facts.slug}:{facts.weights.fingerprint[:16]}"
    info = spdx.CreationInfo(specVersion="3.0.1", created=created)
    tool = spdx.Tool(spdxId=f"{base}/tool/reporter", name=f"reporter {__version__}", creationInfo=info)
    owners = [
        spdx.Organization(spdxId=f"{base}/owner/{index}", name=owner.name, creationInfo=info)
        for index, owner in enumerate(facts.card.owners)
    ]
    info.createdBy = owners
    info.createdUsing = [tool]
    package = spdx.ai_AIPackage(
        spdxId=f"{base}/model",
        creationInfo=info,
        name=facts.card.name,
        summary=facts.card.task,
        description=facts.card.description,
        software_packageVersion=facts.card.version,
        software_downloadLocation=facts.hub.url if facts.hub else report_url,
        software_primaryPurpose=spdx.software_SoftwarePurpose.model,
        suppliedBy=owners[0],
        ai_typeOfModel=[facts.architecture.module_class],
        ai_informationAboutApplication=" ".join(facts.card.intended_uses),
        ai_limitation=" ".join(facts.card.limitations),
        ai_metric=[spdx.DictionaryEntry(key=f.label, value=repr(f.value)) for f in figures_of(facts)],
        ai_useSensitivePersonalInformation=(
            spdx.PresenceType.yes if facts.sensitive_features else spdx.PresenceType.noAssertion
        ),
        ai_autonomyType=spdx.PresenceType.noAssertion,
        verifiedUsing=[
            spdx.Hash(algorithm=spdx.HashAlgorithm.sha256, hashValue=digest, comment=f"weight file {name}")
            for name, digest in facts.weights.files.items()
        ],
    )
    if facts.card.date:
        package.releaseTime = created  # the release date, which `created` is when the spec declares one
    if isinstance(facts.training, TrainingFacts):
        package.ai_hyperparameter = [
            spdx.DictionaryEntry(key=name, value=json.dumps(value))
            for name, value in facts.training.hyperparameters.items()
        ]
        package.ai_informationAboutTraining = _training_text(facts.training)
    elif isinstance(facts.training, DeclaredTrainingFacts):
        package.ai_informationAboutTraining = f"{facts.training.summary_text()}."
    else:
        package.ai_informationAboutTraining = f"Not trained by this build: {facts.training.not_reported}."
    if isinstance(facts.performance, PerformanceFacts) and facts.performance.threshold is not None:
        package.ai_metricDecisionThreshold = [
            spdx.DictionaryEntry(key="positive class score", value=repr(facts.performance.threshold))
        ]
    elements: list[Any] = [package, tool, *owners]
    elements += _license_elements(spdx, base, info, package, facts.card.license, name="model")
    for source in facts.data:
        elements += _dataset_elements(spdx, base, info, package, source)
    document = spdx.SpdxDocument(
        spdxId=f"{base}/document",
        creationInfo=info,
        name=f"{facts.card.name} {facts.card.version}",
        rootElement=[package],
        element=elements,
        profileConformance=[
            spdx.ProfileIdentifierType.core,
            spdx.ProfileIdentifierType.software,
            spdx.ProfileIdentifierType.ai,
            spdx.ProfileIdentifierType.dataset,
            spdx.ProfileIdentifierType.simpleLicensing,
        ],
    )
    objects = spdx.SHACLObjectSet([document, *elements])
    buffer = io.BytesIO()
    spdx.JSONLDSerializer().write(objects, buffer, indent=2, ensure_ascii=False)
    return buffer.getvalue().decode("utf-8") + "\n"


def _training_text(training: TrainingFacts) -> str:
    return (
        f"{len(training.history)} epochs with {training.optimizer} ({training.schedule}), seed {training.seed}, "
        f"on {training.train_rows} training and {training.validation_rows} validation rows."
    )


def _license_elements(spdx: Any, base: str, info: Any, element: Any, license: str, *, name: str) -> list[Any]:
    """The license as an SPDX expression, concluded and declared: an identifier SPDX lists is
    written as is, any other text as a `LicenseRef-` with the text kept as the element's comment."""
    expression = (
        license
        if is_spdx_license(license)
        else "LicenseRef-" + "-".join("".join(c if c.isalnum() or c == "." else " " for c in license).split())
    )
    text = spdx.simplelicensing_LicenseExpression(
        spdxId=f"{base}/license/{name}", creationInfo=info, simplelicensing_licenseExpression=expression
    )
    if expression != license:
        text.comment = f"As declared: {license}"
    relationships = [
        spdx.Relationship(
            spdxId=f"{base}/license/{name}/{kind}",
            creationInfo=info,
            from_=element,
            to=[text],
            relationshipType=getattr(spdx.RelationshipType, kind),
        )
        for kind in ("hasConcludedLicense", "hasDeclaredLicense")
    ]
    return [text, *relationships]


def _dataset_elements(spdx: Any, base: str, info: Any, package: Any, source: DataSourceFacts) -> list[Any]:
    dataset = spdx.dataset_DatasetPackage(
        spdxId=f"{base}/data/{source.id}",
        creationInfo=info,
        name=source.id,
        description=source.description,
        software_primaryPurpose=spdx.software_SoftwarePurpose.data,
        dataset_datasetType=[spdx.dataset_DatasetType.other],
    )
    if source.origin_url:
        dataset.software_downloadLocation = source.origin_url
    if not isinstance(source.measurements, NotReported):
        dataset.verifiedUsing = [spdx.Hash(algorithm=spdx.HashAlgorithm.sha256, hashValue=source.measurements.sha256)]
    if source.preprocessing:
        dataset.dataset_dataPreprocessing = [source.preprocessing]
    if source.collection:
        dataset.dataset_dataCollectionProcess = source.collection
    use = spdx.Relationship(
        spdxId=f"{base}/data/{source.id}/use",
        creationInfo=info,
        from_=package,
        to=[dataset],
        relationshipType=spdx.RelationshipType.trainedOn if source.role == "train" else spdx.RelationshipType.testedOn,
    )
    return [dataset, use, *_license_elements(spdx, base, info, dataset, source.license, name=f"data/{source.id}")]
