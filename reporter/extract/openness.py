"""The Model Openness Framework class a model reaches, as its reference tool assesses it.

The framework (Linux Foundation AI & Data) names 17 components of a model release. A class is
reached when every required component of that class and of the classes above it is released under
an open license: Class III (open model) first, then Class II (open tooling), then Class I (open
science). This follows the reference tool (lfai/model_openness_tool, `mof.settings.yml` and
`ModelEvaluator.php`) rule for rule:

- a component's license is its own, else its content type's, else the model's (distribution) license;
- a license counts as open when the tool's license table says so; an unknown identifier or a
  missing license never counts;
- an open license not listed for the component's content type still counts, but is flagged;
- the technical report may be replaced by a research paper;
- optional components (model metadata, supporting libraries, sample outputs) never decide a class.

What this build itself publishes (the model card, the data card when there is data, the
evaluation results when there are any) is released by the build. The data sets and the
evaluation data are released where their datasheets say they come from (`origin_url`), under
their declared licenses, when every such source has one. Everything else is declared in the
spec's `openness` section, which also overrides what is derived.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final, Literal

from reporter.facts import DataSourceFacts, OpennessComponentFacts, OpennessFacts
from reporter.spec import Openness, ReleasedComponent

ContentType = Literal["code", "data", "document"]
MofClass = Literal[1, 2, 3]

FRAMEWORK: Final = "Model Openness Framework, as lfai/model_openness_tool assesses it (commit 8b5d30e, 2026-05-11)"


@dataclass(frozen=True)
class Component:
    key: str
    name: str
    content_type: ContentType
    mof_class: MofClass
    required: bool


COMPONENTS: Final = (
    Component("model_architecture", "Model architecture", "code", 3, True),
    Component("final_parameters", "Model parameters (Final)", "data", 3, True),
    Component("evaluation_results", "Evaluation results", "document", 3, True),
    Component("model_card", "Model card", "document", 3, True),
    Component("data_card", "Data card", "document", 3, True),
    Component("technical_report", "Technical report", "document", 3, True),
    Component("sample_outputs", "Sample model outputs", "document", 3, False),
    Component("training_code", "Training code", "code", 2, True),
    Component("inference_code", "Inference code", "code", 2, True),
    Component("evaluation_code", "Evaluation code", "code", 2, True),
    Component("evaluation_data", "Evaluation data", "data", 2, True),
    Component("supporting_libraries", "Supporting libraries and tools", "code", 2, False),
    Component("datasets", "Datasets", "data", 1, True),
    Component("preprocessing_code", "Data preprocessing code", "code", 1, True),
    Component("intermediate_parameters", "Model parameters (Intermediate)", "data", 1, True),
    Component("research_paper", "Research paper", "document", 1, True),
    Component("model_metadata", "Model metadata", "data", 1, False),
)

CLASS_LABELS: Final = {
    0: "Not classified",
    1: "Class I – Open Science Model",
    2: "Class II – Open Tooling Model",
    3: "Class III – Open Model",
}


@dataclass(frozen=True)
class LicenseInfo:
    open: bool
    types: tuple[str, ...]


@cache
def license_table() -> dict[str, LicenseInfo]:
    """The reference tool's license table (SPDX identifiers), shipped in `reporter/data`."""
    text = resources.files("reporter").joinpath("data/mof_licenses.json").read_text(encoding="utf-8")
    return {
        key: LicenseInfo(open=v["open"], types=tuple(v["types"])) for key, v in json.loads(text)["licenses"].items()
    }


def closest_spdx_license(text: str) -> str | None:
    """The SPDX identifier a license written by hand most likely means ('CC BY 4.0' → 'CC-BY-4.0'),
    or None when it is one already or nothing is close."""
    if is_spdx_license(text):
        return None
    normal = {"-".join(key.lower().replace("-", " ").split()): key for key in license_table()}
    wanted = "-".join(text.lower().replace("-", " ").split())
    if wanted in normal:
        return normal[wanted]
    close = difflib.get_close_matches(wanted, list(normal), n=1, cutoff=0.85)
    return normal[close[0]] if close else None


def is_spdx_license(identifier: str) -> bool:
    """Whether ``identifier`` is an SPDX license identifier (exact, case-sensitive, as SPDX writes them)."""
    return identifier in license_table()


