"""The facts record: everything reporter publishes about one model, typed and versioned.

This is the contract between the half of reporter that computes (runners, extractors) and the half
that publishes (templates, diff, exports). The site shows only what is here. A fact that could not
be computed is a :class:`NotReported` with a reason, never a silent blank.

Change the schema only together with :data:`SCHEMA_VERSION` and the committed JSON Schema file
(`reporter/schema/facts.schema.json`, regenerated with `reporter schema`).
"""

from __future__ import annotations

import json
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION: Final = "1.7.0"
EARLIER_VERSIONS: Final = ("1.2.0", "1.3.0", "1.4.0", "1.5.0", "1.6.0")
"""Schema versions `reporter diff` still reads (a base built before an upgrade): what they lack is
filled in as not reported, with the reason."""
NOT_RECORDED: Final = "not recorded:"
"""How the reason of a fact family missing from an older record starts."""


class Fact(BaseModel):
    """Base for every fact family: immutable, and unknown fields are rejected when read back."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class NotReported(Fact):
    """A fact that could not be computed, and why."""

    not_reported: str = Field(description="Why the fact is missing, written for the reader.")


class Interval(Fact):
    """A point estimate with its seeded bootstrap 95 % percentile interval."""

    value: float | None = Field(description="Point estimate; null when undefined for the data.")
    low: float | None = Field(default=None, description="2.5th bootstrap percentile.")
    high: float | None = Field(default=None, description="97.5th bootstrap percentile.")


class Owner(Fact):
    name: str
    contact: str | None = None


class CardFacts(Fact):
    """What the spec author declares about the model (the prose half of the model card)."""

    name: str
    version: str
    date: str | None = Field(description="Release date the spec declares (ISO 8601), if any.")
    description: str
    task: str
    owners: list[Owner]
    license: str
    intended_uses: list[str]
    out_of_scope_uses: list[str]
    limitations: list[str]
    ethical_considerations: list[str]
    intended_users: list[str] = Field(description="Who the model is for, as the spec declares.")


class ArchitectureFacts(Fact):
    """What kind of network this is."""

    source: Literal["train", "load"]
    recipe: str | None = Field(description="Recipe that trained it; null for loaded models.")
    module_class: str = Field(description="Python class of the network.")
    config: dict[str, str | int | float | bool | None | list[int] | list[str]] = Field(
        description="Architecture settings (e.g. hidden size, layers), from the recipe or config.json."
    )


class EpochFacts(Fact):
    """Loss and accuracy after one training epoch."""

    epoch: int
    train_loss: float
    train_accuracy: float | None = Field(description="Null for regression, which has no accuracy.")
    validation_loss: float
    validation_accuracy: float | None = Field(description="Null for regression, which has no accuracy.")


class TrainingFacts(Fact):
    """How the model was trained in this build."""

    hyperparameters: dict[str, str | int | float | bool | None | list[int] | list[str]]
    optimizer: str
    schedule: str
    seed: int
    train_rows: int
    validation_rows: int
    history: list[EpochFacts]
    train_figures: str = Field(description="How the per-epoch train figures were measured.")
    wall_seconds: float = Field(description="Training time in seconds (varies between machines).")
    device: str


class Histogram(Fact):
    """Counts of finite values in equal bins between the tensor's minimum and maximum."""

    low: float
    high: float
    counts: list[int] = Field(
        description="One count per bin, by numpy's binning rule. float32 values are placed by their "
        "bfloat16 truncation (the top 16 bits), which can move a value lying within 2^-8 of a bin edge "
        "into the neighbouring bin; every other dtype is binned exactly."
    )


class TensorFacts(Fact):
    """Statistics of one parameter or buffer, accumulated in float64."""

    name: str
    shape: list[int]
    dtype: str = Field(description="Stored type: a numpy name, or a quantized block type (GGUF's Q4_1, ...).")
    numel: int
    bytes: int = Field(description="Stored size (of the quantized blocks, for a quantized tensor).")
    mean: float | None
    std: float | None = Field(description="Population standard deviation.")
    min: float | None
    max: float | None
    abs_max: float | None
    l2_norm: float | None
    zero_fraction: float | None = Field(description="Fraction of elements exactly zero.")
    small_fraction: float | None = Field(description="Fraction of elements with |x| below the small threshold.")
    nan_count: int
    inf_count: int
    histogram: Histogram | None = Field(description="Null when the tensor has no finite value.")


