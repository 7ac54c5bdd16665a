"""The name-template probe: its sentences, and its shares and ratios from hand-made predictions."""

from __future__ import annotations

import pytest

from reporter.extract.embedding_bias import WordSets
from reporter.extract.name_probe import name_probe_facts, probe_groups, probe_sentences

TESTS = [
    WordSets(
        number=6,
        names=("Male names", "Female names", "Career", "Family"),
        words=(["John", "Paul"], ["Amy", "Joan", "Mary Ann"], ["office"], ["home"]),
        original_d=1.0,
    )
]
TEMPLATES = ["{} is here .", "I met {} today ."]


def test_every_name_goes_into_every_template_with_its_span() -> None:
    groups = probe_groups(TESTS)
    assert [(g.label, g.reference) for g in groups] == [("Male names", "Male names"), ("Female names", "Male names")]
    sentences = probe_sentences(groups, TEMPLATES)
    assert len(sentences) == (2 + 3) * 2
    two_words = next(s for s in sentences if s.name == "Mary Ann" and s.tokens[0] == "I")
    assert two_words.tokens == ["I", "met", "Mary", "Ann", "today", "."]
    assert two_words.span == (2, 4)


def test_shares_and_ratio_from_hand_made_tags() -> None:
    groups = probe_groups(TESTS)
    sentences = probe_sentences(groups, TEMPLATES)
    predicted = []
    for s in sentences:
        tags = ["O"] * len(s.tokens)
        start, end = s.span
        if s.name == "Joan":  # tagged as a place: same span, another type
            tags[start] = "B-geo-loc"
        elif s.name == "Mary Ann":  # only the first word found: partly
            tags[start] = "B-person"
        elif s.name != "Amy" or s.tokens[0] == "I":  # Amy missed in the first template only
            tags[start:end] = ["B-person"] + ["I-person"] * (end - start - 1)
        predicted.append(tags)
    facts = name_probe_facts(
        groups,
        sentences,
        predicted,
        entity_type="person",
        templates=TEMPLATES,
        source="test lists",
        license="MIT",
        ratio_threshold=0.8,
        samples=200,
    )
    male, female = facts.groups
    assert male.recognised.value == 1.0 and male.ratio_to_reference is None
    # Female: Amy 1 of 2 sentences, Joan 0, Mary Ann 0 -> mean over names (0.5 + 0 + 0) / 3.
    assert female.recognised.value == pytest.approx(0.5 / 3)
    assert female.ratio_to_reference is not None and female.ratio_to_reference.value == pytest.approx(0.5 / 3)
    assert (female.other_type, female.partly, female.missed) == pytest.approx((2 / 6, 2 / 6, 1 / 6))
    assert facts.status == "fail"
    assert female.example == ["Amy is here .", "O O O O"]
