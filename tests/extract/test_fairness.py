"""Group metrics and disparities against fairlearn's MetricFrame on real UCI Adult rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn import metrics as fl
from sklearn import metrics as sk

from reporter.extract import metrics as m
from reporter.extract.fairness import disparity_status, extract_fairness
from reporter.facts import Interval
from tests.extract.test_metrics import adult_rows  # noqa: F401  (fixture)

FAIRLEARN_METRICS = {
    "selection_rate": fl.selection_rate,
    "true_positive_rate": fl.true_positive_rate,
    "false_positive_rate": fl.false_positive_rate,
    "false_negative_rate": fl.false_negative_rate,
    "accuracy": sk.accuracy_score,
    "precision": lambda y, p: sk.precision_score(y, p, zero_division=np.nan),
    "base_rate": lambda y, p: float(np.mean(y)),
}


@pytest.fixture(scope="session")
def fairness(adult_rows):  # noqa: F811
    rows, frame = adult_rows
    sensitive = frame[["sex", "race"]].astype("string")
    return extract_fairness(sensitive, rows, min_group_size=30, privacy_threshold=10, samples=200), rows, frame


def test_group_metrics_match_metricframe(fairness) -> None:
    facts, rows, frame = fairness
    for feature in facts.features:
        columns = feature.feature.split(" × ")
        frame_ = fl.MetricFrame(
            metrics=FAIRLEARN_METRICS, y_true=rows.labels, y_pred=rows.decisions, sensitive_features=frame[columns]
        )
        by_group = frame_.by_group
        for group in feature.groups:
            if group.status != "reported":
                continue
            key = tuple(group.group.split(" × ")) if len(columns) > 1 else group.group
            for name in FAIRLEARN_METRICS:
                expected = by_group.loc[key, name]
                assert getattr(group, name).value == pytest.approx(expected, rel=1e-9, abs=1e-12), (group.group, name)


def test_group_auc_matches_scikit_learn(fairness) -> None:
    facts, rows, frame = fairness
    sex = next(f for f in facts.features if f.feature == "sex")
    for group in sex.groups:
        mask = (frame["sex"] == group.group).to_numpy()
        assert group.roc_auc.value == pytest.approx(sk.roc_auc_score(rows.labels[mask], rows.scores[mask]), rel=1e-9)


def test_disparities_match_fairlearn_on_the_reported_groups(fairness) -> None:
    facts, rows, frame = fairness
    for feature in facts.features:
        columns = feature.feature.split(" × ")
        labels = frame[columns].astype(str).agg(" × ".join, axis=1)
        reported = {g.group for g in feature.groups if g.status == "reported"}
        keep = labels.isin(reported).to_numpy()
        y, d, groups = rows.labels[keep], rows.decisions[keep], labels[keep]
        expected = {
            "demographic_parity_difference": fl.demographic_parity_difference(y, d, sensitive_features=groups),
            "demographic_parity_ratio": fl.demographic_parity_ratio(y, d, sensitive_features=groups),
            "equalized_odds_difference": fl.equalized_odds_difference(y, d, sensitive_features=groups),
            "equalized_odds_ratio": fl.equalized_odds_ratio(y, d, sensitive_features=groups),
            "equal_opportunity_difference": fl.equal_opportunity_difference(y, d, sensitive_features=groups),
        }
        got = {d.name: d.value.value for d in feature.disparities}
        assert got == pytest.approx(expected, rel=1e-9), feature.feature


def test_small_groups_are_flagged_or_suppressed(fairness) -> None:
    facts, _, frame = fairness
    intersection = next(f for f in facts.features if " × " in f.feature)
    counts = frame[["sex", "race"]].astype(str).agg(" × ".join, axis=1).value_counts()
    shown = {g.group: g for g in intersection.groups}
    for group, count in counts.items():
        if count < 10:
            assert group not in shown
        elif count < 30:
            assert shown[group].status == "insufficient_data" and shown[group].selection_rate is None
        else:
            assert shown[group].status == "reported"
    assert intersection.suppressed_groups == int((counts < 10).sum())


def test_missing_sensitive_values_form_their_own_group() -> None:
    rng = np.random.default_rng(3)
    sensitive = pd.DataFrame({"sex": pd.array(["a"] * 60 + [pd.NA] * 40, dtype="string")}).fillna("(missing)")
    rows = m.Rows(labels=rng.integers(0, 2, 100), scores=rng.random(100), threshold=0.5)
    facts = extract_fairness(sensitive, rows, min_group_size=30, privacy_threshold=10, samples=20)
    assert {g.group for g in facts.features[0].groups} == {"a", "(missing)"}


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (Interval(value=0.9, low=0.85, high=0.95), "ratio", "pass"),
        (Interval(value=0.85, low=0.7, high=0.95), "ratio", "warn"),
        (Interval(value=0.7, low=0.6, high=0.85), "ratio", "fail"),
        (Interval(value=0.05, low=0.01, high=0.08), "difference", "pass"),
        (Interval(value=0.05, low=0.01, high=0.15), "difference", "warn"),
        (Interval(value=None), "difference", "not_computed"),
    ],
)
def test_disparity_status(value: Interval, kind: str, expected: str) -> None:
    assert disparity_status(value, kind=kind, threshold=0.8 if kind == "ratio" else 0.1) == expected
