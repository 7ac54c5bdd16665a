"""The membership-inference attack against scikit-learn's `roc_auc_score` and `roc_curve` on the
same losses: a deliberately overfitted model of real UCI Adult rows, its training rows against
held-out rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss, roc_auc_score, roc_curve
from sklearn.preprocessing import OneHotEncoder
from sklearn.tree import DecisionTreeClassifier

from reporter.extract.membership import (
    CLASS_LOG_LOSS,
    LOG_LOSS,
    SQUARED_ERROR,
    extract_membership_inference,
    roc_curves,
)
from reporter.extract.metrics import row_bootstrap_weights
from tests.conftest import read_adult

COLUMNS = ["workclass", "education", "marital-status", "occupation", "relationship", "race", "sex"]


@pytest.fixture(scope="session")
def overfitted() -> dict[str, object]:
    frame = read_adult("adult.data", na_values="?").fillna("?").sample(n=3000, random_state=1).reset_index(drop=True)
    encoder = OneHotEncoder(handle_unknown="ignore").fit(frame[COLUMNS])
    labels = (frame["income"] == ">50K").to_numpy(dtype=np.int8)
    train, held = frame.index < 1500, frame.index >= 1500
    model = DecisionTreeClassifier(min_samples_leaf=2, random_state=0).fit(
        encoder.transform(frame[COLUMNS][train]), labels[train]
    )
    scores = model.predict_proba(encoder.transform(frame[COLUMNS]))[:, 1]
    losses = LOG_LOSS.compute(labels, scores)
    return {"frame": frame, "labels": labels, "train": train, "held": held, "losses": losses, "scores": scores}


def test_losses_equal_sklearn_log_loss() -> None:
    labels = np.array([0, 1, 1, 0])
    scores = np.array([0.1, 0.8, 1.0, 0.0])
    expected = [log_loss([y], [p], labels=[0, 1]) for y, p in zip(labels, scores, strict=True)]
    np.testing.assert_allclose(LOG_LOSS.compute(labels, scores), expected, rtol=1e-12)
    probabilities = np.array([[0.2, 0.5, 0.3], [0.0, 0.0, 1.0]])
    expected = [log_loss([y], [p], labels=[0, 1, 2]) for y, p in zip([1, 0], probabilities, strict=True)]
    np.testing.assert_allclose(CLASS_LOG_LOSS.compute(np.array([1, 0]), probabilities), expected)
    assert list(SQUARED_ERROR.compute(np.array([1.0, 2.0]), np.array([1.5, 0.0]))) == [0.25, 4.0]


def test_attack_figures_equal_sklearn(overfitted) -> None:  # noqa: ANN001
    losses, train, held = overfitted["losses"], overfitted["train"], overfitted["held"]
    frame = overfitted["frame"]
    facts = extract_membership_inference(
        loss=LOG_LOSS.name,
        member_losses=losses[train],
        nonmember_losses=losses[held],
        sensitive=pd.concat([frame[train], frame[held]])[["sex", "race"]].astype("string"),
        classes=np.r_[overfitted["labels"][train], overfitted["labels"][held]],
        class_names=["<=50K", ">50K"],
        min_group_size=30,
        privacy_threshold=10,
        samples=100,
        seed=0,
    )
    members = np.r_[np.ones(train.sum()), np.zeros(held.sum())]
    scores = -np.r_[losses[train], losses[held]]
    fpr, tpr, _ = roc_curve(members, scores)
    overall = facts.overall
    assert overall.roc_auc.value == pytest.approx(roc_auc_score(members, scores), abs=1e-12)
    assert overall.roc_auc.value > 0.55  # an overfitted tree gives its training rows away
    assert overall.advantage.value == pytest.approx(np.max(tpr - fpr), abs=1e-12)
    assert overall.tpr_at_1_percent_fpr.value == pytest.approx(tpr[fpr <= 0.01].max(), abs=1e-12)
    assert overall.tpr_at_0_1_percent_fpr.value == pytest.approx(tpr[fpr <= 0.001].max(), abs=1e-12)
    assert overall.roc_auc.low < overall.roc_auc.value < overall.roc_auc.high
    female = next(g for g in facts.by_group[0].groups if g.group == "Female")
    mask = np.r_[frame["sex"][train], frame["sex"][held]] == "Female"
    assert female.roc_auc.value == pytest.approx(roc_auc_score(members[mask], scores[mask]), abs=1e-12)
    assert female.members == int(mask[: train.sum()].sum())
    positive = facts.by_class[1]
    in_class = np.r_[overfitted["labels"][train], overfitted["labels"][held]] == 1
    assert positive.group == ">50K"
    assert positive.roc_auc.value == pytest.approx(roc_auc_score(members[in_class], scores[in_class]), abs=1e-12)
    assert facts.roc[0].false_positive_rate == 0 and facts.roc[-1].true_positive_rate == pytest.approx(1)


def test_weighted_roc_equals_sklearn_on_resampled_rows(overfitted) -> None:  # noqa: ANN001
    losses, train = overfitted["losses"], overfitted["train"]
    members, scores = train.astype(np.int8), -losses
    weights = next(row_bootstrap_weights(members.size, samples=2, seed=3))
    fprs, tprs = roc_curves(members, scores, weights)
    for w, fpr, tpr in zip(weights, fprs, tprs, strict=True):
        rows = np.repeat(np.arange(members.size), w.astype(int))
        expected_fpr, expected_tpr, _ = roc_curve(members[rows], scores[rows], drop_intermediate=False)
        assert np.max(tpr - fpr) == pytest.approx(np.max(expected_tpr - expected_fpr), abs=1e-12)
        assert tpr[fpr <= 0.01].max() == pytest.approx(expected_tpr[expected_fpr <= 0.01].max(), abs=1e-12)


def test_low_false_positive_rates_need_enough_held_out_rows() -> None:
    rng = np.random.default_rng(0)
    facts = extract_membership_inference(
        loss=SQUARED_ERROR.name,
        member_losses=rng.exponential(1.0, 80),
        nonmember_losses=rng.exponential(1.2, 80),
        sensitive=pd.DataFrame({"g": ["a", "b"] * 80}, dtype="string"),
        classes=None,
        class_names=None,
        min_group_size=30,
        privacy_threshold=10,
        samples=0,
        seed=0,
    )
    assert facts.overall.tpr_at_1_percent_fpr.not_reported == (
        "80 held-out rows cannot show a false positive rate of 1.0%; it needs at least 100"
    )
    assert facts.by_class == [] and facts.loss == "squared error"