class PowerLawFit(Fact):
    """The power-law fit of a layer's eigenvalue tail, as weightwatcher fits it."""

    alpha: float = Field(description="Exponent of the fitted density p(x) ~ x^-alpha above xmin.")
    xmin: float = Field(description="Smallest eigenvalue in the fitted tail (chosen to minimise ks_distance).")
    ks_distance: float = Field(description="Kolmogorov-Smirnov distance of the tail from the fit; lower is better.")
    sigma: float = Field(description="Standard error of alpha: (alpha - 1) / sqrt(tail size).")
    tail_size: int = Field(description="Eigenvalues at or above xmin.")


class LayerSpectrum(Fact):
    """Spectral facts of one weight matrix (eigenvalues of the smaller Gram matrix W^T W or W W^T)."""

    name: str
    rows: int = Field(description="Rows of the analysed matrix (a conv kernel is reshaped to out x rest).")
    columns: int
    frobenius_norm: float
    spectral_norm: float = Field(description="Largest singular value.")
    stable_rank: float = Field(description="Frobenius norm squared over spectral norm squared.")
    zero_rows: int = Field(description="Rows that are entirely zero.")
    zero_columns: int = Field(description="Columns that are entirely zero.")
    eigenvalues: int | None = Field(description="Eigenvalues computed; null when above the size cap.")
    fit: PowerLawFit | NotReported
    reading: Literal["over-trained", "typical", "under-trained", "not fitted"] = Field(
        description="weightwatcher's reading of alpha: below 2 over-trained, above 6 under-trained."
    )


class SpectralSettings(Fact):
    """How the spectral facts were computed, so that a reader can reproduce them."""

    min_side: int = Field(description="Matrices whose smaller side is below this are skipped.")
    max_side: int = Field(description="Above this smaller side, eigenvalues are not computed (the size cap).")
    eigenvalue_floor: float = Field(description="Eigenvalues at or below this are left out of the fit.")
    min_fit_eigenvalues: int = Field(description="Fewer eigenvalues above the floor than this: no fit.")
    skipped: dict[str, str] = Field(description="2-D tensors not analysed, with the reason.")


class QuantizedTypeFacts(Fact):
    """The tensors stored in one type (a quantized block type or a plain one) and their cost."""

    type: str
    tensors: int
    elements: int
    bytes: int
    bits_per_weight: float = Field(description="Stored bits per element: 8 x bytes / elements.")


class QuantizedLayerFacts(Fact):
    """One layer's tensors (GGUF's `blk.N`, or a tensor outside the blocks) and their stored types."""

    layer: str
    elements: int
    bytes: int
    bits_per_weight: float
    types: list[str] = Field(description="Stored types of its tensors, most elements first.")


class QuantizationFacts(Fact):
    """What only a quantized file has: the stored type of each tensor and what it costs in bits."""

    format: str = Field(description="The file format and version (e.g. 'GGUF version 3').")
    bits_per_weight: float = Field(description="Stored bits per element over every tensor.")
    types: list[QuantizedTypeFacts] = Field(description="Most bytes first.")
    layers: list[QuantizedLayerFacts] = Field(description="In depth order.")


class FileMetadataFacts(Fact):
    """The weight file's own metadata, as declared by the file (not checked against the weights)."""

    metadata: dict[str, str | int | float | bool] = Field(
        description="Every scalar key of the general and architecture sections (GGUF's `general.*`, `llama.*`, ...)."
    )
    arrays: dict[str, int] = Field(description="Every array key and its number of items (e.g. the vocabulary).")
    license: str | None = Field(description="The license the file declares (`general.license`); null if none.")
    license_agrees: bool | None = Field(
        description="Whether it names the spec's license (ignoring case); null when the file declares none."
    )


