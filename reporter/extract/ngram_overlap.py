"""N-gram overlap between a language model's evaluation documents and the training text a spec
provides: the contamination test of the GPT-3 paper (Brown et al., 2020, appendix C), on words.

A document whose word 13-grams also occur in the training text may have been memorised rather
than predicted, which lowers its perplexity for the wrong reason. Words are the runs of letters
and digits of the case-folded text (punctuation and white space separate them); a document counts
as overlapping when at least one of its 13-grams occurs in the training text; a document of fewer
than 13 words is compared as a whole, as one n-gram. The training n-grams are held as a set of
word tuples, so every match is exact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

N = 13
WORD = re.compile(r"\w+")
NORMALISATION = (
    "case-folded text split into words (runs of letters and digits; punctuation and white space separate them); "
    f"word {N}-grams, a document of fewer than {N} words compared as one n-gram of all its words"
)


def words_of(text: str) -> list[str]:
    return WORD.findall(text.casefold())


def grams(words: list[str], size: int) -> set[tuple[str, ...]]:
    """The word sequence's runs of ``size`` words."""
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


@dataclass(frozen=True)
class NgramOverlap:
    """Per document whether it overlaps, and how many of all its n-grams occur in training."""

    overlapping: np.ndarray
    ngrams: int
    ngrams_in_training: int


def ngram_overlap(training_texts: Iterable[str], documents: list[str]) -> NgramOverlap:
    """The documents' n-grams looked up in the training texts' n-grams of the same length: 13 words,
    or a short document's own length, so a short document overlaps when it occurs whole."""
    document_words = [words_of(document) for document in documents]
    sizes = {min(len(words), N) for words in document_words if words}
    seen: dict[int, set[tuple[str, ...]]] = {size: set() for size in sizes}
    for text in training_texts:
        words = words_of(text)
        for size in sizes:
            seen[size] |= grams(words, size)
    found, total = [], 0
    for words in document_words:
        size = min(len(words), N)
        own = grams(words, size) if words else set()
        total += len(own)
        found.append(len(own & seen[size]) if own else 0)
    return NgramOverlap(
        overlapping=np.array([count > 0 for count in found], dtype=bool),
        ngrams=total,
        ngrams_in_training=sum(found),
    )
