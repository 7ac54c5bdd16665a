"""Permutation importance against scikit-learn's `permutation_importance` on the same rows and
seed (so the same shuffles), on real UCI Adult and COMPAS rows with scikit-learn models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from reporter.extract.explanations import (
    MEAN_ABSOLUTE_ERROR,
    ROC_AUC,
    explained_rows,
    extract_permutation_importance,
    macro_f1,
    shuffle_orders,
    shuffled_predictions,
)
from reporter.extract.fairness import INTERSECTION_SEPARATOR
from tests.conftest import read_adult, read_compas

NUMERIC = ["age", "education-num", "capital-gain", "hours-per-week"]
CATEGORICAL = ["workclass", "marital-status", "occupation", "relationship", "race", "sex"]


def adult_model(target: str, estimator: object) -> tuple[object, pd.DataFrame, pd.DataFrame]:
    """A scikit-learn pipeline fitted on 3,000 Adult training rows, and 600 held-out rows."""
    frame = read_adult("adult.data", na_values="?").sample(n=3600, random_state=0).reset_index(drop=True)
    columns = [c for c in NUMERIC + CATEGORICAL if c != target]
    encode = make_column_transformer(
        (StandardScaler(), [c for c in NUMERIC if c != target]),
        (OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
    )
    model = make_pipeline(encode, estimator)
    labels = (frame["income"] == ">50K").astype(int) if target == "income" else frame[target]
    model.fit(frame[columns].iloc[:3000], labels.iloc[:3000])  # type: ignore[attr-defined]
    test = frame.iloc[3000:].reset_index(drop=True)
    return model, test[columns], test


@pytest.fixture(scope="session")
def adult_income() -> tuple[object, pd.DataFrame, pd.DataFrame, np.ndarray]:
    """A logistic regression of income on Adult rows: model, features, held-out rows, 0/1 labels."""
    model, features, test = adult_model("income", LogisticRegression(max_iter=2000))
    return model, features, test, (test["income"] == ">50K").to_numpy(dtype=np.int8)


def facts_for(scorer, features, labels, sensitive, metric, *, repeats=4, seed=3, samples=0):  # noqa: ANN001, ANN201
    return extract_permutation_importance(
        scorer,
        features=features,
        labels=labels,
        sensitive=sensitive,
        metric=metric,
        repeats=repeats,
        seed=seed,
        sampled=False,
        min_group_size=30,
        privacy_threshold=10,
        samples=samples,
    )


def assert_matches_sklearn(facts, oracle, columns: list[str]) -> None:  # noqa: ANN001
    by_column = {c.column: c for c in facts.columns}
    for index, column in enumerate(columns):
        assert by_column[column].importance.value == pytest.approx(oracle.importances_mean[index], abs=1e-9)
        assert by_column[column].repeat_std == pytest.approx(oracle.importances_std[index], abs=1e-9)


def test_binary_importance_equals_sklearn_roc_auc(adult_income) -> None:  # noqa: ANN001
    model, features, test, labels = adult_income
    facts = facts_for(
        lambda frame: model.predict_proba(frame)[:, 1],
        features,
        labels,
        test[["sex"]].astype("string"),
        ROC_AUC,
    )
    oracle = permutation_importance(model, features, labels, scoring="roc_auc", n_repeats=4, random_state=3)
    assert_matches_sklearn(facts, oracle, list(features.columns))
    assert facts.baseline.value == pytest.approx(roc_auc_score(labels, model.predict_proba(features)[:, 1]), abs=1e-12)
    values = [c.importance.value for c in facts.columns]
    assert values == sorted(values, reverse=True)  # most important first
    assert facts.columns[0].importance.value > 0.01  # a real model relies on something


def test_multiclass_importance_equals_sklearn_macro_f1() -> None:
    frame = read_compas().sample(frac=1.0, random_state=0).reset_index(drop=True)
    columns = ["age", "priors_count", "juv_fel_count", "juv_misd_count"]
    model = LogisticRegression(max_iter=3000).fit(frame[columns].iloc[:4000], frame["score_text"].iloc[:4000])
    test = frame.iloc[4000:4800].reset_index(drop=True)
    classes = list(model.classes_)
    labels = pd.Index(classes).get_indexer(test["score_text"])
    facts = facts_for(
        model.predict_proba,
        test[columns],
        labels,
        test[["race"]].astype("string"),
        macro_f1(classes),
    )
    oracle = permutation_importance(
        model, test[columns], test["score_text"], scoring="f1_macro", n_repeats=4, random_state=3
    )
    assert_matches_sklearn(facts, oracle, columns)


def test_regression_importance_equals_sklearn_mean_absolute_error() -> None:
    model, features, test = adult_model("hours-per-week", LinearRegression())
    labels = test["hours-per-week"].to_numpy(dtype=np.float64)
    facts = facts_for(model.predict, features, labels, test[["race"]].astype("string"), MEAN_ABSOLUTE_ERROR, seed=11)
    oracle = permutation_importance(
        model, features, labels, scoring="neg_mean_absolute_error", n_repeats=4, random_state=11
    )
    assert_matches_sklearn(facts, oracle, list(features.columns))
    assert not facts.higher_is_better and facts.metric == "mean_absolute_error"


def test_group_importance_is_the_group_rows_under_the_same_shuffles(adult_income) -> None:  # noqa: ANN001
    """Per group: scikit-learn's ROC AUC on the group's rows of each shuffled copy, float64, by hand."""
    model, features, test, labels = adult_income
    sensitive = test[["sex", "race"]].astype("string")
    facts = facts_for(
        lambda frame: model.predict_proba(frame)[:, 1],
        features,
        labels,
        sensitive,
        ROC_AUC,
    )
    assert [f.feature for f in facts.by_group] == ["sex", "race", f"sex{INTERSECTION_SEPARATOR}race"]
    orders = shuffle_orders(len(features), repeats=4, seed=3)
    for group in facts.by_group[0].groups:
        mask = (test["sex"] == group.group).to_numpy()
        base = roc_auc_score(labels[mask], model.predict_proba(features)[mask, 1])
        assert group.baseline.value == pytest.approx(base, abs=1e-12)
        for column in group.columns[:3]:
            drops = []
            for order in orders:
                shuffled = features.copy()
                shuffled[column.column] = features[column.column].to_numpy()[order]
                drops.append(base - roc_auc_score(labels[mask], model.predict_proba(shuffled)[mask, 1]))
            assert column.importance.value == pytest.approx(np.mean(drops), abs=1e-9)
    race = {g.group: g for g in facts.by_group[1].groups}
    small = [g for g in race.values() if g.count < 30]
    assert small and all(g.status == "insufficient_data" and not g.columns for g in small)
    assert all(g.count >= 10 for g in race.values())  # below the privacy threshold: not shown at all


def test_bootstrap_interval_brackets_the_importance(adult_income) -> None:  # noqa: ANN001
    model, features, test, labels = adult_income
    facts = facts_for(
        lambda frame: model.predict_proba(frame)[:, 1],
        features,
        labels,
        test[["sex"]].astype("string"),
        ROC_AUC,
        samples=200,
    )
    top = facts.columns[0].importance
    assert top.low is not None and top.high is not None
    assert top.low < top.value < top.high and top.low > 0  # the strongest input matters, with confidence
    assert facts.baseline.low < facts.baseline.value < facts.baseline.high


def test_only_changed_rows_are_scored_in_a_few_large_calls(adult_income) -> None:  # noqa: ANN001
    """Every shuffled copy scored whole, one model call each (as scikit-learn does), gives the same
    predictions as scoring only the rows whose value moved, stacked into large calls."""
    model, features, _, _ = adult_income
    calls: list[int] = []

    def scorer(frame: pd.DataFrame) -> np.ndarray:
        calls.append(len(frame))
        return model.predict_proba(frame)[:, 1]

    orders = shuffle_orders(len(features), repeats=3, seed=0)
    baseline = scorer(features)
    calls.clear()
    found = shuffled_predictions(scorer, features, orders, baseline, chunk_rows=8192)
    for c, column in enumerate(features.columns):
        for r, order in enumerate(orders):
            copy = features.copy()
            copy[column] = features[column].to_numpy()[order]
            np.testing.assert_allclose(found[c, r], model.predict_proba(copy)[:, 1], rtol=0, atol=1e-12)
    copies = features.shape[1] * 3 * len(features)
    assert sum(calls) < 0.8 * copies  # e.g. half the rows of sex keep their own value
    assert len(calls) <= -(-sum(calls) // (8192 - len(features)))  # every call but the last is nearly full
    one_by_one = shuffled_predictions(lambda f: model.predict_proba(f)[:, 1], features, orders, baseline, chunk_rows=1)
    np.testing.assert_array_equal(found, one_by_one)  # how the copies are stacked changes nothing


def test_explained_rows_are_a_seeded_sample_in_file_order() -> None:
    np.testing.assert_array_equal(explained_rows(50, sample=None, seed=0), np.arange(50))
    chosen = explained_rows(1000, sample=100, seed=4)
    assert len(set(chosen)) == 100 and list(chosen) == sorted(chosen)
    np.testing.assert_array_equal(chosen, explained_rows(1000, sample=100, seed=4))


def test_a_column_the_model_ignores_has_no_importance() -> None:
    rng = np.random.default_rng(0)
    features = pd.DataFrame({"signal": rng.normal(size=400), "noise": rng.normal(size=400)})
    labels = (features["signal"] > 0).to_numpy(dtype=np.int8)
    facts = facts_for(
        lambda frame: 1 / (1 + np.exp(-3 * frame["signal"].to_numpy())),
        features,
        labels,
        pd.DataFrame({"g": ["a", "b"] * 200}, dtype="string"),
        ROC_AUC,
    )
    assert [c.column for c in facts.columns] == ["signal", "noise"]
    assert facts.columns[1].importance.value == 0 and facts.columns[1].repeat_std == 0