class WeightFacts(Fact):
    """The weights as published: totals, per-tensor statistics, spectra and fingerprints."""

    parameters_total: int
    parameters_trainable: int
    parameters_frozen: int
    tensor_count: int
    bytes_by_dtype: dict[str, int]
    small_threshold: float = Field(description="Threshold of each tensor's small_fraction.")
    tensors: list[TensorFacts]
    layers: list[LayerSpectrum] = Field(description="Every analysed 2-D weight matrix, in depth order.")
    spectral: SpectralSettings
    fingerprint: str = Field(description="SHA-256 over tensor names, dtypes, shapes and bytes.")
    files: dict[str, str] = Field(description="Weight file name to the SHA-256 of its bytes.")
    quantization: QuantizationFacts | NotReported
    file_metadata: FileMetadataFacts | NotReported


class ColumnFacts(Fact):
    name: str
    dtype: str
    missing: int


class IdentifierFinding(Fact):
    """A column that looks like a direct identifier (its values are never published)."""

    column: str
    kind: str = Field(description="What its values look like (e.g. 'e-mail address'), or 'named as an identifier'.")
    share: float | None = Field(description="Share of its non-missing values that match; null when flagged by name.")


class DataMeasurements(Fact):
    """What the build measured in a data file."""

    sha256: str
    rows_in_file: int
    rows_used: int
    columns: list[ColumnFacts]
    label_balance: dict[str, int] | NotReported = Field(
        description="Rows per label value; not reported when the spec names no label."
    )
    group_counts: dict[str, dict[str, int]] = Field(
        description="Rows per group of each sensitive feature; groups below the privacy threshold are "
        "left out and counted under `suppressed_groups`."
    )
    suppressed_groups: dict[str, int] = Field(description="Per sensitive feature, groups too small to publish.")
    identifiers: list[IdentifierFinding] | NotReported = Field(
        default_factory=lambda: NotReported(not_reported="not recorded: these facts predate the identifier check"),
        description="Columns that look like direct identifiers, by the rule in `identifier_rule`.",
    )
    identifier_rule: str | None = Field(default=None, description="The rule the identifier check applied.")


class DataSourceFacts(Fact):
    """A data source: what the author declares and, when the file is at hand, what the build measured."""

    id: str
    role: Literal["train", "evaluation"]
    location: str | None
    license: str
    origin_url: str | None
    description: str
    collection: str | None
    preprocessing: str | None
    rows_declared: int | None
    row_selection: str | None = Field(
        description="How the build chose rows from the file (split, sample), as the spec declares; null: every row."
    )
    measurements: DataMeasurements | NotReported


class ConfusionFacts(Fact):
    true_positive: int
    false_positive: int
    true_negative: int
    false_negative: int


class CalibrationBin(Fact):
    lower: float
    upper: float
    count: int
    mean_score: float | None
    positive_fraction: float | None


class PerformanceFacts(Fact):
    """Overall performance of a binary classifier on the held-out evaluation data."""

    task: Literal["binary_classification"] = "binary_classification"
    rows: int
    predictions: Literal["scores", "labels"] = Field(
        description="What the model's predictions were: probabilities, or labels only (then the "
        "score-based metrics are not reported)."
    )
    threshold: float | None = Field(description="Decision threshold on scores; null for label predictions.")
    accuracy: Interval
    balanced_accuracy: Interval
    precision: Interval
    recall: Interval
    f1: Interval
    roc_auc: Interval | NotReported
    log_loss: Interval | NotReported
    brier_score: Interval | NotReported
    expected_calibration_error: Interval | NotReported
    confusion: ConfusionFacts
    calibration: list[CalibrationBin] = Field(description="Reliability bins; empty for label predictions.")


class ClassFacts(Fact):
    """How well a multiclass model recognises one class."""

    label: str
    support: int = Field(description="Evaluation rows whose true label is this class.")
    predicted: int = Field(description="Evaluation rows predicted as this class.")
    precision: Interval
    recall: Interval
    f1: Interval


