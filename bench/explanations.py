"""Benchmark: our permutation importance against scikit-learn's `permutation_importance`.

The model is the example Adult income MLP (`models/adult-income-mlp`, trained here with its own
recipe and spec) scored on its 2,000 evaluation rows with all 13 input columns. scikit-learn
calls it through a thin estimator wrapper (`n_jobs=1`, `scoring="roc_auc"`), once per column
and repeat; ours stacks the shuffled copies and scores them in a few large calls. Both use the
same shuffles (same seed), and the run asserts the same importances to 1e-9. Timed in one run,
medians of ``--repeats``:

- scikit-learn's `permutation_importance`;
- ours, point estimates only (the same work as scikit-learn's);
- ours as the build runs it: with 200 bootstrap resamples for the intervals and the per-group importances of sex,
  race and their intersection (more work than scikit-learn's; shown for the build's cost).

Usage: `.venv/bin/python bench/explanations.py [--shuffles 5] [--repeats 3]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reporter.extract.explanations import extract_permutation_importance, headline_metric  # noqa: E402


def adult_mlp():  # noqa: ANN201
    """The example MLP trained by its recipe, and its labelled evaluation rows."""
    from reporter.compute import _read_role
    from reporter.datasets import label_data
    from reporter.project import Project
    from reporter.runners.recipes import TrainingContext, validate_hyperparameters
    from reporter.runners.tabular_mlp import train
    from reporter.spec import load_spec

    project = Project(root=REPO)
    loaded = load_spec(REPO / "models" / "adult-income-mlp" / "model.yaml")
    evaluation = loaded.spec.evaluation
    assert evaluation is not None and loaded.spec.source.train is not None
    train_table, eval_table = _read_role(project, loaded, "train"), _read_role(project, loaded, "evaluation")
    assert train_table is not None and eval_table is not None
    context = TrainingContext(
        spec_path=loaded.path,
        task=evaluation.task,
        train=label_data(train_table, evaluation, spec_path=loaded.path),
        hyperparameters=validate_hyperparameters(loaded.spec.source.train),
        seed=loaded.spec.source.train.seed,
        device="cpu",
        resolve=lambda ref, field: REPO,
        on_epoch=lambda record: None,
    )
    return train(context).predict_scores, label_data(eval_table, evaluation, spec_path=loaded.path)


def wrapped(predict_scores):  # noqa: ANN001, ANN201
    """The model as a fitted scikit-learn classifier, for `permutation_importance`."""
    from sklearn.base import BaseEstimator, ClassifierMixin

    class Wrapped(ClassifierMixin, BaseEstimator):
        def fit(self, features, labels):  # noqa: ANN001, ANN201
            self.classes_ = np.array([0, 1])
            return self

        def predict_proba(self, features):  # noqa: ANN001, ANN201
            positive = predict_scores(features)
            return np.column_stack([1 - positive, positive])

    return Wrapped()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shuffles", type=int, default=5, help="repeats of each column's shuffle")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each configuration")
    args = parser.parse_args()
    from sklearn.inspection import permutation_importance

    predict_scores, data = adult_mlp()
    features, labels = data.features.reset_index(drop=True), data.labels
    estimator = wrapped(predict_scores).fit(features, labels)

    def ours(samples: int):  # noqa: ANN202
        return extract_permutation_importance(
            predict_scores,
            features=features,
            labels=labels,
            sensitive=data.sensitive.reset_index(drop=True),
            metric=headline_metric("binary_classification"),
            repeats=args.shuffles,
            seed=0,
            sampled=False,
            min_group_size=30,
            privacy_threshold=10,
            samples=samples,
        )

    runs = {
        "scikit-learn permutation_importance (n_jobs=1)": lambda: permutation_importance(
            estimator, features, labels, scoring="roc_auc", n_repeats=args.shuffles, random_state=0, n_jobs=1
        ),
        "reporter, point estimates": lambda: ours(0),
        "reporter, as built (200 bootstrap resamples, per group)": lambda: ours(200),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    results = {}
    for _ in range(args.repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            results[name] = run()
            times[name].append(time.perf_counter() - start)
    oracle, facts = results[next(iter(runs))], results["reporter, point estimates"]
    by_column = {c.column: c.importance.value for c in facts.columns}
    worst = max(abs(by_column[str(c)] - oracle.importances_mean[i]) for i, c in enumerate(features.columns))
    assert worst < 1e-9, worst
    base = statistics.median(times[next(iter(runs))])
    print(
        f"{len(features):,} rows × {features.shape[1]} columns × {args.shuffles} shuffles, "
        f"medians of {args.repeats} runs; importances equal to scikit-learn's within {worst:.1e}"
    )
    print("| configuration | seconds | vs scikit-learn |")
    print("| --- | ---: | ---: |")
    for name in runs:
        median = statistics.median(times[name])
        print(f"| {name} | {median:.3f} | {base / median:.2f}x |")


if __name__ == "__main__":
    main()
