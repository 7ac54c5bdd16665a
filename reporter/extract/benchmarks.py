"""A multiple-choice benchmark's figures from its items' log-likelihoods, as lm-evaluation-harness
defines them: `acc` (the right choice is the most likely; the first of equals wins, as numpy's
argmax picks) and `acc_norm` (the same after dividing each log-likelihood by its choice's length
in characters), each with a seeded bootstrap interval over items, overall and per category."""

from __future__ import annotations

import numpy as np

from reporter.benchmarks.items import BenchmarkItem
from reporter.extract.metrics import interval, row_bootstrap_weights
from reporter.facts import BenchmarkCategoryFacts, BenchmarkFacts, Interval
from reporter.spec.benchmarks import BenchmarkDeclaration

NORMALISATION = (
    "each choice's log-likelihood divided by the length in characters of the choice as lm-evaluation-harness "
    "counts it (its letter, or its text, without the space before it)"
)


def correct_answers(items: list[BenchmarkItem], log_likelihoods: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Whether each item is answered right, plain (`acc`) and length-normalised (`acc_norm`)."""
    plain = np.array([int(np.argmax(ll)) == item.gold for item, ll in zip(items, log_likelihoods, strict=True)])
    lengths = [np.array([float(len(choice)) for choice in item.choices]) for item in items]
    normalised = np.array(
        [int(np.argmax(ll / size)) == item.gold for item, ll, size in zip(items, log_likelihoods, lengths, strict=True)]
    )
    return plain.astype(np.float64), normalised.astype(np.float64)


def share_interval(correct: np.ndarray, *, samples: int, seed: int) -> Interval:
    """The share of items answered right, with its bootstrap 95 % percentile interval over items."""
    replicates = [
        weights @ correct / correct.size for weights in row_bootstrap_weights(correct.size, samples=samples, seed=seed)
    ]
    return interval(float(correct.mean()), np.concatenate(replicates) if replicates else None)


def benchmark_facts(
    declaration: BenchmarkDeclaration,
    items: list[BenchmarkItem],
    log_likelihoods: list[np.ndarray],
    *,
    data: tuple[str, str, int],
    seed: int,
    samples: int,
    skipped: list[int] | None = None,
) -> BenchmarkFacts:
    """The benchmark's facts; ``data`` is the items file's location, SHA-256 and item count
    (``skipped``: the lines of malformed items left out)."""
    plain, normalised = correct_answers(items, log_likelihoods)
    categories = sorted({item.category for item in items if item.category is not None})
    first = items[0]
    return BenchmarkFacts(
        name=declaration.name,
        title=declaration.title,
        data=data[0],
        sha256=data[1],
        license=declaration.license,
        origin_url=declaration.origin_url,
        description=declaration.description,
        prompt_source=declaration.prompt_source,
        example=first.context + "\n" + "\n".join(f"→ {c!r}" for c in first.continuations),
        items=len(items),
        items_in_file=data[2],
        sampled=len(items) < data[2],
        seed=seed,
        skipped_lines=skipped or [],
        few_shot=0,
        chance=float(np.mean([1 / len(item.choices) for item in items])),
        accuracy=share_interval(plain, samples=samples, seed=seed),
        accuracy_normalised=share_interval(normalised, samples=samples, seed=seed),
        normalisation=NORMALISATION,
        categories=[_category(name, items, plain, normalised, samples=samples, seed=seed) for name in categories],
    )


def _category(
    name: str, items: list[BenchmarkItem], plain: np.ndarray, normalised: np.ndarray, *, samples: int, seed: int
) -> BenchmarkCategoryFacts:
    chosen = np.array([item.category == name for item in items])
    return BenchmarkCategoryFacts(
        category=name,
        items=int(chosen.sum()),
        accuracy=share_interval(plain[chosen], samples=samples, seed=seed),
        accuracy_normalised=share_interval(normalised[chosen], samples=samples, seed=seed),
    )