class MulticlassPerformanceFacts(Fact):
    """Overall performance of a multiclass classifier on the held-out evaluation data."""

    task: Literal["multiclass_classification"] = "multiclass_classification"
    rows: int
    predictions: Literal["scores", "labels"] = Field(
        description="Class probabilities, or predicted labels only (then the score-based metrics are not reported)."
    )
    classes: list[str] = Field(description="The classes, in the order of the confusion matrix.")
    accuracy: Interval
    balanced_accuracy: Interval = Field(description="Mean recall over the classes present among the true labels.")
    macro_precision: Interval = Field(description="Unweighted mean over classes; a class never predicted counts 0.")
    macro_recall: Interval
    macro_f1: Interval
    roc_auc: Interval | NotReported = Field(description="Macro average of the one-vs-rest AUCs.")
    log_loss: Interval | NotReported
    brier_score: Interval | NotReported = Field(
        description="Mean over rows of the sum over classes of (p - 1[true])^2."
    )
    expected_calibration_error: Interval | NotReported = Field(
        description="Top-label: confidence in the predicted class against whether it was right, ten equal bins."
    )
    confusion: list[list[int]] = Field(description="Rows are true classes, columns predicted classes.")
    per_class: list[ClassFacts]
    calibration: list[CalibrationBin] = Field(
        description="Top-label reliability bins (mean_score is the confidence, positive_fraction the share right)."
    )


class RegressionBin(Fact):
    """Rows whose prediction falls in one decile of the predictions: does the mean label follow?"""

    lower: float
    upper: float
    count: int
    mean_prediction: float
    mean_label: float


class RegressionPerformanceFacts(Fact):
    """Overall performance of a regression model on the held-out evaluation data."""

    task: Literal["regression"] = "regression"
    rows: int
    mean_absolute_error: Interval
    root_mean_squared_error: Interval
    r2: Interval = Field(description="Coefficient of determination, as scikit-learn's r2_score.")
    mean_error: Interval = Field(description="Mean of prediction minus label: positive when the model over-predicts.")
    mean_label: Interval
    mean_prediction: Interval
    calibration: list[RegressionBin] = Field(description="Mean label per decile of the predictions.")


class GroupFacts(Fact):
    """Metrics for one group of one sensitive feature (or intersection of features).

    Classification fills the rate fields and regression the error fields; the others stay null.
    """

    group: str
    count: int
    status: Literal["reported", "insufficient_data"]
    base_rate: Interval | None = None
    selection_rate: Interval | None = None
    true_positive_rate: Interval | None = None
    false_positive_rate: Interval | None = None
    false_negative_rate: Interval | None = None
    precision: Interval | None = None
    accuracy: Interval | None = None
    roc_auc: Interval | NotReported | None = None
    balanced_accuracy: Interval | None = None
    macro_f1: Interval | None = None
    class_selection_rates: dict[str, Interval] = Field(
        default_factory=dict, description="Multiclass: the share of the group's rows predicted as each class."
    )
    mean_label: Interval | None = None
    mean_prediction: Interval | None = None
    mean_error: Interval | None = None
    mean_absolute_error: Interval | None = None
    root_mean_squared_error: Interval | None = None
    r2: Interval | None = None
    ratios_to_reference: dict[str, Interval] = Field(
        description="Binary classification: selection rate and true positive rate divided by the reference "
        "group's; multiclass: accuracy; regression: mean absolute error."
    )
    calibration: list[CalibrationBin] = Field(
        default_factory=list, description="Reliability bins of this group (empty if not reported or regression)."
    )


class DisparityFacts(Fact):
    """One fairlearn-named disparity across the reported groups of a feature."""

    name: str
    value: Interval
    threshold: float
    kind: Literal["difference", "ratio"]
    status: Literal["pass", "warn", "fail", "not_computed"]


class FeatureFairnessFacts(Fact):
    """Disaggregated metrics and disparities for one sensitive feature or intersection."""

    feature: str = Field(description="Column name, or names joined by ' × ' for intersections.")
    groups: list[GroupFacts]
    suppressed_groups: int = Field(description="Groups smaller than the privacy threshold, hidden.")
    reference_group: str | None
    disparities: list[DisparityFacts]


class FairnessFacts(Fact):
    min_group_size: int
    privacy_threshold: int
    bootstrap_samples: int
    features: list[FeatureFairnessFacts]
    status: Literal["pass", "warn", "fail", "not_computed"]


class AssociationTestFacts(Fact):
    """One Sentence Encoder Association Test: targets X, Y and attributes A, B in sentence templates."""

    name: str
    targets: list[str] = Field(description="Names of the target word sets X and Y.")
    attributes: list[str] = Field(description="Names of the attribute word sets A and B.")
    words: list[int] = Field(description="Words in X, Y, A and B.")
    sentences: list[int] = Field(description="Sentences embedded for X, Y, A and B (words times templates).")
    effect_size: Interval = Field(description="Caliskan's d (ddof=1), with a bootstrap interval over sentences.")
    p_value: float = Field(description="One-sided permutation p-value of the test statistic.")
    p_value_method: Literal["exact", "sampled"] = Field(
        description="exact: every equal split of X and Y; sampled: seeded random splits, (1 + hits) / (1 + samples)."
    )
    partitions: int = Field(description="Splits enumerated (exact) or sampled.")
    original_effect_size: float | None = Field(
        description="d of the human Implicit Association Test the word sets come from, where published."
    )


