"""Benchmark: fairness and performance metrics on 1,000,000 rows against fairlearn's MetricFrame.

Rows are drawn with replacement from the real UCI Adult test file (sex and race as sensitive
features, with their intersection), scored by a scikit-learn logistic regression with a little
noise so scores are nearly unique. In one run it times:

- our point estimates (every group metric, disparity and overall metric; no intervals),
- fairlearn's MetricFrame computing the same group metrics and disparities (asserting equal
  results to 1e-9),
- our full bootstrap (B = 1000 for every overall metric, group metric and disparity), with the
  peak memory of a separate process running only that,
- fairlearn's own bootstrap (`n_boot=100`, 2 metrics, 100,000 rows) for reference, unless
  `--skip-fairlearn-bootstrap` is given.

Usage: `.venv/bin/python bench/fairness.py [--rows N] [--repeats R]`. Prints a table of medians.
The machine should be otherwise idle.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reporter.extract.fairness import extract_fairness, groupings  # noqa: E402
from reporter.extract.metrics import Rows, extract_performance  # noqa: E402


def make_data(rows: int, seed: int = 0) -> tuple[pd.DataFrame, Rows]:
    from sklearn.linear_model import LogisticRegression

    from tests.conftest import read_adult

    test = read_adult("adult.test", skiprows=1)
    numeric = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
    labels = test["income"].str.startswith(">50K").to_numpy().astype(np.int8)
    scores = LogisticRegression(max_iter=2000).fit(test[numeric], labels).predict_proba(test[numeric])[:, 1]
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(test), rows)
    noisy = np.clip(scores[pick] + rng.normal(0, 0.01, rows), 1e-6, 1 - 1e-6)
    sensitive = test[["sex", "race"]].iloc[pick].reset_index(drop=True).astype("string")
    return sensitive, Rows(labels=labels[pick], scores=noisy, threshold=0.5)


def ours(sensitive: pd.DataFrame, rows: Rows, samples: int):
    rows = Rows(labels=rows.labels, scores=rows.scores, threshold=rows.threshold)  # nothing cached between runs
    performance = extract_performance(rows, samples=samples)
    fairness = extract_fairness(sensitive, rows, min_group_size=30, privacy_threshold=10, samples=samples)
    return performance, fairness


def metricframe(features: dict[str, np.ndarray], rows: Rows, reportable: dict[str, list[str]]):
    from fairlearn import metrics as fl
    from sklearn import metrics as sk

    y, d, s = rows.labels, rows.decisions, rows.scores
    metrics = {
        "selection_rate": fl.selection_rate,
        "true_positive_rate": fl.true_positive_rate,
        "false_positive_rate": fl.false_positive_rate,
        "false_negative_rate": fl.false_negative_rate,
        "precision": lambda a, b: sk.precision_score(a, b, zero_division=np.nan),
        "accuracy": sk.accuracy_score,
        "base_rate": lambda a, b: float(np.mean(a)),
    }
    results = {}
    for name, labels in features.items():
        labels = pd.Series(labels)
        keep = labels.isin(reportable[name]).to_numpy()
        frame = fl.MetricFrame(metrics=metrics, y_true=y[keep], y_pred=d[keep], sensitive_features=labels[keep])
        auc = fl.MetricFrame(metrics=sk.roc_auc_score, y_true=y[keep], y_pred=s[keep], sensitive_features=labels[keep])
        results[name] = {
            "by_group": frame.by_group,
            "auc": auc.by_group,
            "dp_difference": frame.difference()["selection_rate"],
            "dp_ratio": frame.ratio()["selection_rate"],
            "eo_difference": max(frame.difference()["true_positive_rate"], frame.difference()["false_positive_rate"]),
        }
    return results


def check_equal(fairness, reference) -> None:
    for feature in fairness.features:
        expected = reference[feature.feature]
        for group in feature.groups:
            if group.status != "reported":
                continue
            for metric in (
                "selection_rate",
                "true_positive_rate",
                "false_positive_rate",
                "false_negative_rate",
                "precision",
                "accuracy",
                "base_rate",
            ):
                assert abs(getattr(group, metric).value - expected["by_group"].loc[group.group, metric]) < 1e-9
            assert abs(group.roc_auc.value - expected["auc"].loc[group.group]) < 1e-9
        disparities = {d.name: d.value.value for d in feature.disparities}
        assert abs(disparities["demographic_parity_difference"] - expected["dp_difference"]) < 1e-9
        assert abs(disparities["demographic_parity_ratio"] - expected["dp_ratio"]) < 1e-9
        assert abs(disparities["equalized_odds_difference"] - expected["eo_difference"]) < 1e-9


def timed(function, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def bootstrap_child(rows: int) -> dict[str, float]:
    """Run only our full bootstrap in a fresh process, reporting its time and peak RSS."""
    code = (
        "import json, resource, sys, time; sys.path.insert(0, 'bench'); sys.path.insert(0, '.');"
        "import fairness as b;"
        f"s, r = b.make_data({rows}); base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss;"
        "t = time.perf_counter(); b.ours(s, r, 1000); t = time.perf_counter() - t;"
        "print(json.dumps({'seconds': t, 'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,"
        " 'data_mb': base / 1024}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def fairlearn_bootstrap() -> float:
    from fairlearn import metrics as fl

    sensitive, rows = make_data(100_000, seed=1)
    start = time.perf_counter()
    fl.MetricFrame(
        metrics={"selection_rate": fl.selection_rate, "true_positive_rate": fl.true_positive_rate},
        y_true=rows.labels,
        y_pred=rows.decisions,
        sensitive_features=sensitive,
        n_boot=100,
        ci_quantiles=[0.025, 0.975],
        random_state=0,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5, help="runs of reporter's point estimates")
    parser.add_argument("--baseline-repeats", type=int, default=1, help="runs of MetricFrame (~2 min each)")
    parser.add_argument("--skip-fairlearn-bootstrap", action="store_true")
    args = parser.parse_args()

    sensitive, rows = make_data(args.rows)
    ours_point, (_, fairness) = timed(lambda: ours(sensitive, rows, 0), args.repeats)
    reportable = {f.feature: [g.group for g in f.groups if g.status == "reported"] for f in fairness.features}
    # The same group labels for both, prepared outside the timing.
    features = {g.feature: np.array(g.names, dtype=object)[g.codes] for g in groupings(sensitive)}
    fl_point, reference = timed(lambda: metricframe(features, rows, reportable), args.baseline_repeats)
    check_equal(fairness, reference)
    boot = bootstrap_child(args.rows)
    fl_boot = None if args.skip_fairlearn_bootstrap else fairlearn_bootstrap()

    print(
        f"\n{args.rows:,} rows; sex, race and sex × race; medians of {args.repeats} runs (MetricFrame: "
        f"{args.baseline_repeats}); results equal to 1e-9\n"
    )
    print(f"| {'what':<62} | {'seconds':>8} | {'ratio':>8} |")
    print(f"| {'-' * 62} | {'-' * 8}:| {'-' * 8}:|")
    print(f"| {'fairlearn MetricFrame, group metrics + AUC + disparities':<62} | {fl_point:8.2f} | {1.0:8.2f} |")
    print(
        f"| {'reporter point estimates (same + overall metrics)':<62} | {ours_point:8.3f} | "
        f"{fl_point / ours_point:7.1f}x |"
    )
    print(f"| {'reporter full bootstrap, B=1000, everything':<62} | {boot['seconds']:8.2f} | {'':>8} |")
    if fl_boot is not None:
        print(f"| {'fairlearn bootstrap, n_boot=100, 2 metrics, 100,000 rows':<62} | {fl_boot:8.2f} | {'':>8} |")
    print(
        f"\nPeak RSS of the bootstrap process: {boot['peak_mb']:.0f} MB "
        f"({boot['data_mb']:.0f} MB after building the data)."
    )


if __name__ == "__main__":
    main()
