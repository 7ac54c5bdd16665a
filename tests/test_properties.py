"""Property-based tests (hypothesis): the spec loader never crashes on any YAML, and any facts
record survives a JSON round trip and renders with its text escaped."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reporter.errors import SpecError
from reporter.facts import FactsRecord
from reporter.render.pages import render_site
from reporter.spec import ModelSpec, load_spec
from tests.conftest import FIXTURES

FIELD_NAMES = list(ModelSpec.model_fields) + ["train", "load", "recipe", "file", "path", "data", "label", "x"]
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(FIELD_NAMES), children, max_size=5)
    ),
    max_leaves=25,
)
specs = st.dictionaries(st.sampled_from(FIELD_NAMES), values, max_size=12)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=specs)
def test_any_mapping_loads_or_gives_spec_errors(tmp_path: Path, document: dict) -> None:
    path = tmp_path / "some-model" / "model.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    try:
        load_spec(path)
    except SpecError as exc:
        assert exc.problems and all(p.file == path and p.fix for p in exc.problems)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_load_or_give_spec_errors(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "some-model" / "model.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(raw)
    try:
        load_spec(path)
    except SpecError as exc:
        assert exc.problems


BASE_FACTS = json.loads((FIXTURES / "facts" / "adult-income-mlp.json").read_text())
hostile_text = st.text(min_size=1, max_size=40) | st.sampled_from(
    [
        "<script>alert(1)</script>",
        "{{ 7 * 7 }}",
        "[x](javascript:alert(1))",
        "a | b",
        "`code`",
        "line\nbreak",
        r"$\frac$ broken math",
        "$x^2$",
    ]
)
OWN_MARKUP = re.compile(r'<span class="reporter-status[^"]*">[^<]*</span>')  # the templates' status badges
estimates = st.none() | st.floats(min_value=0, max_value=1)


@settings(max_examples=40, deadline=None)
@given(name=hostile_text, limitation=hostile_text, group=hostile_text, value=estimates, low=estimates)
def test_facts_round_trip_and_render_escaped(name: str, limitation: str, group: str, value, low) -> None:
    data = json.loads(json.dumps(BASE_FACTS))
    data["card"]["name"], data["card"]["limitations"] = name, [limitation]
    feature = data["fairness"]["features"][0]
    feature["groups"][0]["group"] = group
    feature["groups"][0]["accuracy"] = {"value": value, "low": low, "high": None}
    record = FactsRecord.model_validate(data)
    assert FactsRecord.model_validate_json(record.to_json()) == record
    assert record.to_json() == FactsRecord.model_validate_json(record.to_json()).to_json()
    pages = render_site([record])
    markdown = [OWN_MARKUP.sub("", page.decode()) for path, page in pages.items() if path.endswith(".md")]
    for text in (name, limitation, group):
        if "<" in text:
            assert all(text not in page for page in markdown)
