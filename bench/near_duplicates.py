"""Benchmark: near-duplicate texts among 1,000,000 training texts for 100,000 evaluation texts,
reporter's route (MinHash signatures in a locality-sensitive index, each candidate confirmed by its
exact Jaccard similarity) against the naive route (the exact Jaccard of every pair), on a sample of
evaluation texts, extrapolated.

The texts are real WNUT-16 tweets (the example's files) with 0 to 4 of their words replaced by
words drawn from a 50,000-word vocabulary, so that almost every text is distinct and the
similarities to the source tweets spread across the threshold. The naive route compares
``--sample`` evaluation texts with every training text; its time is scaled to all evaluation
texts, and reporter's mask on those texts must equal it. Each route runs in a fresh process (so
that its peak memory is its own); medians of ``--repeats``.

Usage: `.venv/bin/python bench/near_duplicates.py [--train-texts 1000000] [--eval-texts 100000]
[--sample 40] [--repeats 3]`.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.child_runs import median_of_children  # noqa: E402
from reporter.extract.near_duplicates import THRESHOLD, jaccard, near_duplicate_mask, shingles  # noqa: E402

WNUT = REPO / "models" / "wnut16-minilm-ner"


def make_texts(count: int, seed: int) -> list[str]:
    """``count`` tweets drawn from both WNUT-16 files, each with 0 to 4 words replaced, case-folded."""
    tweets = pd.concat([pd.read_csv(WNUT / name)["tokens"] for name in ("train.csv", "dev.csv")]).tolist()
    generator = np.random.default_rng(seed)
    texts = []
    for index, edits in zip(generator.integers(0, len(tweets), count), generator.integers(0, 5, count), strict=True):
        words = tweets[index].casefold().split()
        for position in generator.integers(0, len(words), edits):
            words[position] = f"w{generator.integers(50_000)}"
        texts.append(" ".join(words))
    return texts


def brute_force(train: list[str], evaluation: list[str]) -> list[bool]:
    """Per evaluation text: some training text's shingles overlap its own at Jaccard ≥ THRESHOLD."""
    train_sets = [shingles(text) for text in dict.fromkeys(train)]
    return [any(jaccard(own, other) >= THRESHOLD for other in train_sets) for own in map(shingles, evaluation)]


def child(route: str, args: argparse.Namespace) -> None:
    """One timed run in this process: prints seconds, peak memory and the mask of the sample as JSON."""
    train, evaluation = make_texts(args.train_texts, 0), make_texts(args.eval_texts, 1)
    sample = evaluation[: args.sample]
    data_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    if route == "ours":
        mask = near_duplicate_mask(train, evaluation).mask
        found, sampled = int(mask.sum()), mask[: args.sample].tolist()
        seconds = time.perf_counter() - start
    else:
        sampled = brute_force(train, sample)
        found = None
        seconds = (time.perf_counter() - start) * len(evaluation) / len(sample)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "data_mb": data_mb, "sampled": sampled, "found": found}))


def run(route: str, args: argparse.Namespace) -> dict[str, object]:
    arguments = ["--child", route, "--train-texts", str(args.train_texts), "--eval-texts", str(args.eval_texts)]
    return median_of_children(__file__, [*arguments, "--sample", str(args.sample)], args.repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-texts", type=int, default=1_000_000)
    parser.add_argument("--eval-texts", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", choices=("ours", "pairs"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args)
        return
    naive, fast = run("pairs", args), run("ours", args)
    assert naive["sampled"] == fast["sampled"], "the index missed or invented a pair on the sample"
    print(
        f"\n{args.train_texts:,} training texts against {args.eval_texts:,} evaluation texts (WNUT-16 tweets, "
        f"0 to 4 words replaced); medians of {args.repeats} runs, each in its own process. reporter found "
        f"{fast['found']:,} evaluation texts with a near-duplicate (Jaccard ≥ {THRESHOLD} over 3-word shingles); "
        f"on the {args.sample} sampled texts its answer equals every pair's "
        f"({sum(naive['sampled']):,} of them have one). The naive time is the sample's, scaled to every text.\n"  # type: ignore[arg-type]
    )
    print(f"| {'what':<52} | {'seconds':>9} | {'ratio':>7} | {'peak MB':>8} | {'of it, data':>11} |")
    print(f"| {'-' * 52} | {'-' * 9}:| {'-' * 7}:| {'-' * 8}:| {'-' * 11}:|")
    for name, result in (
        ("exact Jaccard of every pair (naive, extrapolated)", naive),
        ("reporter: MinHash index, candidates confirmed", fast),
    ):
        ratio = naive["seconds"] / result["seconds"]  # type: ignore[operator]
        print(
            f"| {name:<52} | {result['seconds']:9.1f} | {ratio:6.0f}x | {result['peak_mb']:8.0f} | "
            f"{result['data_mb']:11.0f} |"
        )


if __name__ == "__main__":
    main()
