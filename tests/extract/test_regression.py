"""Regression metrics against scikit-learn and fairlearn's MetricFrame on real UCI Adult rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn import metrics as fl
from sklearn import metrics as sk
from sklearn.linear_model import LinearRegression

from reporter.extract import regression as r
from reporter.extract.metrics import row_bootstrap_weights
from tests.conftest import read_adult

FEATURES = ["age", "education-num", "capital-gain", "capital-loss"]
SKLEARN = {
    "mean_absolute_error": sk.mean_absolute_error,
    "root_mean_squared_error": sk.root_mean_squared_error,
    "r2": sk.r2_score,
    "mean_error": lambda y, p: float(np.mean(np.asarray(p) - np.asarray(y))),
    "mean_label": lambda y, p: float(np.mean(y)),
    "mean_prediction": lambda y, p: float(np.mean(p)),
}


@pytest.fixture(scope="session")
def adult_hours() -> tuple[r.Predictions, pd.DataFrame]:
    """Hours worked per week predicted by a scikit-learn linear regression for 3,000 real Adult test rows."""
    train = read_adult("adult.data").sample(5000, random_state=1)
    test = read_adult("adult.test", skiprows=1).sample(3000, random_state=2).reset_index(drop=True)
    model = LinearRegression().fit(train[FEATURES], train["hours-per-week"])
    predicted = model.predict(test[FEATURES]).astype(np.float64)
    return r.Predictions(labels=test["hours-per-week"].to_numpy(np.float64), predicted=predicted), test


@pytest.fixture(scope="session")
def fairness(adult_hours):
    predictions, frame = adult_hours
    sensitive = frame[["sex", "race"]].astype("string")
    facts = r.extract_regression_fairness(sensitive, predictions, min_group_size=30, privacy_threshold=10, samples=200)
    return facts, predictions, frame


def test_overall_metrics_match_scikit_learn(adult_hours) -> None:
    predictions, _ = adult_hours
    facts = r.extract_regression_performance(predictions, samples=100)
    for name, oracle in SKLEARN.items():
        expected = oracle(predictions.labels, predictions.predicted)
        assert getattr(facts, name).value == pytest.approx(expected, rel=1e-9, abs=1e-12), name
        interval = getattr(facts, name)
        assert interval.low <= interval.value <= interval.high, name


def test_group_metrics_match_metricframe(fairness) -> None:
    facts, predictions, frame = fairness
    for feature in facts.features:
        columns = feature.feature.split(" × ")
        by_group = fl.MetricFrame(
            metrics=SKLEARN, y_true=predictions.labels, y_pred=predictions.predicted, sensitive_features=frame[columns]
        ).by_group
        reported = [g for g in feature.groups if g.status == "reported"]
        assert reported
        for group in reported:
            key = tuple(group.group.split(" × ")) if len(columns) > 1 else group.group
            for name in SKLEARN:
                expected = by_group.loc[key, name]
                assert getattr(group, name).value == pytest.approx(expected, rel=1e-9, abs=1e-12), (group.group, name)


def test_error_ratios_match_fairlearn_between_groups(fairness) -> None:
    """fairlearn's ratio (smallest over largest) over the groups large enough to report."""
    facts, predictions, frame = fairness
    for feature in facts.features:
        columns = feature.feature.split(" × ")
        names = frame[columns].astype(str).agg(" × ".join, axis=1)
        reportable = [g.group for g in feature.groups if g.status == "reported"]
        mask = names.isin(reportable).to_numpy()
        for disparity in feature.disparities:
            metric = disparity.name.removesuffix("_ratio")
            frame_ = fl.MetricFrame(
                metrics=SKLEARN[metric],
                y_true=predictions.labels[mask],
                y_pred=predictions.predicted[mask],
                sensitive_features=names[mask],
            )
            assert disparity.value.value == pytest.approx(frame_.ratio(method="between_groups"), rel=1e-9)
            assert disparity.kind == "ratio" and disparity.threshold == 0.8


