"""The token-classification task fed a fake tagger through the task interface: a function that
returns chosen tags for real WNUT-16 development tweets (gold tags with entities dropped, retyped
and cut short), so every entity figure is checked against seqeval in milliseconds, with no model."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from seqeval.metrics import accuracy_score, classification_report
from seqeval.scheme import IOB2

from reporter.datasets import Table
from reporter.errors import DataError
from reporter.facts import ArchitectureFacts, InferenceFacts, NotReported, TokenClassificationFacts
from reporter.runners.outcome import RunOutcome, WordTagger
from reporter.spec import DataSource, Evaluation
from reporter.tasks.token_classification import TokenClassificationTask
from tests.tasks import fake_context

REPO = Path(__file__).resolve().parents[2]
SECTION = Evaluation.model_validate(
    {
        "task": "token_classification",
        "tokens_column": "tokens",
        "label": "tags",
        "sensitive_features": ["mentions"],
        "min_group_size": 5,
    }
)


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


def development_table(rows: int = 200) -> Table:
    """The first WNUT-16 development tweets as the build reads them, with whether each mentions an account."""
    frame = pd.read_csv(REPO / "models" / "wnut16-minilm-ner" / "dev.csv", nrows=rows)
    frame["mentions"] = np.where(frame["tokens"].str.contains("@"), "mentions an account", "no account")
    source = DataSource.model_validate(
        {"id": "dev", "role": "evaluation", "license": "GPL-3.0-only", "description": "d"}
    )
    return Table(
        source=source,
        path=Path("dev.csv"),
        frame=frame,
        rows_in_file=len(frame),
        positions=np.arange(len(frame)),
        field="data.1",
    )


def fake_tagger(tokens: list[list[str]], predicted: list[list[str]], labels: list[str]) -> RunOutcome:
    """A model bound only for `tag_words`, answering the chosen tags of each known sentence."""
    lookup = {tuple(words): tags for words, tags in zip(tokens, predicted, strict=True)}
    tagger = WordTagger(
        tag=lambda sentences, on_progress=None: SimpleNamespace(
            tags=[lookup[tuple(words)] for words in sentences], untagged=0, seconds=0.5, batch_size=8, max_length=48
        ),
        labels=labels,
    )
    return RunOutcome(
        weight_files=[],
        parameter_names=None,
        trainable_names=None,
        architecture=ArchitectureFacts.model_construct(),
        training=NotReported(not_reported="fake"),
        evaluation_scores=None,
        inference=NotReported(not_reported="fake"),
        tag_words=tagger,
    )


def measured() -> tuple[TokenClassificationFacts, list[list[str]], list[list[str]], np.ndarray]:
    table = development_table()
    tokens, gold = [s.split() for s in table.frame["tokens"]], [s.split() for s in table.frame["tags"]]
    predicted = [perturbed(tags, i) for i, tags in enumerate(gold)]
    reported: list[InferenceFacts] = []
    context = dataclasses.replace(
        fake_context(REPO, slug="fake-ner"), evaluation_table=table, samples=50, report_inference=reported.append
    )
    task = TokenClassificationTask()
    inputs = task.read_inputs(SECTION, context)
    facts = task.evaluate(fake_tagger(tokens, predicted, sorted({t for tags in gold for t in tags})), inputs, context)
    [inference] = reported
    assert inference.rows == 200 and inference.rows_per_second == 400.0 and inference.batch_size == 8
    return facts, gold, predicted, table.frame["mentions"].to_numpy(dtype=str)


def test_bad_tags_are_refused_before_any_model_naming_the_row_and_the_data_source() -> None:
    table = development_table(rows=5)
    table.frame.loc[2, "tags"] = "O " + table.frame.loc[2, "tags"]
    context = dataclasses.replace(fake_context(REPO, slug="fake-ner"), evaluation_table=table)
    with pytest.raises(DataError, match=r"dev.csv: row 3 \(.*model.yaml: data.1\): \d+ tokens but \d+ tags"):
        TokenClassificationTask().read_inputs(SECTION, context)


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
