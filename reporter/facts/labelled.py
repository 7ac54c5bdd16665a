"""Performance and fairness of a model measured on labelled rows: binary and multiclass
classification and regression, overall and per group."""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

from pydantic import Field

from reporter.facts.base import Fact, Interval, NotReported


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

    rows: int
    mean_absolute_error: Interval
    root_mean_squared_error: Interval
    r2: Interval = Field(description="Coefficient of determination, as scikit-learn's r2_score.")
    mean_error: Interval = Field(description="Mean of prediction minus label: positive when the model over-predicts.")
    mean_label: Interval
    mean_prediction: Interval
    calibration: list[RegressionBin] = Field(description="Mean label per decile of the predictions.")


class GroupFacts(Fact):
    """What every task's record of one group of a sensitive feature (or intersection) holds.

    Each labelled task has its own group record with only its own metrics; a metric is null when
    the group has too few rows to report (``status`` says so).
    """

    group: str
    count: int
    status: Literal["reported", "insufficient_data"]
    ratios_to_reference: dict[str, Interval] = Field(
        description="Binary classification: selection rate and true positive rate divided by the reference "
        "group's; multiclass: accuracy; regression: mean absolute error."
    )


class BinaryGroupFacts(GroupFacts):
    """A binary classifier's rates for one group."""

    base_rate: Interval | None = None
    selection_rate: Interval | None = None
    true_positive_rate: Interval | None = None
    false_positive_rate: Interval | None = None
    false_negative_rate: Interval | None = None
    precision: Interval | None = None
    accuracy: Interval | None = None
    roc_auc: Interval | NotReported | None = None
    calibration: list[CalibrationBin] = Field(
        default_factory=list, description="Reliability bins of this group (empty if not reported)."
    )


class MulticlassGroupFacts(GroupFacts):
    """A multiclass classifier's accuracy and predicted-class shares for one group."""

    accuracy: Interval | None = None
    balanced_accuracy: Interval | None = None
    macro_f1: Interval | None = None
    class_selection_rates: dict[str, Interval] = Field(
        default_factory=dict, description="The share of the group's rows predicted as each class."
    )
    calibration: list[CalibrationBin] = Field(
        default_factory=list, description="Top-label reliability bins of this group (empty if not reported)."
    )


class RegressionGroupFacts(GroupFacts):
    """A regression model's errors for one group."""

    mean_label: Interval | None = None
    mean_prediction: Interval | None = None
    mean_error: Interval | None = None
    mean_absolute_error: Interval | None = None
    root_mean_squared_error: Interval | None = None
    r2: Interval | None = None


AnyGroupFacts = TypeVar("AnyGroupFacts", bound=GroupFacts)
"""The group record of one task: every feature of a model's fairness facts holds the same kind."""


class DisparityFacts(Fact):
    """One fairlearn-named disparity across the reported groups of a feature."""

    name: str
    value: Interval
    threshold: float
    kind: Literal["difference", "ratio"]
    status: Literal["pass", "warn", "fail", "not_computed"]


class FeatureFairnessFacts(Fact, Generic[AnyGroupFacts]):
    """Disaggregated metrics and disparities for one sensitive feature or intersection."""

    feature: str = Field(description="Column name, or names joined by ' × ' for intersections.")
    groups: list[AnyGroupFacts]
    suppressed_groups: int = Field(description="Groups smaller than the privacy threshold, hidden.")
    reference_group: str | None
    disparities: list[DisparityFacts]


class FairnessFacts(Fact, Generic[AnyGroupFacts]):
    """Every sensitive feature's groups and disparities; the status is the worst disparity's."""

    min_group_size: int
    privacy_threshold: int
    bootstrap_samples: int
    features: list[FeatureFairnessFacts[AnyGroupFacts]]
    status: Literal["pass", "warn", "fail", "not_computed"]


class BinaryEvaluation(Fact):
    """A binary classifier measured on labelled rows: overall, and per group when features are named."""

    kind: Literal["binary_classification"] = "binary_classification"
    performance: PerformanceFacts
    fairness: FairnessFacts[BinaryGroupFacts] | NotReported


class MulticlassEvaluation(Fact):
    """A multiclass classifier measured on labelled rows."""

    kind: Literal["multiclass_classification"] = "multiclass_classification"
    performance: MulticlassPerformanceFacts
    fairness: FairnessFacts[MulticlassGroupFacts] | NotReported


class ImageExample(Fact):
    """One evaluation image shown on the card, with what the model made of it."""

    row: int = Field(description="The image's row in the evaluation file (0-based, after the header).")
    label: str
    predicted: str
    confidence: float | None = Field(
        description="The probability the model gave its predicted class; null when only its labels are known."
    )
    pixels: list[float] = Field(description="The image's values, row by row (channels within a pixel), as stored.")
    occlusion: list[float] | None = Field(
        default=None,
        description="Its occlusion map, row by row: how much hiding the pixels around each one lowers the "
        "probability of the predicted class (null when no map was computed).",
    )


class OcclusionFacts(Fact):
    """How the example images' occlusion maps were computed (captum's `Occlusion`)."""

    window: int = Field(description="Side of the square of pixels hidden at a time.")
    stride: int = Field(description="Pixels between two positions of the window.")
    baseline: float = Field(description="The value hidden pixels are set to (black).")


class ImageExamplesFacts(Fact):
    """A seeded sample of evaluation images per class, some the model classified right and some wrong."""

    height: int
    width: int
    channels: int
    pixel_range: tuple[float, float] = Field(description="The values of black and of full intensity.")
    per_class: int = Field(description="At most this many right and this many wrong images per class.")
    seed: int
    examples: list[ImageExample]
    occlusion: OcclusionFacts | NotReported = Field(
        default_factory=lambda: NotReported(not_reported="not measured: the model was not run in the build"),
        description="How the occlusion maps of the examples were computed, or why there are none.",
    )


class ImageClassificationEvaluation(MulticlassEvaluation):
    """An image classifier measured on labelled images: a multiclass classifier whose inputs are
    pixels, with example images the card shows."""

    kind: Literal["image_classification"] = "image_classification"  # type: ignore[assignment]
    images: ImageExamplesFacts


class RegressionEvaluation(Fact):
    """A regression model measured on labelled rows."""

    kind: Literal["regression"] = "regression"
    performance: RegressionPerformanceFacts
    fairness: FairnessFacts[RegressionGroupFacts] | NotReported


LabelledEvaluation = BinaryEvaluation | MulticlassEvaluation | ImageClassificationEvaluation | RegressionEvaluation
"""What a model evaluated on labelled rows (classification or regression) publishes."""
