"""The fairness page states the ratio threshold the project actually applies."""

from __future__ import annotations

import copy
import json

from reporter.facts import FactsRecord
from reporter.render.environment import make_environment
from reporter.templating import render_template
from tests.conftest import FIXTURES

BASE = json.loads((FIXTURES / "facts" / "adult-income-mlp.json").read_text())


def fairness_page(ratio_threshold: float) -> str:
    data = copy.deepcopy(BASE)
    for feature in data["fairness"]["features"]:
        for disparity in feature["disparities"]:
            if disparity["kind"] == "ratio":
                disparity["threshold"] = ratio_threshold
    record = FactsRecord.model_validate(data)
    return render_template(make_environment(), "model/fairness.md.j2", facts=record, plots=[], changed=False)


def test_the_reference_ratio_rule_shows_the_configured_threshold() -> None:
    assert "asks for at least 0.80:" in fairness_page(0.8)
    page = fairness_page(0.9)
    assert "asks for at least 0.90:" in page and "0.80" not in page.split("Ratios to the reference group")[1][:200]