def test_ratios_to_the_reference_group(fairness) -> None:
    facts, _, _ = fairness
    for feature in facts.features:
        reference = next(g for g in feature.groups if g.group == feature.reference_group)
        assert reference.count == max(g.count for g in feature.groups if g.status == "reported")
        for group in (g for g in feature.groups if g.status == "reported"):
            expected = group.mean_absolute_error.value / reference.mean_absolute_error.value
            assert group.ratios_to_reference["mean_absolute_error"].value == pytest.approx(expected, rel=1e-12)


def test_small_groups_are_insufficient_or_suppressed(fairness) -> None:
    facts, _, frame = fairness
    intersection = facts.features[-1]
    sizes = frame.groupby(["sex", "race"]).size()
    assert intersection.suppressed_groups == int((sizes < 10).sum())
    for group in intersection.groups:
        assert group.count >= 10
        if group.count < 30:
            assert group.status == "insufficient_data" and group.mean_absolute_error is None


def test_bootstrap_replicates_equal_metrics_on_resampled_rows(adult_hours) -> None:
    predictions, _ = adult_hours
    n = predictions.labels.size
    [weights] = list(row_bootstrap_weights(n, samples=4, seed=3))
    draws = np.random.default_rng(3).integers(0, n, size=(4, n))
    terms, shift = predictions.sum_terms()
    codes = np.zeros(n, dtype=np.int64)
    replicated = r.metrics_from_sums(r.group_sums(terms, codes, 1, weights), shift)
    for b in range(4):
        y, p = predictions.labels[draws[b]], predictions.predicted[draws[b]]
        for name, oracle in SKLEARN.items():
            assert replicated[name][b, 0] == pytest.approx(oracle(y, p), rel=1e-9, abs=1e-12), name


def test_intervals_cover_a_known_mean_absolute_error_about_95_percent_of_the_time() -> None:
    """Errors drawn from N(0, 2): the true MAE is 2·sqrt(2/π)."""
    rng = np.random.default_rng(0)
    truth, n, trials, covered = 2 * np.sqrt(2 / np.pi), 400, 200, 0
    for trial in range(trials):
        labels = rng.normal(40, 10, n)
        predictions = r.Predictions(labels=labels, predicted=labels + rng.normal(0, 2, n))
        estimate = r.extract_regression_performance(predictions, samples=300, seed=trial).mean_absolute_error
        covered += estimate.low <= truth <= estimate.high
    assert 0.90 <= covered / trials <= 0.99


def test_r2_of_a_group_with_one_label_value_is_undefined_not_nan() -> None:
    labels = np.r_[np.full(40, 38.0), np.linspace(20, 60, 40)]
    predictions = r.Predictions(labels=labels, predicted=labels + 1.5)
    sensitive = pd.DataFrame({"g": ["constant"] * 40 + ["spread"] * 40})
    facts = r.extract_regression_fairness(sensitive, predictions, min_group_size=30, privacy_threshold=10, samples=50)
    groups = {g.group: g for g in facts.features[0].groups}
    assert groups["constant"].r2.value is None
    assert groups["spread"].r2.value == pytest.approx(sk.r2_score(labels[40:], labels[40:] + 1.5), rel=1e-9)
    assert groups["constant"].mean_error.value == pytest.approx(1.5, rel=1e-12)


def test_calibration_bins_are_deciles_of_the_predictions(adult_hours) -> None:
    predictions, _ = adult_hours
    bins = r.calibration_bins(predictions)
    assert sum(b.count for b in bins) == predictions.labels.size
    for b in bins:
        last = b is bins[-1]
        mask = (predictions.predicted >= b.lower) & (
            (predictions.predicted <= b.upper) if last else (predictions.predicted < b.upper)
        )
        assert b.count == int(mask.sum())
        assert b.mean_label == pytest.approx(predictions.labels[mask].mean(), rel=1e-12)
        assert b.mean_prediction == pytest.approx(predictions.predicted[mask].mean(), rel=1e-12)
