"""Train–test overlap: the counts equal a pandas merge on the normalised rows of the real UCI Adult
files (whose training and test files share rows), the share's interval equals SciPy's Wilson
interval, and the figures without the overlapping rows equal scikit-learn's on those rows."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest
from sklearn import metrics

from reporter.datasets import LabelledData
from reporter.extract.overlap import extract_overlap, overlap_masks, wilson_interval
from reporter.facts import Interval
from reporter.tasks import labelled_task
from reporter.tasks.figures import interval_figures
from tests.conftest import read_adult
from tests.tasks.test_labelled_evaluate import rows_of

FEATURES = ["age", "workclass", "education", "marital-status", "occupation", "race", "sex", "hours-per-week"]


def labelled(frame: pd.DataFrame) -> LabelledData:
    labels = frame["income"].astype(str).str.strip().isin([">50K", ">50K."]).to_numpy(dtype=np.int8)
    return LabelledData(features=frame[FEATURES].reset_index(drop=True), labels=labels, sensitive=frame[["sex"]])


def merged_count(train: pd.DataFrame, test: pd.DataFrame, columns: list[str]) -> int:
    """The oracle: evaluation rows with a match in the training rows, by a pandas merge on the
    normalised columns (numbers as floats, text stripped and case-folded, missing as empty)."""

    def normal(frame: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame(index=range(len(frame)))
        for column in columns:
            values = frame[column].reset_index(drop=True)
            if pd.api.types.is_numeric_dtype(values):
                out[column] = values.astype(float)
            else:
                out[column] = values.fillna("").astype(str).str.strip().str.casefold().str.split().str.join(" ")
        return out

    matched = normal(test).merge(normal(train).drop_duplicates(), on=columns, how="left", indicator=True)
    return int((matched["_merge"] == "both").sum())


@pytest.fixture(scope="module")
def adult() -> tuple[pd.DataFrame, pd.DataFrame]:
    train = read_adult("adult.data")
    test = read_adult("adult.test", skiprows=1)
    return train, test


def test_the_counts_equal_a_merge_on_the_real_adult_files(adult: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, test = adult
    with_label, features_only = overlap_masks(labelled(train), labelled(test))
    train_labelled, test_labelled = train.assign(y=labelled(train).labels), test.assign(y=labelled(test).labels)
    assert int(with_label.sum()) == merged_count(train_labelled, test_labelled, [*FEATURES, "y"])
    assert int(features_only.sum()) == merged_count(train, test, FEATURES)
    assert 0 < with_label.sum() < features_only.sum() < len(test)  # the files do share rows


def test_normalisation_joins_what_it_says_it_joins() -> None:
    train = pd.DataFrame({"age": [39, 50], "job": ["  Adm-clerical ", "Sales"]})
    test = pd.DataFrame({"age": [39.0, 50.0, 39.0], "job": ["adm-clerical", "SALES", "Adm  clerical"]})
    first = LabelledData(features=train, labels=np.array([1, 0]), sensitive=train[[]])
    second = LabelledData(features=test, labels=np.array([1, 1, 1]), sensitive=test[[]])
    with_label, features_only = overlap_masks(first, second)
    assert features_only.tolist() == [True, True, False] and with_label.tolist() == [True, False, False]


@pytest.mark.parametrize(("successes", "total"), [(0, 10), (3, 10), (10, 10), (186, 1000), (1, 16281)])
def test_the_share_interval_is_scipys_wilson_interval(successes: int, total: int) -> None:
    oracle = binomtest(successes, total).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson_interval(successes, total) == pytest.approx((oracle.low, oracle.high), abs=1e-12)


def test_the_figures_without_overlap_are_scikit_learns_on_the_unseen_rows(
    adult: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    train, test = adult[0], adult[1].sample(n=600, random_state=0).reset_index(drop=True)
    generator = np.random.default_rng(3)
    evaluation = labelled(test)
    scores = np.clip(0.4 * evaluation.labels + generator.uniform(0, 0.6, size=len(test)), 0, 1)
    frame = pd.DataFrame({"x": scores, "group": test["sex"].to_numpy()})
    rows = rows_of("binary_classification", evaluation.labels, scores, frame, positive_label=["1"], threshold=0.5)
    rows = replace(rows, data=evaluation)
    task = labelled_task("binary_classification")

    def overall(performance: object) -> dict[str, Interval]:
        figures = interval_figures(performance, feature=None, group=None)
        return {f.metric: Interval(value=f.value, low=f.low, high=f.high) for f in figures}

    facts = extract_overlap(
        labelled(train),
        evaluation,
        sources=("adult-train", "adult-test"),
        headline=overall(task.evaluate(rows).performance),
        figures_on=lambda kept: overall(task.evaluate(rows.subset(kept)).performance),
    )
    unseen = ~overlap_masks(labelled(train), evaluation)[1]
    assert facts.features_only.rows == int((~unseen).sum()) > 0
    without = {f.metric: f for f in facts.without_overlap}
    labels, kept_scores = evaluation.labels[unseen], scores[unseen]
    assert without["accuracy"].value == pytest.approx(metrics.accuracy_score(labels, kept_scores >= 0.5), abs=1e-12)
    assert without["roc_auc"].value == pytest.approx(metrics.roc_auc_score(labels, kept_scores), abs=1e-12)
    assert without["accuracy"].headline == pytest.approx(metrics.accuracy_score(evaluation.labels, scores >= 0.5))
    assert without["accuracy"].low <= without["accuracy"].value <= without["accuracy"].high


def test_examples_leave_out_small_groups_and_withhold_identifiers() -> None:
    """Rows of a group smaller than the privacy threshold are never examples, and a column of
    e-mail addresses is withheld, whatever the row."""
    from reporter.extract.overlap import EXAMPLES, overlap_examples

    frame = pd.DataFrame(
        {
            "age": [30, 41, 52, 63, 74, 85],
            "contact": [f"person{i}@example.org" for i in range(6)],
            "group": ["rare", "common", "common", "common", "common", "common"],
        }
    )
    data = LabelledData(features=frame[["age", "contact"]], labels=np.zeros(6), sensitive=frame[["group"]])
    overlapping = np.array([True, True, False, True, True, True])
    examples = overlap_examples(data, overlapping, privacy_threshold=3)
    assert [e["age"] for e in examples] == ["41", "63", "74"][:EXAMPLES]  # row 0 is the rare group's
    assert all(e["contact"] == "(withheld: e-mail address)" for e in examples)
    assert overlap_examples(data, overlapping, privacy_threshold=6) == []  # no group is that large
