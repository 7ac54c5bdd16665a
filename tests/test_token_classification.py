"""A named-entity recogniser built end to end from real WNUT-16 tweets: fine-tuned from the packaged
MiniLM, loaded back from its published folder, and every entity figure on its card recomputed with
seqeval from tags computed one sentence at a time."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from seqeval.metrics import accuracy_score, classification_report
from seqeval.scheme import IOB2

from tests.conftest import HOSTILE_TYPE, development_tweets, evaluation_of, reporter, tag_one_sentence

pytestmark = pytest.mark.slow


def tags_one_by_one(folder: Path, sentences: list[list[str]]) -> list[list[str]]:
    """The published folder run the plain way, one sentence at a time, at its tokenizer's length."""
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModelForTokenClassification.from_pretrained(folder, local_files_only=True).eval()
    return [tag_one_sentence(model, tokenizer, words) for words in sentences]


def seqeval_report(gold: list[list[str]], predicted: list[list[str]], mode: str) -> dict[str, dict[str, float]]:
    options = {} if mode == "conlleval" else {"mode": "strict", "scheme": IOB2}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return classification_report(gold, predicted, output_dict=True, zero_division=0, **options)


def assert_scores_equal(scores: dict[str, object], expected: dict[str, float]) -> None:
    assert scores["gold"] == expected["support"]
    for ours, theirs in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
        value = scores[ours]["value"]  # type: ignore[index]
        assert (0.0 if value is None else value) == pytest.approx(expected[theirs], abs=1e-9)


def test_every_entity_figure_equals_seqeval(ner_project: Path) -> None:
    facts = json.loads((ner_project / "build" / "facts" / "test-ner.json").read_text())
    tagging = evaluation_of(facts, "token_classification")
    frame = development_tweets()
    gold = [s.split() for s in frame["tags"]]
    predicted = tags_one_by_one(
        ner_project / "build" / "checkpoints" / "test-ner", [s.split() for s in frame["tokens"]]
    )
    assert tagging["sentences"] == 160 and tagging["headline_mode"] == "conlleval"
    assert sum(m["micro"]["predicted"] for m in tagging["modes"]) > 0, "the model tags some entities"
    assert HOSTILE_TYPE in tagging["entity_types"]
    for mode in tagging["modes"]:
        report = seqeval_report(gold, predicted, mode["mode"])
        assert_scores_equal(mode["micro"], report["micro avg"])
        for scores in mode["types"]:
            if scores["type"] in report:
                assert_scores_equal(scores, report[scores["type"]])
            else:
                assert scores["gold"] == scores["predicted"] == 0
        micro = mode["micro"]["f1"]
        assert micro["low"] <= micro["value"] <= micro["high"]
    assert tagging["token_accuracy"]["value"] == pytest.approx(accuracy_score(gold, predicted), abs=1e-9)

    [by_mentions] = tagging["groups"]
    for group in by_mentions["groups"]:
        rows = frame["mentions"] == group["group"]
        report = seqeval_report(
            [g for g, r in zip(gold, rows, strict=True) if r],
            [p for p, r in zip(predicted, rows, strict=True) if r],
            "conlleval",
        )
        assert group["recall"]["value"] == pytest.approx(report["micro avg"]["recall"], abs=1e-9)
        assert group["f1"]["value"] == pytest.approx(report["micro avg"]["f1-score"], abs=1e-9)

    probe = tagging["name_probe"]
    assert [g["group"] for g in probe["groups"]] == ["Male names", "Female names"]
    assert [g["sentences"] for g in probe["groups"]] == [16, 16]


def test_the_loaded_folder_reproduces_the_trained_models_figures(ner_project: Path) -> None:
    trained, loaded = (
        json.loads((ner_project / "build" / "facts" / f"{slug}.json").read_text())
        for slug in ("test-ner", "test-ner-loaded")
    )
    assert loaded["architecture"]["module_class"] == "BertForTokenClassification"
    assert (
        evaluation_of(loaded, "token_classification")["modes"]
        == evaluation_of(trained, "token_classification")["modes"]
    )
    assert (
        evaluation_of(loaded, "token_classification")["groups"]
        == evaluation_of(trained, "token_classification")["groups"]
    )
    assert loaded["inference"]["input"].startswith("the tokens of column 'tokens'")
    verified = reporter(
        "verify", "models/test-ner-loaded/model.yaml", "build/facts/test-ner-loaded.json", cwd=ner_project
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "values of build/facts/test-ner-loaded.json reproduced" in verified.stdout


def test_the_card_shows_entities_per_type_per_group_and_the_probe(ner_project: Path) -> None:
    card = (ner_project / "site_src" / "models" / "test-ner" / "index.md").read_text()
    for phrase in ("Entities, all types", "Per entity type", "Span errors", "Entities by mentions", "Name probe"):
        assert phrase in card
    assert "<b>NER</b>" not in card and "<img" not in card
    catalog = (ner_project / "site_src" / "index.md").read_text()
    assert "entity F1" in catalog
    hf_card = (ner_project / "site" / "models" / "test-ner" / "README.md").read_text()
    assert "pipeline_tag: token-classification" in hf_card
    assert "entity_f1_conlleval" in hf_card
