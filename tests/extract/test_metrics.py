"""Performance metrics against scikit-learn and a float64 numpy reference, on real UCI Adult rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk
from sklearn.linear_model import LogisticRegression

from reporter.extract import metrics as m
from tests.conftest import read_adult

NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]


@pytest.fixture(scope="session")
def adult_rows() -> tuple[m.Rows, pd.DataFrame]:
    """Scores of a scikit-learn logistic regression on 3,000 real Adult test rows."""
    train = read_adult("adult.data").sample(5000, random_state=1)
    test = read_adult("adult.test", skiprows=1).sample(3000, random_state=2)
    y_train = train["income"].str.startswith(">50K").to_numpy().astype(np.int8)
    y_test = test["income"].str.startswith(">50K").to_numpy().astype(np.int8)
    model = LogisticRegression(max_iter=2000).fit(train[NUMERIC], y_train)
    scores = model.predict_proba(test[NUMERIC])[:, 1]
    return m.Rows(labels=y_test, scores=scores, threshold=0.5), test.reset_index(drop=True)


def point(metric: m.Metric, rows: m.Rows) -> float:
    return float(metric(rows, np.ones((1, rows.labels.size)))[0])


def test_point_estimates_match_scikit_learn(adult_rows: tuple[m.Rows, pd.DataFrame]) -> None:
    rows, _ = adult_rows
    y, s, d = rows.labels, rows.scores, rows.decisions
    expected = {
        m.accuracy: sk.accuracy_score(y, d),
        m.balanced_accuracy: sk.balanced_accuracy_score(y, d),
        m.precision: sk.precision_score(y, d),
        m.true_positive_rate: sk.recall_score(y, d),
        m.f1: sk.f1_score(y, d),
        m.roc_auc: sk.roc_auc_score(y, s),
        m.log_loss: sk.log_loss(y, s),
        m.brier_score: sk.brier_score_loss(y, s),
    }
    for metric, value in expected.items():
        assert point(metric, rows) == pytest.approx(value, rel=1e-9, abs=1e-12), metric.__name__


def test_roc_auc_handles_tied_scores_like_scikit_learn(adult_rows: tuple[m.Rows, pd.DataFrame]) -> None:
    rows, _ = adult_rows
    tied = m.Rows(labels=rows.labels, scores=np.round(rows.scores, 1), threshold=0.5)
    assert point(m.roc_auc, tied) == pytest.approx(sk.roc_auc_score(tied.labels, tied.scores), rel=1e-9)


def test_expected_calibration_error_matches_a_float64_reference(adult_rows: tuple[m.Rows, pd.DataFrame]) -> None:
    rows, _ = adult_rows
    total = 0.0
    for b in range(10):
        lower, upper = b / 10, (b + 1) / 10
        in_bin = (rows.scores >= lower) & ((rows.scores < upper) if b < 9 else (rows.scores <= upper))
        if in_bin.any():
            total += in_bin.sum() / rows.scores.size * abs(rows.scores[in_bin].mean() - rows.labels[in_bin].mean())
    assert point(m.expected_calibration_error, rows) == pytest.approx(total, rel=1e-9)


def test_bootstrap_replicates_equal_metrics_on_resampled_rows(adult_rows: tuple[m.Rows, pd.DataFrame]) -> None:
    """Weights from `bootstrap_weights` are exactly a resampling of rows with replacement."""
    rows, _ = adult_rows
    n = rows.labels.size
    [weights] = list(m.bootstrap_weights(rows, samples=5, seed=7))
    draws = np.random.default_rng(7).integers(0, n, size=(5, n))
    for b in range(5):
        y, s = rows.labels[draws[b]], rows.scores[draws[b]]
        assert m.accuracy(rows, weights[b : b + 1])[0] == pytest.approx(sk.accuracy_score(y, s >= 0.5), rel=1e-12)
        assert m.roc_auc(rows, weights[b : b + 1])[0] == pytest.approx(sk.roc_auc_score(y, s), rel=1e-9)
        assert m.log_loss(rows, weights[b : b + 1])[0] == pytest.approx(sk.log_loss(y, s), rel=1e-9)


def test_intervals_cover_the_true_rate_about_95_percent_of_the_time() -> None:
    """Simulated data with a known selection rate: the percentile interval should cover it ~95 %."""
    rng = np.random.default_rng(0)
    true_rate, n, trials, covered = 0.3, 400, 200, 0
    for trial in range(trials):
        scores = (rng.random(n) < true_rate).astype(np.float64)
        rows = m.Rows(labels=rng.integers(0, 2, n), scores=scores, threshold=0.5)
        estimate = m.estimate(m.selection_rate, rows, samples=300, seed=trial)
        covered += estimate.low <= true_rate <= estimate.high
    assert 0.90 <= covered / trials <= 0.99


def test_performance_facts_hold_confusion_and_calibration(adult_rows: tuple[m.Rows, pd.DataFrame]) -> None:
    rows, _ = adult_rows
    facts = m.extract_performance(rows, samples=50)
    tn, fp, fn, tp = sk.confusion_matrix(rows.labels, rows.decisions).ravel()
    assert (
        facts.confusion.true_positive,
        facts.confusion.false_positive,
        facts.confusion.true_negative,
        facts.confusion.false_negative,
    ) == (tp, fp, tn, fn)
    assert sum(b.count for b in facts.calibration) == rows.labels.size
    assert facts.accuracy.low <= facts.accuracy.value <= facts.accuracy.high


def test_undefined_metrics_are_none_not_nan() -> None:
    rows = m.Rows(labels=np.zeros(20, dtype=np.int8), scores=np.linspace(0, 0.4, 20), threshold=0.5)
    assert m.estimate(m.precision, rows, samples=20, seed=0).value is None
    assert m.estimate(m.roc_auc, rows, samples=20, seed=0).value is None


def test_cell_bootstrap_matches_the_row_bootstrap_on_large_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the row limit, replicates are drawn over cells; the intervals must agree with a row
    bootstrap of the same data (exactly in distribution for accuracy, closely for AUC and log loss)."""
    rng = np.random.default_rng(5)
    n = 120_000
    labels = (rng.random(n) < 0.3).astype(np.int8)
    scores = np.clip(0.3 + 0.25 * (labels - 0.3) + 0.2 * rng.standard_normal(n), 0.001, 0.999)
    rows = m.Rows(labels=labels, scores=scores, threshold=0.5)
    metrics = {
        "accuracy": m.accuracy,
        "roc_auc": m.roc_auc,
        "log_loss": m.log_loss,
        "expected_calibration_error": m.expected_calibration_error,
    }
    by_cells = m.estimate_many(metrics, rows, samples=300, seed=1)
    monkeypatch.setattr(m, "ROW_BOOTSTRAP_LIMIT", n)
    by_rows = m.estimate_many(metrics, rows, samples=300, seed=1)
    for name in metrics:
        a, b = by_cells[name], by_rows[name]
        assert a.value == b.value
        width = b.high - b.low
        assert abs(a.low - b.low) < 0.25 * width and abs(a.high - b.high) < 0.25 * width, name