class EmbeddingBiasFacts(Fact):
    """Social bias in an encoder's sentence embeddings, measured in the build."""

    method: str
    word_sets: str = Field(description="Where the word sets were read from, with the file's SHA-256.")
    templates: list[str]
    pooling: str = Field(description="How token vectors became one sentence vector.")
    bootstrap_samples: int
    tests: list[AssociationTestFacts]


class InferenceFacts(Fact):
    """How the build ran a loaded model over the evaluation rows, so anyone holding the weights can
    run it the same way and get the same figures."""

    device: str
    rows: int
    batch_size: int | None = Field(description="Rows per forward pass; null where the model's own code batches.")
    max_length: int | None = Field(description="Longest input in tokens (longer inputs truncated); null: not text.")
    input: str = Field(description="What the model read: a text column, or each row written as text.")
    labels: dict[str, str] = Field(description="Each of the model's labels and the data label value it stands for.")
    seconds: float = Field(description="Wall time of the forward passes (varies between machines).")
    rows_per_second: float = Field(description="Rows over seconds (varies between machines).")


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


class OpennessComponentFacts(Fact):
    """One of the Model Openness Framework's components, and whether it counts as openly released."""

    key: str = Field(description="The spec's key for the component (e.g. `training_code`).")
    name: str = Field(description="The framework's name for it (e.g. 'Training code').")
    content_type: Literal["code", "data", "document"]
    mof_class: Literal[1, 2, 3] = Field(description="The class that first asks for it (3 is the first reached).")
    required: bool = Field(description="False for the framework's optional components, which never decide a class.")
    status: Literal["open", "not_open", "not_released"] = Field(
        description="open: released under an open license; not_open: its license is not open, or not an SPDX "
        "identifier the framework knows (a missing license falls back to the model's); not_released: not declared."
    )
    license: str | None
    license_origin: Literal["component", "type", "model"] | None = Field(
        description="Where the license came from: the component, its type's license, or the model's license."
    )
    type_appropriate: bool | None = Field(
        description="Whether the license is one the framework lists for this content type; null when not open."
    )
    license_suggestion: str | None = Field(
        description="For a license that is not an SPDX identifier, the closest one (e.g. CC-BY-4.0 for 'CC BY 4.0')."
    )
    location: str | None = Field(description="Where it is published; a site-relative page for what the build makes.")
    origin: Literal["declared", "build"] | None = Field(
        description="declared: the spec's `openness` section, or its datasheets' origins for the data; "
        "build: a page or file this site publishes."
    )


class OpennessFacts(Fact):
    """The Model Openness Framework class the released components reach."""

    framework: str = Field(description="The framework and the version of its reference tool followed.")
    reached: Literal[0, 1, 2, 3] = Field(description="Class reached: 3 open model, 2 open tooling, 1 open science.")
    label: str
    components: list[OpennessComponentFacts]
    next_class: Literal[1, 2, 3] | None = Field(description="The next class up; null at Class I.")
    missing_for_next: list[str] = Field(description="Keys of the required components that next class still lacks.")


class PerplexityFacts(Fact):
    """How well a language model predicts the spec's evaluation text, with intervals over documents."""

    source: str = Field(description="The data source and column holding the documents.")
    documents: int = Field(description="Documents scored.")
    documents_in_file: int
    sampled: bool = Field(description="Whether the documents are a seeded sample of the file's.")
    tokens: int = Field(description="Tokens predicted (every token of every scored document).")
    bytes: int = Field(description="UTF-8 bytes of the scored documents.")
    window: int = Field(description="Tokens per window, the start token included.")
    method: str = Field(description="How the documents were cut into windows and scored, in words.")
    perplexity: Interval = Field(description="exp(total negative log-likelihood / tokens), 95 % bootstrap interval.")
    bits_per_byte: Interval = Field(description="Total negative log-likelihood in bits / UTF-8 bytes.")


