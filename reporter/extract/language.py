"""Facts about a decoder language model: perplexity on declared text, a likelihood bias probe.

**Perplexity** is exp(total negative log-likelihood / predicted tokens) over the scored documents,
and **bits per byte** the same total in bits over the documents' UTF-8 bytes (comparable across
tokenizers). Their 95 % intervals resample whole documents with replacement (seeded), because
tokens within a document are not independent.

**The bias probe** follows the likelihood comparison of CrowS-Pairs (Nangia et al. 2020) with
pairs built from WEAT word sets (Caliskan et al. 2017): for a test with targets X, Y and attributes
A, B, the i-th words xᵢ, yᵢ of the two targets are put in a template with an attribute word. For
a ∈ A the stereotyped sentence (the direction of the human IAT finding) holds xᵢ and the other
yᵢ; for b ∈ B the reverse. The template puts the group term first, so both sentences continue
identically, and the model's log-probability of that shared continuation given each prefix is
compared: this leaves out how common each name or group word is by itself. Per test: the share of
pairs where the stereotyped sentence is more likely (exact two-sided sign test against one half,
ties left out) and the mean log-probability difference (two-sided sign-flip permutation test,
(1 + hits) / (1 + permutations)), each with a bootstrap interval over pairs.

What it shows: which of two group terms the model expects before the same words. What it does not
show: harm in any application; templates this simple measure associations, not behaviour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from reporter.extract.embedding_bias import WordSets
from reporter.extract.metrics import interval
from reporter.facts import BiasCategoryFacts, LikelihoodBiasFacts, PerplexityFacts

PROBE_METHOD = (
    "pairs from WEAT word sets: the i-th words of the two targets in the same template with the same attribute "
    "word; the stereotyped sentence follows the human IAT finding (first target with the first attribute, second "
    "target with the second); scored by the log-probability of the words after the group term, given the start "
    "token and the group term"
)


def perplexity_method(start_token: str, window: int) -> str:
    return (
        f"each document starts with the start token {start_token!r} so its first word is predicted too, and is cut "
        f"into windows of at most {window} tokens that share one token each; every token is predicted once, "
        "with the context of its own window only"
    )


def extract_perplexity(
    losses: np.ndarray,
    tokens: np.ndarray,
    byte_counts: np.ndarray,
    *,
    source: str,
    documents_in_file: int,
    window: int,
    method: str,
    samples: int,
    seed: int = 0,
) -> PerplexityFacts:
    """Perplexity and bits per byte of the scored documents, with intervals over documents.

    Args:
        losses: negative log-likelihood of each document, in nats.
        tokens: tokens predicted in each document.
        byte_counts: UTF-8 bytes of each document.
    """
    losses, tokens, byte_counts = (np.asarray(a, dtype=np.float64) for a in (losses, tokens, byte_counts))
    rng = np.random.default_rng(seed)
    chosen = rng.integers(0, losses.size, size=(samples, losses.size))
    resampled = losses[chosen].sum(axis=1)
    return PerplexityFacts(
        source=source,
        documents=int(losses.size),
        documents_in_file=documents_in_file,
        sampled=bool(losses.size < documents_in_file),
        tokens=int(tokens.sum()),
        bytes=int(byte_counts.sum()),
        window=window,
        method=method,
        perplexity=interval(math.exp(losses.sum() / tokens.sum()), np.exp(resampled / tokens[chosen].sum(axis=1))),
        bits_per_byte=interval(
            losses.sum() / (math.log(2) * byte_counts.sum()),
            resampled / (math.log(2) * byte_counts[chosen].sum(axis=1)),
        ),
    )


@dataclass(frozen=True)
class ProbePair:
    """Two sentences that differ only in their group term, and the continuation both share."""

    stereotyped: str
    other: str
    continuation: str

    def sentences(self) -> list[str]:
        return [self.stereotyped + self.continuation, self.other + self.continuation]


def probe_pairs(test: WordSets, templates: list[str], *, max_pairs: int, seed: int) -> tuple[list[ProbePair], bool]:
    """Every pair a test and the templates make, or a seeded sample of ``max_pairs``; and whether sampled."""
    first, second, first_attribute, second_attribute = test.words
    pairs = []
    for template in templates:
        head, tail = template.split("{target}", 1)
        for x, y in zip(first, second, strict=False):
            for attribute in first_attribute:
                pairs.append(ProbePair(head + x, head + y, tail.replace("{attribute}", attribute)))
            for attribute in second_attribute:
                pairs.append(ProbePair(head + y, head + x, tail.replace("{attribute}", attribute)))
    if len(pairs) <= max_pairs:
        return pairs, False
    chosen = np.sort(np.random.default_rng(seed).choice(len(pairs), size=max_pairs, replace=False))
    return [pairs[i] for i in chosen], True


def sign_test_p_value(differences: np.ndarray) -> float:
    """Exact two-sided binomial test of P(difference > 0) = 1/2, ties left out."""
    above, below = int((differences > 0).sum()), int((differences < 0).sum())
    n = above + below
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(above, below) + 1)) / 2**n
    return min(1.0, 2 * tail)


def sign_flip_p_value(differences: np.ndarray, *, permutations: int, seed: int) -> float:
    """Two-sided: the share of random sign flips whose |mean| is at least the observed, (1 + hits) / (1 + n)."""
    rng = np.random.default_rng(seed)
    observed = abs(differences.mean())
    signs = rng.choice(np.array([-1.0, 1.0]), size=(permutations, differences.size))
    hits = int((np.abs((signs * differences).mean(axis=1)) >= observed - 1e-12).sum())
    return (1 + hits) / (1 + permutations)


def probe_category(
    title: str,
    pairs: list[ProbePair],
    stereotyped: np.ndarray,
    other: np.ndarray,
    *,
    sampled: bool,
    permutations: int,
    samples: int,
    seed: int,
) -> BiasCategoryFacts:
    """One test's figures from the log-probabilities of each pair's shared continuation."""
    differences = np.asarray(stereotyped, dtype=np.float64) - np.asarray(other, dtype=np.float64)
    rng = np.random.default_rng(seed)
    chosen = rng.integers(0, differences.size, size=(samples, differences.size))
    resampled = differences[chosen]
    return BiasCategoryFacts(
        category=title,
        pairs=int(differences.size),
        sampled=sampled,
        stereotyped_share=interval(float((differences > 0).mean()), (resampled > 0).mean(axis=1)),
        share_p_value=sign_test_p_value(differences),
        mean_difference=interval(float(differences.mean()), resampled.mean(axis=1)),
        difference_p_value=sign_flip_p_value(differences, permutations=permutations, seed=seed),
        example=pairs[0].sentences(),
    )


def bias_probe_facts(
    categories: list[BiasCategoryFacts], *, source: str, templates: list[str], max_pairs: int, permutations: int
) -> LikelihoodBiasFacts:
    return LikelihoodBiasFacts(
        source=source,
        templates=templates,
        method=PROBE_METHOD,
        max_pairs=max_pairs,
        permutations=permutations,
        categories=categories,
    )
