"""The token-classification task's measurement fed a fake tagger: a function that returns chosen
tags for real WNUT-16 development tweets (gold tags with entities dropped, retyped and cut short),
so every entity figure is checked against seqeval in milliseconds, with no model."""

from __future__ import annotations

import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from seqeval.metrics import accuracy_score, classification_report
from seqeval.scheme import IOB2

from reporter.facts import ArchitectureFacts, NotReported
from reporter.progress import JobProgress
from reporter.runners.outcome import RunOutcome
from reporter.settings import BuildSettings
from reporter.spec import LoadedSpec, ModelSpec
from reporter.token_job import Sentences, Tagger, TokenInputs, token_classification_facts

REPO = Path(__file__).resolve().parents[2]
SPEC = """\
name: A fake tagger
version: "1"
task: named-entity recognition
description: Tags chosen by the test.
owners: [{name: tests}]
license: MIT
intended_uses: [tests]
out_of_scope_uses: [everything else]
limitations: [not a model]
source:
  load: {format: transformers, file: {path: fake}}
evaluation:
  task: token_classification
  tokens_column: tokens
  label: tags
  sensitive_features: [mentions]
  min_group_size: 5
"""


def perturbed(tags: list[str], index: int) -> list[str]:
    """Gold tags with mistakes of every kind: every third sentence loses its entities, every
    fourth has its types changed to `person`, every fifth has each entity's I- tags cut off."""
    if index % 3 == 0:
        return ["O"] * len(tags)
    if index % 4 == 0:
        return [t if t == "O" else f"{t[:2]}person" for t in tags]
    if index % 5 == 0:
        return ["O" if t.startswith("I-") else t for t in tags]
    return list(tags)


def measured() -> tuple[object, list[list[str]], list[list[str]], np.ndarray]:
    frame = pd.read_csv(REPO / "models" / "wnut16-minilm-ner" / "dev.csv", nrows=200)
    tokens, gold = [s.split() for s in frame["tokens"]], [s.split() for s in frame["tags"]]
    predicted = [perturbed(tags, i) for i, tags in enumerate(gold)]
    mentions = np.where(frame["tokens"].str.contains("@"), "mentions an account", "no account")
    spec = ModelSpec.model_validate(yaml.safe_load(SPEC))
    loaded = LoadedSpec(slug="fake-ner", path=Path("models/fake-ner/model.yaml"), spec=spec)
    lookup = {tuple(words): tags for words, tags in zip(tokens, predicted, strict=True)}
    fake = Tagger(
        tag=lambda sentences, on_progress=None: SimpleNamespace(
            tags=[lookup[tuple(words)] for words in sentences], untagged=0, seconds=0.5, batch_size=8, max_length=48
        ),
        labels=sorted({t for tags in gold for t in tags}),
        outcome=RunOutcome(
            weight_files=[],
            parameter_names=None,
            trainable_names=None,
            architecture=ArchitectureFacts.model_construct(),
            training=NotReported(not_reported="fake"),
            evaluation_scores=None,
            inference=NotReported(not_reported="fake"),
        ),
    )
    inputs = TokenInputs(
        train=None, evaluation=Sentences(tokens=tokens, tags=gold), groups={"mentions": mentions}, probe=None
    )
    _, facts = token_classification_facts(
        loaded,
        inputs,
        fake,
        device="cpu",
        settings=BuildSettings(bootstrap_samples=50),
        progress=JobProgress("fake-ner", epochs=None, send=lambda event: None),
        source="dev.csv",
    )
    return facts, gold, predicted, mentions


def seqeval_report(gold: list[list[str]], predicted: list[list[str]], mode: str) -> dict[str, dict[str, float]]:
    options = {} if mode == "conlleval" else {"mode": "strict", "scheme": IOB2}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return classification_report(gold, predicted, output_dict=True, zero_division=0, **options)


def test_every_entity_figure_equals_seqeval_in_both_readings() -> None:
    facts, gold, predicted, _ = measured()
    assert facts.kind == "token_classification" and facts.sentences == 200
    assert {m.mode for m in facts.modes} == {"conlleval", "strict"}
    for mode in facts.modes:
        report = seqeval_report(gold, predicted, mode.mode)
        micro = report["micro avg"]
        assert mode.micro.gold == micro["support"]
        for ours, theirs in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
            assert getattr(mode.micro, ours).value == pytest.approx(micro[theirs], abs=1e-12), (mode.mode, ours)
        for scores in mode.types:
            if scores.type in report:
                expected = report[scores.type]
                assert scores.gold == expected["support"]
                assert (scores.f1.value or 0.0) == pytest.approx(expected["f1-score"], abs=1e-12)
                assert (scores.recall.value or 0.0) == pytest.approx(expected["recall"], abs=1e-12)
    assert facts.token_accuracy.value == pytest.approx(accuracy_score(gold, predicted), abs=1e-12)


def test_group_recall_and_f1_equal_seqeval_on_each_groups_sentences() -> None:
    facts, gold, predicted, mentions = measured()
    [feature] = facts.groups
    assert feature.feature == "mentions"
    for group in feature.groups:
        rows = mentions == group.group
        report = seqeval_report(
            [g for g, r in zip(gold, rows, strict=True) if r],
            [p for p, r in zip(predicted, rows, strict=True) if r],
            "conlleval",
        )
        assert group.sentences == int(rows.sum())
        assert group.recall.value == pytest.approx(report["micro avg"]["recall"], abs=1e-12)
        assert group.f1.value == pytest.approx(report["micro avg"]["f1-score"], abs=1e-12)
