"""Perplexity and the likelihood bias probe against hand-computed cases and scipy."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import binomtest

from reporter.extract.embedding_bias import WordSets
from reporter.extract.language import (
    extract_perplexity,
    probe_category,
    probe_pairs,
    sign_flip_p_value,
    sign_test_p_value,
)


def test_perplexity_of_a_hand_computed_case() -> None:
    # Two documents: 3 tokens with probabilities 1/2, 1/4, 1/8 and 1 token with probability 1/4.
    losses = np.array([math.log(2) + math.log(4) + math.log(8), math.log(4)])
    facts = extract_perplexity(
        losses, np.array([3, 1]), np.array([10, 6]), source="s", documents_in_file=5, window=8, method="m", samples=500
    )
    # exp(mean NLL) = exp(8 ln 2 / 4) = 2^2 = 4; bits = 8, bytes = 16: 0.5 bits per byte.
    assert facts.perplexity.value == pytest.approx(4.0, rel=1e-12)
    assert facts.bits_per_byte.value == pytest.approx(0.5, rel=1e-12)
    assert (facts.tokens, facts.bytes, facts.documents, facts.sampled) == (4, 16, 2, True)
    # Resampling two documents: both the first (2^(6/3) = 4), both the second (4), or one of each (4).
    assert facts.perplexity.low == pytest.approx(4.0) and facts.perplexity.high == pytest.approx(4.0)


def test_perplexity_interval_resamples_documents() -> None:
    rng = np.random.default_rng(1)
    tokens = rng.integers(50, 200, size=40)
    losses = tokens * rng.uniform(2.0, 5.0, size=40)
    facts = extract_perplexity(
        losses, tokens, tokens * 4, source="s", documents_in_file=40, window=64, method="m", samples=2000, seed=3
    )
    assert facts.perplexity.low < facts.perplexity.value < facts.perplexity.high
    chosen = np.random.default_rng(3).integers(0, 40, size=(2000, 40))
    replicates = np.exp(losses[chosen].sum(axis=1) / tokens[chosen].sum(axis=1))
    assert facts.perplexity.low == pytest.approx(np.percentile(replicates, 2.5), rel=1e-12)
    assert not facts.sampled


def test_sign_test_matches_scipy() -> None:
    for above, below, ties in ((30, 34, 0), (50, 14, 3), (0, 9, 1), (7, 7, 0)):
        differences = np.r_[np.ones(above), -np.ones(below), np.zeros(ties)]
        expected = binomtest(above, above + below, 0.5, alternative="two-sided").pvalue
        assert sign_test_p_value(differences) == pytest.approx(expected, rel=1e-12)
    assert sign_test_p_value(np.zeros(4)) == 1.0


def test_sign_flip_p_value_approaches_the_exact_enumeration() -> None:
    differences = np.array([0.9, 0.4, -0.2, 1.3, 0.7, -0.5, 0.8, 0.1, 0.6, -0.1])
    observed = abs(differences.mean())
    flips = np.array(list(itertools.product([-1.0, 1.0], repeat=differences.size)))
    exact = float((np.abs((flips * differences).mean(axis=1)) >= observed - 1e-12).mean())
    estimate = sign_flip_p_value(differences, permutations=50_000, seed=0)
    assert estimate == pytest.approx(exact, abs=0.005)


def test_pairs_differ_only_in_the_group_term_and_follow_the_iat_direction() -> None:
    test = WordSets(
        number=6,
        names=("Male names", "Female names", "Career", "Family"),
        words=(["John", "Paul"], ["Amy", "Joan"], ["office", "salary"], ["home", "children"]),
        original_d=0.72,
    )
    pairs, sampled = probe_pairs(test, ["{target} thinks of {attribute}."], max_pairs=100, seed=0)
    assert not sampled and len(pairs) == 2 * (2 + 2)
    by_sentence = {p.sentences()[0]: p.sentences()[1] for p in pairs}
    assert by_sentence["John thinks of office."] == "Amy thinks of office."
    assert by_sentence["Amy thinks of home."] == "John thinks of home."
    assert all(
        p.continuation in (" thinks of office.", " thinks of salary.", " thinks of home.", " thinks of children.")
        for p in pairs
    )
    sample, sampled = probe_pairs(test, ["{target} thinks of {attribute}."], max_pairs=5, seed=0)
    again, _ = probe_pairs(test, ["{target} thinks of {attribute}."], max_pairs=5, seed=0)
    assert sampled and len(sample) == 5 and set(sample) <= set(pairs) and sample == again


def test_probe_category_figures() -> None:
    test_pairs, _ = probe_pairs(
        WordSets(1, ("X", "Y", "A", "B"), (["x"], ["y"], ["a"], ["b"]), None),
        ["{target} {attribute}"],
        max_pairs=9,
        seed=0,
    )
    stereotyped = np.array([-1.0, -2.0])
    other = np.array([-1.5, -1.0])
    facts = probe_category("t", test_pairs, stereotyped, other, sampled=False, permutations=1000, samples=200, seed=0)
    assert facts.stereotyped_share.value == 0.5 and facts.mean_difference.value == pytest.approx(-0.25)
    assert facts.share_p_value == 1.0 and facts.example == ["x a", "y a"]
