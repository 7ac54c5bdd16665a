"""Multiclass metrics against scikit-learn and fairlearn's MetricFrame on real COMPAS rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn import metrics as fl
from sklearn import metrics as sk
from sklearn.linear_model import LogisticRegression

from reporter.extract import multiclass as mc
from reporter.extract.metrics import row_bootstrap_weights
from tests.conftest import read_compas

FEATURES = ["age", "priors_count", "juv_fel_count", "juv_misd_count", "juv_other_count"]
CLASSES = ["High", "Low", "Medium"]


def macro(score):  # noqa: ANN001, ANN201
    return lambda y, p: score(y, p, average="macro", labels=sorted(set(y) | set(p)), zero_division=0)


SKLEARN_LABEL_METRICS = {
    "accuracy": sk.accuracy_score,
    "balanced_accuracy": sk.balanced_accuracy_score,
    "macro_precision": macro(sk.precision_score),
    "macro_recall": macro(sk.recall_score),
    "macro_f1": macro(sk.f1_score),
}


@pytest.fixture(scope="session")
def compas() -> tuple[mc.ClassPredictions, pd.DataFrame]:
    """COMPAS risk categories predicted by a scikit-learn multinomial logistic regression for 2,500 held-out rows."""
    frame = read_compas().sample(frac=1.0, random_state=0).reset_index(drop=True)
    train, test = frame.iloc[:4500], frame.iloc[4500:7000].reset_index(drop=True)
    model = LogisticRegression(max_iter=3000).fit(train[FEATURES], train["score_text"])
    assert list(model.classes_) == CLASSES
    probabilities = model.predict_proba(test[FEATURES])
    labels = pd.Index(CLASSES).get_indexer(test["score_text"])
    predictions = mc.ClassPredictions(
        labels=labels, predicted=probabilities.argmax(axis=1), classes=CLASSES, probabilities=probabilities
    )
    return predictions, test


def test_overall_metrics_match_scikit_learn(compas) -> None:
    p, _ = compas
    facts = mc.extract_multiclass_performance(p, samples=100)
    for name, oracle in SKLEARN_LABEL_METRICS.items():
        assert getattr(facts, name).value == pytest.approx(oracle(p.labels, p.predicted), rel=1e-9), name
    assert facts.roc_auc.value == pytest.approx(
        sk.roc_auc_score(p.labels, p.probabilities, multi_class="ovr"), rel=1e-9
    )
    assert facts.log_loss.value == pytest.approx(sk.log_loss(p.labels, p.probabilities), rel=1e-9)
    assert facts.brier_score.value == pytest.approx(sk.brier_score_loss(p.labels, p.probabilities), rel=1e-9)
    assert facts.confusion == sk.confusion_matrix(p.labels, p.predicted).tolist()
    precision, recall, f1, support = sk.precision_recall_fscore_support(p.labels, p.predicted)
    for k, c in enumerate(facts.per_class):
        assert (c.label, c.support) == (CLASSES[k], support[k])
        assert (c.precision.value, c.recall.value, c.f1.value) == pytest.approx(
            (precision[k], recall[k], f1[k]), rel=1e-9
        )
    for name in ("accuracy", "macro_f1", "roc_auc", "log_loss"):
        estimate = getattr(facts, name)
        assert estimate.low <= estimate.value <= estimate.high, name


def test_top_label_calibration_error_matches_a_float64_reference(compas) -> None:
    p, _ = compas
    confidence = p.probabilities.max(axis=1)
    right = (p.predicted == p.labels).astype(float)
    total = 0.0
    for b in range(10):
        lower, upper = b / 10, (b + 1) / 10
        in_bin = (confidence >= lower) & ((confidence < upper) if b < 9 else (confidence <= upper))
        if in_bin.any():
            total += in_bin.mean() * abs(confidence[in_bin].mean() - right[in_bin].mean())
    facts = mc.extract_multiclass_performance(p, samples=0)
    assert facts.expected_calibration_error.value == pytest.approx(total, rel=1e-9)
    assert sum(b.count for b in facts.calibration) == p.labels.size


def test_bootstrap_replicates_equal_metrics_on_resampled_rows(compas) -> None:
    p, _ = compas
    n = p.labels.size
    [weights] = list(row_bootstrap_weights(n, samples=3, seed=5))
    draws = np.random.default_rng(5).integers(0, n, size=(3, n))
    replicated = mc.label_metrics(p, weights, p.present) | mc.score_metrics(p, weights)
    for b in range(3):
        y, pred, prob = p.labels[draws[b]], p.predicted[draws[b]], p.probabilities[draws[b]]
        assert replicated["accuracy"][b] == pytest.approx(sk.accuracy_score(y, pred), rel=1e-12)
        assert replicated["macro_f1"][b] == pytest.approx(macro(sk.f1_score)(y, pred), rel=1e-9)
        assert replicated["log_loss"][b] == pytest.approx(sk.log_loss(y, prob, labels=[0, 1, 2]), rel=1e-9)
        assert replicated["roc_auc"][b] == pytest.approx(sk.roc_auc_score(y, prob, multi_class="ovr"), rel=1e-9)


def share_predicted(k: int):  # noqa: ANN201
    """A fairlearn metric: the share of rows predicted as class ``k``."""
    return lambda y, pred: float(np.mean(np.asarray(pred) == k))


@pytest.fixture(scope="session")
def fairness(compas):
    p, frame = compas
    sensitive = frame[["race", "sex"]].astype("string")
    return mc.extract_multiclass_fairness(sensitive, p, min_group_size=30, privacy_threshold=10, samples=200), p, frame


def test_group_metrics_and_class_rates_match_metricframe(fairness) -> None:
    facts, p, frame = fairness
    rates = {c: share_predicted(k) for k, c in enumerate(CLASSES)}
    for feature in facts.features:
        columns = feature.feature.split(" × ")
        by_group = fl.MetricFrame(
            metrics=SKLEARN_LABEL_METRICS | rates,
            y_true=p.labels,
            y_pred=p.predicted,
            sensitive_features=frame[columns],
        ).by_group
        reported = [g for g in feature.groups if g.status == "reported"]
        assert len(reported) >= 2
        for group in reported:
            key = tuple(group.group.split(" × ")) if len(columns) > 1 else group.group
            for name in ("accuracy", "balanced_accuracy"):
                assert getattr(group, name).value == pytest.approx(by_group.loc[key, name], rel=1e-9), (
                    group.group,
                    name,
                )
            for c in CLASSES:
                assert group.class_selection_rates[c].value == pytest.approx(by_group.loc[key, c], rel=1e-12)


def test_group_calibration_is_top_label_within_the_group(fairness) -> None:
    facts, p, frame = fairness
    for group in facts.features[1].groups:  # sex
        mask = (frame["sex"] == group.group).to_numpy()
        confidence = p.probabilities[mask].max(axis=1)
        right = p.predicted[mask] == p.labels[mask]
        assert sum(b.count for b in group.calibration) == mask.sum()
        top = [b for b in group.calibration if b.count][-1]
        in_top = confidence >= top.lower
        assert top.mean_score == pytest.approx(confidence[in_top].mean(), rel=1e-9)
        assert top.positive_fraction == pytest.approx(right[in_top].mean(), rel=1e-9)


def test_group_macro_f1_runs_over_the_classes_of_the_whole_evaluation(fairness) -> None:
    facts, p, frame = fairness
    for group in facts.features[0].groups:
        if group.status == "reported":
            mask = (frame["race"] == group.group).to_numpy()
            expected = sk.f1_score(
                p.labels[mask], p.predicted[mask], average="macro", labels=[0, 1, 2], zero_division=0
            )
            assert group.macro_f1.value == pytest.approx(expected, rel=1e-9), group.group


def test_disparities_match_fairlearn_on_the_reported_groups(fairness) -> None:
    facts, p, frame = fairness
    for feature in facts.features:
        columns = feature.feature.split(" × ")
        names = frame[columns].astype(str).agg(" × ".join, axis=1)
        mask = names.isin([g.group for g in feature.groups if g.status == "reported"]).to_numpy()
        y, pred, groups = p.labels[mask], p.predicted[mask], names[mask]
        accuracy = fl.MetricFrame(metrics=sk.accuracy_score, y_true=y, y_pred=pred, sensitive_features=groups)
        by_name = {d.name: d for d in feature.disparities}
        assert by_name["accuracy_score_difference"].value.value == pytest.approx(accuracy.difference(), rel=1e-9)
        assert by_name["accuracy_score_ratio"].value.value == pytest.approx(accuracy.ratio(), rel=1e-9)
        for k, c in enumerate(CLASSES):
            expected = fl.demographic_parity_ratio(y == k, pred == k, sensitive_features=groups)
            assert by_name[f"demographic_parity_ratio[{c}]"].value.value == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_label_predictions_leave_score_metrics_not_reported(compas) -> None:
    p, _ = compas
    labels_only = mc.ClassPredictions(labels=p.labels, predicted=p.predicted, classes=CLASSES)
    facts = mc.extract_multiclass_performance(labels_only, samples=20)
    assert facts.predictions == "labels" and facts.calibration == []
    assert facts.accuracy.value == pytest.approx(sk.accuracy_score(p.labels, p.predicted), rel=1e-12)
    for name in mc.SCORE_METRICS:
        assert "labels without scores" in getattr(facts, name).not_reported