class BiasCategoryFacts(Fact):
    """One category of sentence pairs that differ only in a group term (one WEAT test)."""

    category: str
    pairs: int
    sampled: bool = Field(description="Whether the pairs are a seeded sample of those the templates make.")
    stereotyped_share: Interval = Field(description="Share of pairs where the stereotyped sentence is more likely.")
    share_p_value: float = Field(description="Two-sided exact sign test of the share against one half.")
    mean_difference: Interval = Field(
        description="Mean of log P(stereotyped) - log P(other), in nats, of the shared continuation."
    )
    difference_p_value: float = Field(description="Two-sided sign-flip permutation test of the mean against 0.")
    example: list[str] = Field(description="One pair: the stereotyped sentence, then the other.")


class LikelihoodBiasFacts(Fact):
    """A likelihood-based bias probe: which of two sentences differing only in a group term the model prefers."""

    source: str = Field(description="The word-set file and its SHA-256.")
    templates: list[str]
    method: str = Field(description="How pairs are built and scored, in words.")
    max_pairs: int = Field(description="Pairs per category at most (a seeded sample above).")
    permutations: int
    categories: list[BiasCategoryFacts]


class SampleOutputFacts(Fact):
    prompt: str
    completion: str = Field(description="The model's greedy completion, as generated (shown escaped).")
    tokens: int = Field(description="Tokens generated.")


class SampleOutputsFacts(Fact):
    """Deterministic completions of the prompts the spec declares (a Model Openness Framework component)."""

    decoding: str = Field(description="How the completions were generated.")
    outputs: list[SampleOutputFacts]


class LanguageModelFacts(Fact):
    """A decoder language model run by the build: perplexity, a bias probe and sample outputs."""

    model_class: str
    tokenizer: str = Field(description="Tokenizer class and vocabulary size.")
    device: str
    perplexity: PerplexityFacts | NotReported
    bias_probe: LikelihoodBiasFacts | NotReported
    samples: SampleOutputsFacts | NotReported


class EntityScoreFacts(Fact):
    """Exact-match entity scores of one entity type (or of all types, micro-averaged)."""

    type: str
    gold: int = Field(description="Entities in the gold tags.")
    predicted: int = Field(description="Entities in the predicted tags.")
    correct: int = Field(description="Predicted entities whose span and type are both exact.")
    precision: Interval = Field(description="correct / predicted; null when nothing was predicted.")
    recall: Interval = Field(description="correct / gold; null when the data has none.")
    f1: Interval = Field(description="2 · correct / (gold + predicted).")


class EntityModeFacts(Fact):
    """Entity scores under one reading of the IOB2 tags."""

    mode: Literal["conlleval", "strict"]
    description: str
    micro: EntityScoreFacts
    types: list[EntityScoreFacts]


class SpanErrorFacts(Fact):
    """What became of one type's gold entities, and its predictions that overlap no gold entity."""

    type: str
    gold: int
    correct: int
    wrong_type: int = Field(description="Same span, another type predicted.")
    wrong_boundary: int = Field(description="An overlapping prediction of the same type, with another span.")
    wrong_type_and_boundary: int = Field(description="Only predictions of other types and spans overlap it.")
    missed: int = Field(description="No predicted entity overlaps it.")
    predicted: int
    spurious: int = Field(description="Predicted entities of this type that overlap no gold entity.")


class EntityGroupFacts(Fact):
    """Micro entity scores for the sentences of one group of a sensitive feature."""

    group: str
    sentences: int
    entities: int = Field(description="Gold entities in the group's sentences.")
    status: Literal["reported", "insufficient_data"]
    recall: Interval | None = None
    f1: Interval | None = None
    ratios_to_reference: dict[str, Interval] = Field(
        default_factory=dict, description="Recall and F1 divided by the reference group's."
    )


class EntityFeatureFacts(Fact):
    feature: str
    reference_group: str | None
    groups: list[EntityGroupFacts]
    suppressed_groups: int = Field(description="Groups smaller than the privacy threshold, hidden.")
    status: Literal["pass", "warn", "fail", "not_computed"]


