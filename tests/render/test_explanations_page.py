"""The explanations page: importances, groups and proxies from the facts, escaped, and what is
not reported said as such."""

from __future__ import annotations

import json

from reporter.facts import FactsRecord
from reporter.render.environment import cell, make_environment
from reporter.render.plots import plot_plan
from reporter.templating import render_template
from tests.conftest import FIXTURES

EXAMPLE = json.loads((FIXTURES / "facts" / "examples" / "adult-income-mlp.json").read_text())


def page(data: dict) -> str:
    record = FactsRecord.model_validate(data)
    plots = list(plot_plan(record))
    return render_template(make_environment(), "model/explanations.md.j2", facts=record, plots=plots, changed=False)


def test_every_column_group_and_proxy_is_shown() -> None:
    text = page(EXAMPLE)
    importance = EXAMPLE["explanations"]["importance"]
    for column in importance["columns"]:
        assert f"\n| {cell(column['column'])} |" in text
    assert "![Permutation importance" in text and "importance-groups.svg" in text
    assert "### sex × race" in text and "Female (n=" in text
    assert "**Proxies found:** **relationship** for sex" in text
    assert "association, not causation" in text
    assert f"random_state={importance['seed']}" in text


def test_a_model_the_build_does_not_run_says_why() -> None:
    data = json.loads(json.dumps(EXAMPLE))
    data["explanations"]["importance"] = {"not_reported": "the build does not run this model"}
    text = page(data)
    assert "Not reported" in text and "the build does not run this model" in text
    assert "Proxies found" in text  # proxies need the data only
    assert "importance.svg" not in text


def test_column_names_from_the_data_are_escaped() -> None:
    data = json.loads(json.dumps(EXAMPLE))
    data["explanations"]["importance"]["columns"][0]["column"] = "<script>alert(1)</script>"
    data["explanations"]["proxies"][0]["column"] = "<img src=x onerror=alert(1)>"
    text = page(data)
    assert "<script>" not in text and "<img" not in text


def test_records_of_schema_1_4_show_explanations_as_not_recorded() -> None:
    data = json.loads(json.dumps(EXAMPLE))
    data["schema_version"] = "1.4.0"
    del data["explanations"]
    text = page(data)
    assert "not recorded: these facts were written with schema 1\\.4\\.0" in text


MINILM = json.loads((FIXTURES / "facts" / "examples" / "adult-income-minilm.json").read_text())


def test_a_text_model_shows_its_token_attributions_complete() -> None:
    """The fine-tuned MiniLM example: attributions per column and example rows, the completeness
    check passed within its stated tolerance."""
    attributions = MINILM["explanations"]["attributions"]
    assert attributions["complete"] and attributions["max_absolute_delta"] <= attributions["tolerance"] == 0.01
    assert all(abs(e["delta"]) <= 0.01 for e in attributions["examples"])
    text = page(MINILM)
    assert "## Token attributions" in text and "**Completeness check: passed**" in text
    for column in attributions["columns"]:
        assert f"\n| {cell(column['column'])} |" in text
    assert text.count("**Evaluation row ") == len(attributions["examples"]) == 3


def test_tokens_are_escaped() -> None:
    data = json.loads(json.dumps(MINILM))
    data["explanations"]["attributions"]["examples"][0]["tokens"][1].update(token="<b>`x`</b>", attribution=99.0)
    text = page(data)
    assert "<b>" not in text.replace("``<b>`x`</b>``", "")  # only inside a code span, shown verbatim


def test_a_tabular_model_has_no_attribution_section() -> None:
    assert "Token attributions" not in page(EXAMPLE)


def test_the_privacy_page_shows_the_attack_overall_per_group_and_class() -> None:
    record = FactsRecord.model_validate(EXAMPLE)
    text = render_template(
        make_environment(), "model/privacy.md.j2", facts=record, plots=list(plot_plan(record)), changed=False
    )
    overall = EXAMPLE["privacy"]["membership"]["overall"]
    assert f"| all | {overall['members']:,} | {overall['nonmembers']:,} |" in text
    assert "### By sex × race" in text and "### By true class" in text and "membership-roc.svg" in text
    assert "trained without a formal privacy guarantee" in text


def test_a_loaded_model_says_why_it_has_no_membership_audit() -> None:
    data = json.loads((FIXTURES / "facts" / "examples" / "minilm-embeddings.json").read_text())
    record = FactsRecord.model_validate(data)
    text = render_template(make_environment(), "model/privacy.md.j2", facts=record, plots=[], changed=False)
    assert "which rows it was fitted on is not known to the build" in text
