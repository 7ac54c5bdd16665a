"""Membership inference: the loss-threshold attack of Yeom et al. (2018) on a model trained here.

An attacker who holds the published weights and a person's record computes the model's loss on
it and guesses "in the training data" when the loss is low. Its success on a seeded sample of
the rows the model was fitted on against as many held-out rows is how much the weights give away
about who was trained on: ROC AUC (0.5 is chance), the largest advantage (true minus false
positive rate) and the true positive rate at a low false positive rate, the regime that matters
for a few individuals (Carlini et al. 2022). Every figure is a function of row weights, so the
same bootstrap as the other metrics gives its interval.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reporter.extract.fairness import group_visibility, groupings
from reporter.extract.metrics import Rows, interval, roc_auc, row_bootstrap_weights
from reporter.facts import AttackFacts, FeatureAttackFacts, Interval, MembershipFacts, NotReported, RocPoint

ATTACK = "loss threshold (Yeom et al. 2018): a row is guessed to be a training row when its loss is low"
LOW_RATES = {"tpr_at_1_percent_fpr": 0.01, "tpr_at_0_1_percent_fpr": 0.001}
ROC_POINTS = 200
EPSILON = np.finfo(np.float64).eps


@dataclass(frozen=True)
class RowLoss:
    """The loss the attacker computes per row (a task's, named on the card), and whether it is the
    loss of a true class, so the audit is also broken down by class."""

    name: str
    compute: Callable[[np.ndarray, np.ndarray], np.ndarray]
    """(labels, the model's outputs) -> one float64 loss per row."""
    by_class: bool


def _binary_log_loss(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    p = np.clip(scores, EPSILON, 1 - EPSILON)
    return -(labels * np.log(p) + (1 - labels) * np.log1p(-p))


def _class_log_loss(labels: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    clipped = np.clip(probabilities, EPSILON, 1 - EPSILON)
    clipped = clipped / clipped.sum(axis=1, keepdims=True)
    return -np.log(clipped[np.arange(labels.size), labels])


def _squared_error(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    return (predicted - labels) ** 2


LOG_LOSS = RowLoss("log loss of the true label", _binary_log_loss, by_class=True)
"""Binary classification's: probabilities clipped to float64 epsilon, as scikit-learn's `log_loss`."""
CLASS_LOG_LOSS = RowLoss("log loss of the true class", _class_log_loss, by_class=True)
"""Multiclass classification's: clipped and renormalised, as scikit-learn's `log_loss`."""
SQUARED_ERROR = RowLoss("squared error", _squared_error, by_class=False)
"""Regression's."""


def roc_curves(members: np.ndarray, scores: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates (B, thresholds) of guessing "member" at each score or above,
    one threshold per distinct score (ties move together), under row weights ``w`` (B, rows)."""
    order = np.argsort(-scores, kind="stable")
    ordered = scores[order]
    last_of_tie = np.r_[ordered[1:] != ordered[:-1], True]
    hits = np.cumsum(w[:, order] * members[order], axis=1)[:, last_of_tie]
    false = np.cumsum(w[:, order] * (1 - members[order]), axis=1)[:, last_of_tie]
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = hits / hits[:, -1:]
        fpr = false / false[:, -1:]
    zero = np.zeros((w.shape[0], 1))
    return np.hstack([zero, fpr]), np.hstack([zero, tpr])


def _attack_figures(members: np.ndarray, scores: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    fpr, tpr = roc_curves(members, scores, w)
    figures = {
        "roc_auc": roc_auc(Rows(labels=members, scores=scores, threshold=0.5), w),
        "advantage": np.max(tpr - fpr, axis=1),
    }
    for name, rate in LOW_RATES.items():
        figures[name] = np.max(np.where(fpr <= rate, tpr, 0.0), axis=1)
    return figures


def _attack(
    group: str, members: np.ndarray, scores: np.ndarray, *, reportable: bool, samples: int, seed: int
) -> AttackFacts:
    count_in, count_out = int(members.sum()), int((1 - members).sum())
    if not reportable or count_in == 0 or count_out == 0:
        return AttackFacts(
            group=group,
            members=count_in,
            nonmembers=count_out,
            status="insufficient_data",
            roc_auc=None,
            advantage=None,
            tpr_at_1_percent_fpr=None,
            tpr_at_0_1_percent_fpr=None,
        )
    points = _attack_figures(members, scores, np.ones((1, members.size)))
    replicates: dict[str, list[np.ndarray]] = {name: [] for name in points}
    for w in row_bootstrap_weights(members.size, samples=samples, seed=seed):
        for name, values in _attack_figures(members, scores, w).items():
            replicates[name].append(values)
    found: dict[str, Interval | NotReported] = {
        name: interval(float(points[name][0]), np.concatenate(replicates[name]) if replicates[name] else None)
        for name in points
    }
    for name, rate in LOW_RATES.items():
        if count_out * rate < 1:
            found[name] = NotReported(
                not_reported=f"{count_out} held-out rows cannot show a false positive rate of {rate:.1%}; "
                f"it needs at least {round(1 / rate):,}"
            )
    return AttackFacts(
        group=group,
        members=count_in,
        nonmembers=count_out,
        status="reported",
        roc_auc=found["roc_auc"],
        advantage=found["advantage"],
        tpr_at_1_percent_fpr=found["tpr_at_1_percent_fpr"],
        tpr_at_0_1_percent_fpr=found["tpr_at_0_1_percent_fpr"],
    )


def _thinned_roc(members: np.ndarray, scores: np.ndarray) -> list[RocPoint]:
    fpr, tpr = (a[0] for a in roc_curves(members, scores, np.ones((1, members.size))))
    keep = np.unique(np.round(np.linspace(0, fpr.size - 1, min(ROC_POINTS, fpr.size))).astype(int))
    return [RocPoint(false_positive_rate=float(fpr[i]), true_positive_rate=float(tpr[i])) for i in keep]


def extract_membership_inference(
    *,
    loss: str,
    member_losses: np.ndarray,
    nonmember_losses: np.ndarray,
    sensitive: pd.DataFrame,
    classes: np.ndarray | None,
    class_names: list[str] | None,
    min_group_size: int,
    privacy_threshold: int,
    samples: int,
    seed: int,
) -> MembershipFacts:
    """The attack overall, per group of each sensitive feature (and their intersection) and per
    true class. ``sensitive`` and ``classes`` hold the member rows first, then the non-members."""
    members = np.r_[np.ones(member_losses.size), np.zeros(nonmember_losses.size)].astype(np.int8)
    scores = -np.r_[member_losses, nonmember_losses]  # lower loss: more likely a member
    overall = _attack("all", members, scores, reportable=True, samples=samples, seed=seed)
    by_group = []
    for grouping in groupings(sensitive.reset_index(drop=True)):
        shown = group_visibility(
            grouping, reference=None, min_group_size=min_group_size, privacy_threshold=privacy_threshold
        )
        groups = []
        for name, _ in shown.visible:
            mask = grouping.codes == grouping.names.index(name)
            groups.append(
                _attack(
                    name, members[mask], scores[mask], reportable=name in shown.reportable, samples=samples, seed=seed
                )
            )
        by_group.append(FeatureAttackFacts(feature=grouping.feature, groups=groups, suppressed_groups=shown.suppressed))
    by_class = []
    if classes is not None and class_names is not None:
        for code, name in enumerate(class_names):
            mask = classes == code
            by_class.append(
                _attack(
                    name,
                    members[mask],
                    scores[mask],
                    reportable=mask.sum() >= min_group_size,
                    samples=samples,
                    seed=seed,
                )
            )
    return MembershipFacts(
        attack=ATTACK,
        loss=loss,
        seed=seed,
        bootstrap_samples=samples,
        min_group_size=min_group_size,
        overall=overall,
        roc=_thinned_roc(members, scores),
        by_group=by_group,
        by_class=by_class,
    )
