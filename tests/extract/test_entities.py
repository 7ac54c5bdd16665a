"""Entity-level scores against seqeval (both readings), hand-made span errors and group ratios."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval.metrics import accuracy_score, classification_report
from seqeval.scheme import IOB2

from reporter.extract.entities import (
    MODES,
    entities,
    entity_counts,
    group_facts,
    mode_facts,
    sentence_weights,
    span_errors,
    token_accuracy,
)

TAGS = ["O", "O", "B-person", "I-person", "B-geo-loc", "I-geo-loc", "B-org", "I-org"]
TYPES = ["geo-loc", "org", "person"]

sentences = st.lists(st.lists(st.sampled_from(TAGS), min_size=1, max_size=9), min_size=1, max_size=12)


@st.composite
def gold_and_predicted(draw: st.DrawFn) -> tuple[list[list[str]], list[list[str]]]:
    gold = draw(sentences)
    predicted = [draw(st.lists(st.sampled_from(TAGS), min_size=len(s), max_size=len(s))) for s in gold]
    return gold, predicted


def seqeval_report(gold: list[list[str]], predicted: list[list[str]], mode: str) -> dict[str, dict[str, float]]:
    options = {} if mode == "conlleval" else {"mode": "strict", "scheme": IOB2}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # seqeval warns when a metric is undefined; it then reports 0
        return classification_report(gold, predicted, output_dict=True, zero_division=0, **options)


@settings(max_examples=300, deadline=None)
@given(gold_and_predicted())
def test_scores_equal_seqeval_in_both_readings(case: tuple[list[list[str]], list[list[str]]]) -> None:
    gold, predicted = case
    weights = sentence_weights(len(gold), samples=20, seed=0)
    for mode in MODES:
        facts = mode_facts(entity_counts(gold, predicted, mode=mode, types=TYPES), mode=mode, weights=weights)
        report = seqeval_report(gold, predicted, mode)
        scored = [*facts.types, facts.micro.model_copy(update={"type": "micro avg"})]
        for scores in scored:
            if scores.type not in report:  # seqeval lists only types present on either side
                assert scores.gold == scores.predicted == 0
                continue
            expected = report[scores.type]
            assert scores.gold == expected["support"]
            for ours, theirs in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
                value = getattr(scores, ours).value
                # Undefined here (no predicted or no gold entity) is reported as 0 by seqeval.
                assert (0.0 if value is None else value) == pytest.approx(expected[theirs], abs=1e-9)
                if value is None:
                    assert (scores.predicted if ours == "precision" else scores.gold) == 0
    assert token_accuracy(gold, predicted, weights).value == pytest.approx(accuracy_score(gold, predicted), abs=1e-9)


def test_the_two_readings_differ_on_an_inside_tag_without_a_beginning() -> None:
    tags = ["I-person", "I-person", "O", "B-org", "I-person"]
    assert entities(tags, mode="conlleval") == {("person", 0, 2), ("org", 3, 4), ("person", 4, 5)}
    assert entities(tags, mode="strict") == {("org", 3, 4)}


def test_span_errors_classify_each_gold_entity_once() -> None:
    gold = [
        ["B-person", "I-person", "O", "B-geo-loc", "O", "B-org", "O", "O"],
        ["B-person", "O", "O", "O"],
    ]
    predicted = [
        # person exact; geo-loc predicted as org (wrong type); org widened (wrong boundary); spurious person
        ["B-person", "I-person", "O", "B-org", "O", "B-org", "I-org", "B-person"],
        # person overlapped only by a wider geo-loc (wrong type and boundary)
        ["B-geo-loc", "I-geo-loc", "O", "O"],
    ]
    found = {e.type: e for e in span_errors(gold, predicted, types=TYPES)}
    assert (found["person"].correct, found["person"].wrong_type_and_boundary, found["person"].gold) == (1, 1, 2)
    assert (found["geo-loc"].wrong_type, found["geo-loc"].gold) == (1, 1)
    assert (found["org"].wrong_boundary, found["org"].gold) == (1, 1)
    assert (found["person"].predicted, found["person"].spurious) == (2, 1)
    assert (found["geo-loc"].predicted, found["geo-loc"].spurious) == (1, 0)
    assert found["org"].predicted == 2 and found["org"].spurious == 0
    for errors in found.values():
        assert errors.gold == sum(
            getattr(errors, k) for k in ("correct", "wrong_type", "wrong_boundary", "wrong_type_and_boundary", "missed")
        )


def test_groups_get_their_own_scores_and_ratios_to_the_largest_group() -> None:
    # Group a: 40 sentences, one person each, all found. Group b: 30 sentences, half found.
    gold = [["B-person", "O"]] * 70
    predicted = [["B-person", "O"]] * 40 + [["B-person", "O"], ["O", "O"]] * 15
    groups = np.array(["a"] * 40 + ["b"] * 30 + [])
    counts = entity_counts(gold, predicted, mode="conlleval", types=["person"])
    facts = group_facts(
        counts,
        groups,
        feature="source",
        weights=sentence_weights(70, samples=500, seed=0),
        reference=None,
        min_group_size=30,
        privacy_threshold=10,
        ratio_threshold=0.8,
    )
    by_group = {g.group: g for g in facts.groups}
    assert facts.reference_group == "a"
    assert by_group["a"].recall.value == 1.0 and by_group["b"].recall.value == pytest.approx(0.5)
    assert by_group["b"].f1.value == pytest.approx(2 * 15 / (30 + 15))
    assert by_group["b"].ratios_to_reference["recall"].value == pytest.approx(0.5)
    assert facts.status == "fail"
    low, high = by_group["b"].recall.low, by_group["b"].recall.high
    assert low is not None and high is not None and low < 0.5 < high


def test_small_groups_are_hidden_or_marked() -> None:
    gold = [["B-person"]] * 45
    groups = np.array(["big"] * 35 + ["small"] * 5 + ["mid"] * 5)
    counts = entity_counts(gold, gold, mode="conlleval", types=["person"])
    facts = group_facts(
        counts,
        groups,
        feature="f",
        weights=sentence_weights(45, samples=50, seed=0),
        reference=None,
        min_group_size=30,
        privacy_threshold=5,
        ratio_threshold=0.8,
    )
    assert {g.group: g.status for g in facts.groups} == {
        "big": "reported",
        "mid": "insufficient_data",
        "small": "insufficient_data",
    }
    assert facts.status == "not_computed"