class NameProbeGroupFacts(Fact):
    """How the model tags one group's names in the probe's template sentences."""

    group: str
    names: int
    sentences: int
    recognised: Interval = Field(
        description="Share of sentences whose name is tagged exactly as one entity of the type."
    )
    other_type: float = Field(description="Share whose name span is tagged exactly, as another type.")
    partly: float = Field(description="Share where predicted entities overlap the name but none spans it exactly.")
    missed: float = Field(description="Share where no predicted entity overlaps the name.")
    ratio_to_reference: Interval | None = Field(description="recognised divided by the reference group's.")
    example: list[str] = Field(description="One sentence and the tags the model gave it.")


class NameProbeFacts(Fact):
    """The name-template probe of NER bias: are some groups' names recognised less often?"""

    source: str = Field(description="The name lists: file, tests and SHA-256.")
    license: str
    entity_type: str
    templates: list[str]
    method: str
    reference_groups: list[str] = Field(
        description="The first name set of each test, which the second is compared with."
    )
    ratio_threshold: float
    groups: list[NameProbeGroupFacts]
    status: Literal["pass", "warn", "fail", "not_computed"]


class TokenClassificationFacts(Fact):
    """A token classifier (named-entity recogniser) evaluated at the entity level."""

    source: str = Field(description="The evaluation data and its token and tag columns.")
    sentences: int
    tokens: int
    entity_types: list[str]
    headline_mode: Literal["conlleval", "strict"]
    modes: list[EntityModeFacts]
    token_accuracy: Interval = Field(description="Share of tokens whose IOB2 tag is predicted exactly, O included.")
    span_errors: list[SpanErrorFacts] = Field(description="In the headline mode.")
    untagged_tokens: int = Field(
        description="Tokens the model gave no prediction (past its input length, or no sub-word token), tagged O."
    )
    bootstrap_samples: int
    min_group_size: int
    privacy_threshold: int
    ratio_threshold: float
    groups: list[EntityFeatureFacts] | NotReported
    name_probe: NameProbeFacts | NotReported


class ProvenanceFacts(Fact):
    """What produced these facts, so readers can reproduce them."""

    reporter_version: str
    python: str
    libraries: dict[str, str]
    device: str
    cache_key: str
    project_commit: str | None


class FactsRecord(Fact):
    """Everything reporter knows about one model."""

    schema_version: Literal["1.2.0", "1.3.0", "1.4.0", "1.5.0", "1.6.0", "1.7.0"] = SCHEMA_VERSION
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="URL-safe model identifier.")
    card: CardFacts
    architecture: ArchitectureFacts
    training: TrainingFacts | NotReported
    weights: WeightFacts
    data: list[DataSourceFacts]
    sensitive_features: list[str]
    performance: PerformanceFacts | MulticlassPerformanceFacts | RegressionPerformanceFacts | NotReported
    fairness: FairnessFacts | NotReported
    inference: InferenceFacts | NotReported
    embedding_bias: EmbeddingBiasFacts | NotReported
    explanations: ExplanationFacts | NotReported
    privacy: PrivacyFacts | NotReported
    openness: OpennessFacts | NotReported
    language_model: LanguageModelFacts | NotReported
    token_classification: TokenClassificationFacts | NotReported
    provenance: ProvenanceFacts

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        """Facts of an earlier schema version, with the fact families it did not have marked as such."""
        if isinstance(data, dict) and data.get("schema_version") in EARLIER_VERSIONS:
            missing = {"not_reported": f"{NOT_RECORDED} these facts were written with schema {data['schema_version']}"}
            data = {
                "inference": missing,
                "embedding_bias": missing,
                "openness": missing,
                "explanations": missing,
                "privacy": missing,
                "language_model": missing,
                "token_classification": missing,
                **data,
            }
            data["card"] = {"intended_users": [], **data.get("card", {})}
            if isinstance(data.get("weights"), dict):
                data["weights"] = {"quantization": missing, "file_metadata": missing, **data["weights"]}
        return data

    def to_json(self) -> str:
        """Serialise deterministically: sorted keys, fixed indentation, trailing newline."""
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"


def facts_json_schema() -> str:
    """The JSON Schema of :class:`FactsRecord`, as committed in the repository."""
    schema = FactsRecord.model_json_schema()
    schema["$id"] = f"https://reporter.invalid/schema/facts-{SCHEMA_VERSION}.json"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
