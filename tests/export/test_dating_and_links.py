"""Where the exports link to, and how they are dated when the spec gives no date."""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

from reporter.build import project_date
from reporter.export import document_date, report_url_of
from reporter.facts import FactsRecord
from reporter.project import Project
from tests.conftest import FIXTURES

RECORD = FactsRecord.model_validate(json.loads((FIXTURES / "facts" / "adult-income-mlp.json").read_text()))


def test_report_links_are_absolute_under_site_url_and_relative_without() -> None:
    assert report_url_of("m", None) == "index.html"
    assert report_url_of("m", "https://example.org/reports") == "https://example.org/reports/models/m/index.html"
    assert report_url_of("m", "https://example.org/reports/") == "https://example.org/reports/models/m/index.html"


def test_a_declared_date_wins_then_the_inputs_date() -> None:
    undated = datetime.datetime(2025, 5, 6, 7, 8, 9, 123, tzinfo=datetime.UTC)
    dated = RECORD.model_copy(update={"card": RECORD.card.model_copy(update={"date": "2026-02-03"})})
    assert document_date(dated, undated=undated) == datetime.datetime(2026, 2, 3, tzinfo=datetime.UTC)
    plain = RECORD.model_copy(update={"card": RECORD.card.model_copy(update={"date": None})})
    assert document_date(plain, undated=undated) == undated.replace(microsecond=0)


def test_outside_git_the_newest_spec_dates_the_inputs(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    for index, stamp in enumerate((1_700_000_000, 1_750_000_000)):
        spec = tmp_path / "models" / f"m{index}" / "model.yaml"
        spec.parent.mkdir(parents=True)
        spec.write_text("name: x\n")
        os.utime(spec, (stamp, stamp))
    assert project_date(Project(root=tmp_path)) == datetime.datetime.fromtimestamp(1_750_000_000, datetime.UTC)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1600000000")
    assert project_date(Project(root=tmp_path)) == datetime.datetime.fromtimestamp(1_600_000_000, datetime.UTC)
