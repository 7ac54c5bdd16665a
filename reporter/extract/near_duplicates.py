"""Near-duplicate documents between a training and an evaluation source: evaluation texts whose
word shingles overlap a training text's by a Jaccard similarity of at least :data:`THRESHOLD`.

A retweet with a handle changed, or a sentence with one word corrected, is not an exact duplicate
but tells the model the answer just the same. Comparing every evaluation text with every training
text is quadratic, so candidates come from MinHash signatures in a locality-sensitive index
(`datasketch`, seeded, so the same texts give the same candidates); each candidate pair is then
confirmed with the exact Jaccard similarity of the two shingle sets, so every pair counted really is
at or above the threshold. What the index can miss is a pair near the threshold: its probability at
the threshold itself is computed from the index's bands and rows and stated beside the count.
Each distinct normalised text is shingled and signed once, however often it repeats; a training
text too few of whose shingles occur in any evaluation text to reach the threshold is never signed
(an exact bound); shingles are
hashed with CRC-32 (a third faster than datasketch's default SHA-1, and as deterministic: a
collision can only add a candidate, which the exact comparison then rejects).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

SHINGLE_WORDS = 3
"""Words per shingle: short enough for a tweet of a dozen words to have several."""
THRESHOLD = 0.8
"""Jaccard similarity of the shingle sets at or above which two texts are near-duplicates."""
PERMUTATIONS = 128
"""Hash functions per MinHash signature."""
INDEX_THRESHOLD = 0.6
MISS_WEIGHTS = (0.1, 0.9)
"""The index is tuned below the threshold, weighing a missed pair nine times a false candidate, when
it chooses its bands (25 bands of 5 rows): a false candidate only costs one exact comparison, a
missed pair is a wrong count. A pair at exactly THRESHOLD is then missed with probability 5e-5."""
CHUNK = 20_000
"""Training texts signed at a time, so memory stays bounded for a million texts."""


@dataclass(frozen=True)
class NearDuplicateSearch:
    """Which evaluation texts have a near-duplicate in training, and how sure the search is."""

    mask: np.ndarray
    """Per evaluation text: a training text's shingles overlap its own at Jaccard ≥ THRESHOLD."""
    miss_probability: float
    """Probability that the index never proposes a pair whose similarity is exactly THRESHOLD."""


def shingles(text: str) -> frozenset[bytes]:
    """The text's overlapping runs of :data:`SHINGLE_WORDS` words (a shorter text is one shingle);
    the text is expected normalised (case-folded, white space collapsed)."""
    words = text.split()
    if len(words) <= SHINGLE_WORDS:
        return frozenset({" ".join(words).encode()})
    return frozenset(" ".join(words[i : i + SHINGLE_WORDS]).encode() for i in range(len(words) - SHINGLE_WORDS + 1))


def jaccard(left: frozenset[bytes], right: frozenset[bytes]) -> float:
    """Shared shingles over all shingles of the two texts."""
    return len(left & right) / len(left | right)


def near_duplicate_mask(
    train_texts: Sequence[str],
    evaluation_texts: Sequence[str],
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> NearDuplicateSearch:
    """Per evaluation text, whether some training text is a near-duplicate of it. Texts are
    expected normalised (the caller's normalisation is the one its card states)."""
    from datasketch import MinHash, MinHashLSH

    position = {text: i for i, text in enumerate(dict.fromkeys(evaluation_texts))}
    evaluation_unique = list(position)
    evaluation_shingles = [shingles(text) for text in evaluation_unique]
    index = MinHashLSH(threshold=INDEX_THRESHOLD, num_perm=PERMUTATIONS, weights=MISS_WEIGHTS)
    with index.insertion_session() as session:
        for key, signature in enumerate(MinHash.bulk(evaluation_shingles, num_perm=PERMUTATIONS, hashfunc=zlib.crc32)):
            session.insert(key, signature, check_duplication=False)
    found = np.zeros(len(evaluation_unique), dtype=bool)
    universe = frozenset().union(*evaluation_shingles)
    train_unique = list(dict.fromkeys(train_texts))
    for start, chunk in _chunks(train_unique):
        chunk_shingles = [own for own in map(shingles, chunk) if _may_match(own, universe)]
        for own, signature in zip(
            chunk_shingles, MinHash.bulk(chunk_shingles, num_perm=PERMUTATIONS, hashfunc=zlib.crc32), strict=True
        ):
            for key in index.query(signature):
                if not found[key] and jaccard(own, evaluation_shingles[key]) >= THRESHOLD:
                    found[key] = True
        if on_progress:
            on_progress(start + len(chunk), len(train_unique))
    proposed = 1 - (1 - THRESHOLD**index.r) ** index.b
    mask = found[
        np.fromiter((position[text] for text in evaluation_texts), dtype=np.int64, count=len(evaluation_texts))
    ]
    return NearDuplicateSearch(mask=mask, miss_probability=float(1 - proposed))


def _may_match(own: frozenset[bytes], universe: frozenset[bytes]) -> bool:
    """Whether a training text could reach THRESHOLD with any evaluation text: a Jaccard of t
    needs |A ∩ B| ≥ t·|A ∪ B| ≥ t·|A|, so at least that share of its shingles must occur somewhere
    in the evaluation texts. An exact bound (it never drops a match) that spares most training
    texts their signature and their look-up."""
    return len(own & universe) >= THRESHOLD * len(own) - 1e-9


def _chunks(texts: list[str]) -> Iterator[tuple[int, list[str]]]:
    """The texts in runs of :data:`CHUNK`, with where each run starts."""
    for start in range(0, len(texts), CHUNK):
        yield start, texts[start : start + CHUNK]


def describe() -> str:
    """The method in words, as the card states it."""
    return (
        f"texts compared as sets of {SHINGLE_WORDS}-word shingles after the normalisation above; a near-duplicate "
        f"shares at least {THRESHOLD:.0%} of the two texts' shingles (Jaccard similarity ≥ {THRESHOLD}), exact "
        f"duplicates included; candidates from {PERMUTATIONS}-permutation MinHash signatures in a "
        "locality-sensitive index (datasketch), each confirmed by its exact Jaccard similarity"
    )
