"""Explanations (permutation importance, proxies, token attributions) and privacy (the
membership-inference audit, a differential privacy guarantee)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reporter.facts.base import Fact, Interval, NotReported


class ColumnImportanceFacts(Fact):
    """How much the headline metric worsens when one input column is shuffled."""

    column: str = Field(description="Input column; its one-hot or text expansion is shuffled as one.")
    importance: Interval = Field(
        description="Mean over the repeats of the metric's worsening (baseline minus shuffled for a higher-is-better "
        "metric, shuffled minus baseline for an error); bootstrap interval over the explained rows."
    )
    repeat_std: float | None = Field(
        description="Standard deviation over the repeats (scikit-learn's importances_std)."
    )


class GroupImportanceFacts(Fact):
    """Permutation importance within one group of a sensitive feature."""

    group: str
    count: int = Field(description="Explained rows in the group.")
    status: Literal["reported", "insufficient_data"]
    baseline: Interval | None = Field(description="The headline metric on the group's rows; null when not reported.")
    columns: list[ColumnImportanceFacts] = Field(
        description="In the order of the overall importances; empty if not reported."
    )


class FeatureImportanceFacts(Fact):
    """Permutation importance per group of one sensitive feature (or intersection)."""

    feature: str
    groups: list[GroupImportanceFacts]
    suppressed_groups: int = Field(description="Groups smaller than the privacy threshold, hidden.")


class PermutationImportanceFacts(Fact):
    """Which inputs the model's predictions depend on, measured by shuffling each column."""

    metric: Literal["roc_auc", "macro_f1", "mean_absolute_error"] = Field(description="The task's headline metric.")
    higher_is_better: bool
    rows: int = Field(description="Evaluation rows explained.")
    sampled: bool = Field(description="True when the rows are a seeded sample of the evaluation rows.")
    repeats: int
    seed: int = Field(description="Seed of the shuffles, as scikit-learn's permutation_importance random_state.")
    bootstrap_samples: int
    min_group_size: int
    baseline: Interval = Field(description="The metric on the explained rows, nothing shuffled.")
    columns: list[ColumnImportanceFacts] = Field(description="Most important first (ties by column name).")
    by_group: list[FeatureImportanceFacts]


class ProxyFacts(Fact):
    """How much one input column tells about one sensitive feature on the evaluation rows."""

    column: str
    sensitive_feature: str
    normalized_mutual_information: Interval = Field(
        description="Mutual information over the mean of the two entropies (scikit-learn's arithmetic "
        "normalisation): 0 independent, 1 each determines the other; bootstrap interval over rows."
    )
    binned: int | None = Field(
        description="Numeric column cut into this many quantile bins; null: values as categories."
    )


class ColumnAttributionFacts(Fact):
    """A text model's token attributions summed over one input column's piece of each row's text."""

    column: str
    mean_attribution: Interval = Field(
        description="Mean over the attributed rows of the column's summed attribution (positive: towards the "
        "target logit); bootstrap interval over the rows."
    )
    mean_absolute_attribution: Interval = Field(description="Mean of the absolute summed attribution.")
    share: float | None = Field(
        description="The column's part of all absolute attribution over the rows (special tokens and separators "
        "included in the total); null when every attribution is zero."
    )
    rows_seen: int = Field(description="Rows in which the model saw a token of the column (others were truncated).")


class AttributedToken(Fact):
    token: str
    column: str | None = Field(description="Input column the token's text lies in; null: special token or separator.")
    attribution: float


class AttributedRowFacts(Fact):
    """One example row: its tokens as the model saw them and their attributions."""

    row: int = Field(description="Position of the row among the evaluation rows (0-based).")
    target: str = Field(description="The label whose logit is attributed.")
    logit_change: float = Field(description="Target logit at the row minus at the baseline.")
    delta: float = Field(description="captum's convergence delta: the attributions' sum minus logit_change.")
    steps: int = Field(description="Integration steps used for this row.")
    tokens: list[AttributedToken]


