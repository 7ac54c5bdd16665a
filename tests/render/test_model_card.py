"""The model card's account of the training data: rows read from each source, then the split used."""

from __future__ import annotations

import copy
import json

from reporter.facts import FactsRecord
from reporter.render.pages import render_site
from tests.conftest import FIXTURES

BASE = json.loads((FIXTURES / "facts" / "adult-income-mlp.json").read_text())


def training_data_section(data: dict) -> str:
    record = FactsRecord.model_validate(data)
    card = render_site([record])[f"models/{record.slug}/index.md"].decode()
    return card.split("## Training data", 1)[1].split("\n## ", 1)[0]


def test_the_card_tells_rows_read_from_rows_trained_on() -> None:
    data = copy.deepcopy(BASE)
    data["training"]["train_rows"], data["training"]["validation_rows"] = 1_800, 200  # a subsampling recipe
    section = training_data_section(data)
    read = next(source for source in data["data"] if source["role"] == "train")["measurements"]["rows_used"]
    assert f"({read:,} rows read;" in section
    assert "training in this build used 1,800 rows and held out 200 for validation" in section
    assert "rows used" not in section  # the source's size is not what the model was trained on


def test_a_model_not_trained_here_states_no_split() -> None:
    data = copy.deepcopy(BASE)
    data["training"] = {"not_reported": "Loaded from a checkpoint; not trained in this build."}
    section = training_data_section(data)
    assert "rows read" in section
    assert "held out" not in section
