"""Word n-gram overlap of a language model's documents with training text, against a brute force
that slides every document window along every training text."""

from __future__ import annotations

import re

import numpy as np
import pytest

from reporter.extract.ngram_overlap import N, ngram_overlap
from tests.conftest import REPO

SONNETS = REPO / "models" / "smollm2-135m-instruct" / "sonnets.csv"


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def occurs(window: list[str], text: list[str]) -> bool:
    """Whether ``window`` appears contiguously in ``text`` (compared slice by slice)."""
    return any(text[i : i + len(window)] == window for i in range(len(text) - len(window) + 1))


def brute_force(training: list[str], documents: list[str]) -> tuple[list[bool], int, int]:
    """Per document: some window of N words (the whole document when shorter) occurs in a training
    text; and the distinct windows, and those found, summed over documents."""
    trained = [words(t) for t in training]
    overlapping, total, found = [], 0, 0
    for document in documents:
        own = words(document)
        size = min(len(own), N)
        windows = {tuple(own[i : i + size]) for i in range(len(own) - size + 1)}
        hits = sum(any(occurs(list(w), t) for t in trained) for w in windows)
        overlapping.append(hits > 0)
        total, found = total + len(windows), found + hits
    return overlapping, total, found


@pytest.fixture(scope="module")
def sonnets() -> list[str]:
    import pandas as pd

    return pd.read_csv(SONNETS)["text"].tolist()


def test_counts_equal_the_brute_force_on_real_sonnets(sonnets: list[str]) -> None:
    """Training text: 40 sonnets, two lines of one evaluation sonnet spliced into other prose (a
    single line of another, too short for a 13-gram), and
    one evaluation sonnet with one word changed in each line; evaluation: 30 other sonnets, those
    three included, and short texts that occur whole or not at all."""
    generator = np.random.default_rng(3)
    evaluation = sonnets[60:90]
    lines = [sonnet.splitlines() for sonnet in evaluation]
    spliced = ["Preface. " + " ".join(lines[0][2:4]) + " And so on.", lines[5][4]]  # two lines hold 13 words
    changed = "\n".join(line.replace(" the ", " a ", 1) for line in evaluation[9].splitlines())
    training = [*sonnets[:40], *spliced, changed]
    documents = [*evaluation, "Shall I compare thee", "words that occur nowhere at all"]
    documents += [sonnets[int(generator.integers(0, 40))]]  # a training sonnet evaluated again
    found = ngram_overlap(training, documents)
    oracle, total, hits = brute_force(training, documents)
    assert found.overlapping.tolist() == oracle
    assert (found.ngrams, found.ngrams_in_training) == (total, hits)
    assert oracle[0] and oracle[-1] and not oracle[-2]
    assert 3 <= sum(oracle) < len(documents)


def test_punctuation_and_case_do_not_hide_a_copy() -> None:
    text = "One two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    found = ngram_overlap([text.upper().replace(" ", ", ")], [text + "!"])
    assert found.overlapping.tolist() == [True] and found.ngrams == found.ngrams_in_training == 2