def assess_openness(
    *,
    declared: Openness,
    model_license: str | None,
    data: list[DataSourceFacts],
    evaluation_reported: bool,
    samples_published: bool = False,
) -> OpennessFacts:
    """Every component's status and the class reached.

    Args:
        declared: The spec's `openness` section.
        model_license: The spec's `license`, the distribution-wide license of the release (None:
            none, as in the reference tool's test releases; a spec always names one).
        data: The model's data sources: a data card is published when there is at least one.
        evaluation_reported: Whether the build published evaluation results (performance facts).
        samples_published: Whether the card shows sample outputs the build generated.
    """
    built = {"model_card": "index.md"}
    if data:
        built["data_card"] = "data.md"
    if evaluation_reported:
        built["evaluation_results"] = "facts.json"
    if samples_published:
        built["sample_outputs"] = "index.md"
    from_data = {
        key: release
        for key, sources in (("datasets", data), ("evaluation_data", [d for d in data if d.role == "evaluation"]))
        if (release := _published_data(sources)) is not None
    }
    facts = [
        _component_facts(c, declared=declared, model_license=model_license, built=built, from_data=from_data)
        for c in COMPONENTS
    ]
    released = {f.key for f in facts if f.status == "open"}
    if "research_paper" in released:
        released.add("technical_report")  # the framework lets a research paper stand in for it
    reached = 0
    missing: list[str] = []
    for mof_class in (3, 2, 1):
        needed = [c.key for c in COMPONENTS if c.required and c.mof_class >= mof_class]
        missing = [key for key in needed if key not in released]
        if missing:
            break
        reached = mof_class
    next_class: MofClass | None = None if reached == 1 else (3 if reached == 0 else 2 if reached == 3 else 1)
    return OpennessFacts(
        framework=FRAMEWORK,
        reached=reached,
        label=CLASS_LABELS[reached],
        components=facts,
        next_class=next_class,
        missing_for_next=missing if next_class is not None else [],
    )


def _published_data(sources: list[DataSourceFacts]) -> ReleasedComponent | None:
    """Data sources as one released component, if every one says where it is published."""
    if not sources or any(not s.origin_url for s in sources):
        return None
    licenses = sorted({s.license for s in sources})
    return ReleasedComponent(
        location=" ".join(dict.fromkeys(s.origin_url for s in sources if s.origin_url)), license=" AND ".join(licenses)
    )


def _is_open(license: str) -> bool:
    """Whether a license (or an `A AND B` of them, for several data sources) is open: every part
    must be an identifier the framework's table knows as open."""
    parts = [license_table().get(part) for part in license.split(" AND ")]
    return all(p is not None and p.open for p in parts)


def _suggestion(parts: list[str]) -> str | None:
    """The license with each hand-written part replaced by the SPDX identifier it likely means."""
    suggested = [closest_spdx_license(part) for part in parts]
    if not any(suggested):
        return None
    return " AND ".join(s or part for s, part in zip(suggested, parts, strict=True))


def _component_facts(
    component: Component,
    *,
    declared: Openness,
    model_license: str | None,
    built: dict[str, str],
    from_data: dict[str, ReleasedComponent],
) -> OpennessComponentFacts:
    release = declared.components.get(component.key) or from_data.get(component.key)  # type: ignore[call-overload]
    identity = {
        "key": component.key,
        "name": component.name,
        "content_type": component.content_type,
        "mof_class": component.mof_class,
        "required": component.required,
    }
    if release is None and component.key not in built:
        return OpennessComponentFacts(
            **identity,
            status="not_released",
            license=None,
            license_origin=None,
            type_appropriate=None,
            license_suggestion=None,
            location=None,
            origin=None,
        )
    type_license = getattr(declared.licenses, component.content_type)
    license, origin = (
        (release.license, "component")
        if release is not None and release.license
        else (type_license, "type")
        if type_license
        else (model_license, "model")
    )
    is_open = license is not None and _is_open(license)
    parts = license.split(" AND ") if license else []
    types = [set(info.types) for part in parts if (info := license_table().get(part))]
    return OpennessComponentFacts(
        **identity,
        status="open" if is_open else "not_open",
        license=license,
        license_origin=origin if license else None,
        type_appropriate=all(component.content_type in t for t in types) if is_open else None,
        license_suggestion=_suggestion(parts),
        location=release.location if release is not None else built[component.key],
        origin="declared" if release is not None else "build",
    )
