"""The openness class against the Model Openness Tool's own test releases, and the build's part."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from reporter.extract.openness import COMPONENTS, assess_openness, is_spdx_license, license_table
from reporter.facts import DataSourceFacts, NotReported
from reporter.spec import Openness

MOF = Path(__file__).resolve().parent.parent / "fixtures" / "mof"
KEYS = {c.name: c.key for c in COMPONENTS}


def expected_class(name: str) -> int:
    """The class the tool reaches, from the progress in the file name: the lowest-numbered class at 100 %
    whose classes above are at 100 % too."""
    progress = {int(c): int(p) for c, p in re.findall(r"C(\d)_(\d+)%", name)}
    reached = 0
    for mof_class in (3, 2, 1):
        if progress[mof_class] < 100:
            break
        reached = mof_class
    return reached


def release_of(path: Path) -> tuple[Openness, str | None]:
    release = yaml.safe_load(path.read_text())["release"]
    licenses = release.get("license") or {}
    components = {
        KEYS[c["name"]]: {"location": c.get("component_path") or "unspecified", "license": c.get("license") or None}
        for c in release["components"]
    }
    types = {t: licenses[t]["name"] for t in ("code", "data", "document") if t in licenses}
    openness = Openness.model_validate({"licenses": types, "components": components})
    return openness, (licenses.get("distribution") or {}).get("name")


@pytest.mark.parametrize("path", sorted(MOF.glob("*.yml")), ids=lambda p: p.stem[:40])
def test_class_equals_the_reference_tool(path: Path) -> None:
    openness, distribution = release_of(path)
    facts = assess_openness(declared=openness, model_license=distribution, data=[], evaluation_reported=False)
    assert facts.reached == expected_class(path.name)
    if facts.next_class is not None:
        assert facts.missing_for_next, "a class not reached names what it lacks"
        for key in facts.missing_for_next:
            component = next(c for c in facts.components if c.key == key)
            assert component.status != "open" and component.mof_class >= facts.next_class


def test_the_test_releases_cover_every_class() -> None:
    assert {expected_class(p.name) for p in MOF.glob("*.yml")} == {0, 1, 2, 3}


def test_unknown_and_missing_licenses_never_count() -> None:
    declared = Openness.model_validate(
        {
            "components": {
                "model_architecture": {"location": "x", "license": "Apache 2"},  # not an SPDX identifier
                "final_parameters": {"location": "x", "license": "LicenseRef-mine"},
            }
        }
    )
    facts = assess_openness(declared=declared, model_license=None, data=[], evaluation_reported=False)
    by_key = {c.key: c for c in facts.components}
    assert by_key["model_architecture"].status == "not_open"
    assert by_key["final_parameters"].status == "not_open"
    assert by_key["model_card"].status == "not_open" and by_key["model_card"].license is None
    assert facts.reached == 0 and "model_architecture" in facts.missing_for_next


def source(role: str, license: str, url: str | None) -> DataSourceFacts:
    return DataSourceFacts(
        id=f"{role}-data",
        role=role,  # type: ignore[arg-type]
        location=None,
        license=license,
        origin_url=url,
        description="d",
        collection=None,
        preprocessing=None,
        rows_declared=None,
        row_selection=None,
        measurements=NotReported(not_reported="not read"),
    )


def test_the_build_publishes_cards_and_results_and_data_comes_from_datasheets() -> None:
    data = [source("train", "CC-BY-4.0", "https://a"), source("evaluation", "CC0-1.0", "https://b")]
    facts = assess_openness(declared=Openness(), model_license="Apache-2.0", data=data, evaluation_reported=True)
    by_key = {c.key: c for c in facts.components}
    for key, page in (("model_card", "index.md"), ("data_card", "data.md"), ("evaluation_results", "facts.json")):
        assert (by_key[key].status, by_key[key].origin, by_key[key].location) == ("open", "build", page)
        assert by_key[key].license == "Apache-2.0" and by_key[key].license_origin == "model"
    assert by_key["datasets"].license == "CC-BY-4.0 AND CC0-1.0" and by_key["datasets"].status == "open"
    assert by_key["evaluation_data"].license == "CC0-1.0" and by_key["evaluation_data"].location == "https://b"
    # The tool lists Apache-2.0 for code and documents: right for a card (MIT for data sets is flagged below).
    assert by_key["model_card"].type_appropriate is True
    without_url = assess_openness(
        declared=Openness(), model_license="MIT", data=[source("train", "CC-BY-4.0", None)], evaluation_reported=False
    )
    assert {c.key: c.status for c in without_url.components}["datasets"] == "not_released"


def test_a_declared_component_overrides_what_is_derived() -> None:
    declared = Openness.model_validate({"components": {"datasets": {"location": "https://mirror", "license": "MIT"}}})
    facts = assess_openness(
        declared=declared,
        model_license="MIT",
        data=[source("train", "proprietary", "https://a")],
        evaluation_reported=False,
    )
    datasets = next(c for c in facts.components if c.key == "datasets")
    assert (datasets.status, datasets.location, datasets.type_appropriate) == ("open", "https://mirror", False)


def test_license_table_is_the_spdx_list() -> None:
    table = license_table()
    assert len(table) > 600 and is_spdx_license("Apache-2.0") and not is_spdx_license("apache-2.0")
    assert table["CC-BY-4.0"].open and not table["CC-BY-NC-4.0"].open


def test_declaring_a_component_recomputes_nothing() -> None:
    """The openness section is re-read on every build, like the card's prose: not part of the cache key."""
    from reporter.pipeline import computed_part
    from reporter.spec import load_spec
    from tests.conftest import REPO

    spec = load_spec(REPO / "models" / "adult-income-mlp" / "model.yaml").spec
    declared = Openness.model_validate({"components": {"technical_report": {"location": "https://x"}}})
    edited = spec.model_copy(update={"openness": declared, "intended_users": ["someone"]})
    assert computed_part(spec) == computed_part(edited)
    assert computed_part(spec) != computed_part(spec.model_copy(update={"allow_pickle": True}))


def test_a_hand_written_license_is_not_open_but_gets_the_identifier_it_means() -> None:
    declared = Openness.model_validate({"components": {"datasets": {"location": "https://a", "license": "CC BY 4.0"}}})
    facts = assess_openness(declared=declared, model_license="MIT", data=[], evaluation_reported=False)
    datasets = next(c for c in facts.components if c.key == "datasets")
    assert (datasets.status, datasets.license_suggestion) == ("not_open", "CC-BY-4.0")
    mixed = [source("train", "see origin", "https://a"), source("evaluation", "ODC-By 1.0", "https://b")]
    derived = assess_openness(declared=Openness(), model_license="MIT", data=mixed, evaluation_reported=False)
    by_key = {c.key: c for c in derived.components}
    assert by_key["datasets"].license_suggestion == "ODC-By-1.0 AND see origin"
    assert by_key["model_card"].license_suggestion is None  # MIT is an identifier already
