"""The FMTI 2025 scorecard: the index's shape, each reading against the record it reads, and the
`reporter check --strict-transparency` gate."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reporter.facts import FactsRecord
from reporter.render.fmti import INDICATORS, scorecard
from tests.conftest import REPO
from tests.test_cli import run_cli

EXAMPLES = REPO / "tests" / "fixtures" / "facts" / "examples"


def example(slug: str) -> FactsRecord:
    return FactsRecord.model_validate_json((EXAMPLES / f"{slug}.json").read_text())


def test_the_index_has_its_hundred_indicators_in_three_domains() -> None:
    """December 2025: 34 upstream, 30 model, 36 downstream, numbered in the table's order."""
    assert [i.number for i in INDICATORS] == list(range(1, 101))
    domains = [i.domain for i in INDICATORS]
    assert (domains.count("Upstream"), domains.count("Model"), domains.count("Downstream")) == (34, 30, 36)
    named = {i.number: i.name for i in INDICATORS}
    assert named[46] == "Train-test overlap" and named[55] == "External reproducibility of mitigations evaluation"
    assert named[17] == "Data language composition" and named[100] == "Government commitments"


def test_counts_add_up_and_nothing_out_of_scope_is_scored() -> None:
    card = scorecard(example("adult-income-mlp"))
    assert len(card.disclosures) + len(card.out_of_scope) == 100
    assert card.disclosed == card.count("measured") + card.count("declared")
    assert {i.number for i in card.out_of_scope}.isdisjoint({d.indicator.number for d in card.disclosures})
    assert all(d.status in ("measured", "declared", "missing") and d.holds.endswith(".") for d in card.disclosures)


@pytest.fixture
def built_project(tmp_path: Path) -> Path:
    """This repository's specs with the committed example facts as the last build's."""
    root = tmp_path / "project"
    for facts in EXAMPLES.glob("*.json"):
        shutil.copytree(REPO / "models" / facts.stem, root / "models" / facts.stem)
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(REPO / "site_src", root / "site_src")
    shutil.copytree(EXAMPLES, root / "build" / "facts")
    return root


def test_strict_transparency_fails_below_the_threshold_and_names_what_is_missing(built_project: Path) -> None:
    facts = [example(p.stem) for p in EXAMPLES.glob("*.json")]
    lowest = min(scorecard(f).disclosed for f in facts)
    passing = run_cli("check", str(built_project), "--strict-transparency", str(lowest))
    assert passing.returncode == 0, passing.stdout + passing.stderr
    failing = run_cli("check", str(built_project), "--strict-transparency", str(lowest + 1))
    assert failing.returncode == 1
    assert "fewer than" in failing.stdout and "not disclosed:" in failing.stdout


def test_strict_transparency_without_a_build_names_the_fix(built_project: Path) -> None:
    shutil.rmtree(built_project / "build")
    result = run_cli("check", str(built_project), "--strict-transparency", "10")
    assert result.returncode == 2 and "reporter build" in result.stderr and "Traceback" not in result.stderr