class TokenAttributionFacts(Fact):
    """Integrated-gradients attributions of a text model's tokens, summed per input column."""

    method: str
    baseline: str
    steps: int = Field(
        description="Most integration steps any row used: each row starts at 20 and takes more (50, then 100) "
        "while its convergence delta exceeds the tolerance."
    )
    rows: int = Field(description="Evaluation rows attributed (a seeded sample).")
    seed: int
    bootstrap_samples: int
    max_absolute_delta: float = Field(description="Largest |convergence delta| over the rows, in logits.")
    tolerance: float = Field(description="The completeness check passes when max_absolute_delta is at most this.")
    complete: bool = Field(description="Whether the completeness check passed.")
    columns: list[ColumnAttributionFacts] = Field(description="Largest mean absolute attribution first.")
    examples: list[AttributedRowFacts]


class ExplanationFacts(Fact):
    """What the model relies on (permutation importance) and which inputs stand in for a sensitive feature."""

    importance: PermutationImportanceFacts | NotReported
    proxies: list[ProxyFacts] | NotReported = Field(description="Strongest first.")
    proxy_threshold: float = Field(description="Normalised mutual information from which a column is called a proxy.")
    attributions: TokenAttributionFacts | NotReported


class AttackFacts(Fact):
    """The loss-threshold membership attack on one set of rows: training rows against held-out rows."""

    group: str = Field(description="'all', a group of a sensitive feature, or a class.")
    members: int = Field(description="Training rows (the model was fitted on them) in this set.")
    nonmembers: int = Field(description="Held-out rows (never trained on) in this set.")
    status: Literal["reported", "insufficient_data"]
    roc_auc: Interval | None = Field(
        description="Chance that a training row has a lower loss than a held-out row (0.5: the attack learns "
        "nothing); bootstrap interval over rows."
    )
    advantage: Interval | None = Field(description="Largest true positive rate minus false positive rate.")
    tpr_at_1_percent_fpr: Interval | NotReported | None = Field(
        description="Share of training rows caught when at most 1 % of held-out rows are wrongly flagged."
    )
    tpr_at_0_1_percent_fpr: Interval | NotReported | None


class FeatureAttackFacts(Fact):
    feature: str
    groups: list[AttackFacts]
    suppressed_groups: int


class RocPoint(Fact):
    false_positive_rate: float
    true_positive_rate: float


class MembershipFacts(Fact):
    """How well a model's losses tell its training rows from rows it never saw (Yeom et al. 2018)."""

    attack: str
    loss: str = Field(description="The per-row loss the attack thresholds.")
    seed: int
    bootstrap_samples: int
    min_group_size: int
    overall: AttackFacts
    roc: list[RocPoint] = Field(description="The attack's ROC curve, thinned to at most 200 points.")
    by_group: list[FeatureAttackFacts]
    by_class: list[AttackFacts] = Field(description="Per true class (classification); empty for regression.")


class DifferentialPrivacyFacts(Fact):
    """The differential privacy guarantee of a training run, as its accountant computed it."""

    epsilon: float = Field(description="The guarantee reached (at most the target).")
    target_epsilon: float
    delta: float
    noise_multiplier: float = Field(description="Standard deviation of the noise over the clipping norm.")
    max_grad_norm: float = Field(description="Per-example gradient clipping norm.")
    sample_rate: float = Field(description="Chance of each training row to be in a batch (Poisson sampling).")
    steps: int = Field(description="Optimiser steps taken.")
    accountant: str
    library: str
    noise_source: str = Field(description="Where the noise came from.")


class PrivacyFacts(Fact):
    """What a published model gives away about the people it was trained on."""

    membership: MembershipFacts | NotReported
    guarantee: DifferentialPrivacyFacts | NotReported = Field(
        description="The formal privacy guarantee of the training, if any."
    )
