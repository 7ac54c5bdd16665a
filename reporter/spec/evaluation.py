"""The spec's `evaluation:` section: one section per task the model carries, each a member of a
union discriminated on `task` (as the facts' evaluations are on `kind`).

Most models carry one task and write `evaluation:` as a mapping; an encoder evaluated as a
classifier whose sentence embeddings are also probed for bias writes a list of two sections (same
weights, one load, so both belong on one card). Spellings of earlier releases, where the language
model, embedding bias and name probe sections stood at the top of the spec, are moved to their new
place on read, each with a notice naming it (:func:`move_earlier_spellings`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from reporter.entry_points import TASKS, declared, declared_task_type
from reporter.spec.measurements import EmbeddingBias, LanguageModel, NameProbe
from reporter.spec.sections import Distinct, FileRef, SpecModel, TaskSection, spec_error

ROWS_TASKS = (
    "binary_classification",
    "multiclass_classification",
    "image_classification",
    "regression",
    "token_classification",
)
"""The tasks evaluated on labelled rows of the evaluation data; a model carries one at most."""
MULTICLASS_TASKS = ("multiclass_classification", "image_classification")
"""The tasks whose model gives a probability per class (an image classifier is one, on pixels)."""


class ImageLayout(SpecModel):
    """How each row's pixel columns form an image: the features, in order, are its pixels row by
    row (and channel by channel within a pixel), as scikit-learn's digits and MNIST CSVs store them."""

    height: int = Field(ge=1, le=4096, description="Pixels from top to bottom.")
    width: int = Field(ge=1, le=4096, description="Pixels from left to right.")
    channels: Literal[1, 3] = Field(default=1, description="1 (grey levels) or 3 (red, green, blue).")
    pixel_range: tuple[float, float] = Field(
        default=(0.0, 255.0), description="The values of black and of full intensity, for drawing the images."
    )


class Evaluation(TaskSection):
    """The section of the tasks that evaluate labelled rows (binary, multiclass, regression, token
    classification): which columns hold the label and the inputs, and for which groups."""

    task: Literal[
        "binary_classification",
        "multiclass_classification",
        "image_classification",
        "regression",
        "token_classification",
    ] = Field(default="binary_classification", description="Which task of labelled rows the model is evaluated for.")
    label: str = Field(
        min_length=1,
        description="Column holding the true label (a number for regression; for token classification, each "
        "sentence's IOB2 tags separated by spaces, one per token).",
    )
    tokens_column: str | None = Field(
        default=None,
        description="Token classification: the column holding each sentence's tokens, separated by spaces.",
    )
    positive_label: Annotated[list[str], Distinct] | None = Field(
        default=None, min_length=1, description="Label values that count as the positive class (classification)."
    )
    features: Annotated[list[str], Distinct] | None = Field(
        default=None, description="Feature columns; default: every column but the label."
    )
    sensitive_features: Annotated[list[str], Distinct] = Field(
        default_factory=list, description="Columns of the groups the fairness report compares (e.g. sex, race)."
    )
    min_group_size: int = Field(default=30, ge=1, description="Smaller groups are shown as insufficient data.")
    privacy_threshold: int = Field(default=10, ge=1, description="Smaller groups are suppressed from every page.")
    threshold: float = Field(default=0.5, gt=0, lt=1, description="Decision threshold on scores.")
    scores_column: str | None = Field(
        default=None,
        description="For a model evaluated elsewhere: the evaluation-data column of positive-class probabilities.",
    )
    predictions_column: str | None = Field(
        default=None,
        description="For a model evaluated elsewhere that gives labels only: the evaluation-data column of "
        "predicted labels, in the label column's values (score-based metrics are then not reported); "
        "for regression, the column of predicted values.",
    )
    predictions_file: FileRef | None = Field(
        default=None,
        description="A CSV file (with a header) holding `scores_column` or `predictions_column` instead of the "
        "evaluation data: one row per row of the evaluation file, in the same order.",
    )
    reference_groups: dict[str, str] = Field(
        default_factory=dict,
        description="Reference group per feature for ratios (default: the largest group).",
    )
    text_column: str | None = Field(
        default=None,
        description="For a loaded text classifier: the column holding its input text (default: each row's "
        "features written as text, as the `text_classifier` recipe does).",
    )
    model_labels: dict[str, str] = Field(
        default_factory=dict,
        description="For a loaded classifier: its label names (`config.json` `id2label`) mapped to the label "
        "column's values, where they differ.",
    )
    ratio_threshold: float = Field(
        default=0.8, gt=0, le=1, description="Disparity ratios below this fail (four-fifths rule)."
    )
    difference_threshold: float = Field(default=0.1, gt=0, le=1, description="Disparity differences above this fail.")
    name_probe: NameProbe | None = Field(
        default=None, description="Token classification: the name-template probe of NER bias."
    )
    image: ImageLayout | None = Field(
        default=None, description="Image classification: how each row's pixel columns (the features) form an image."
    )
    fairness_not_applicable: str | None = Field(
        default=None,
        min_length=1,
        description="Why no fairness claim is made, when the data describes no people (handwritten digits, say): "
        "the card says so instead of showing an empty fairness page. Not with `sensitive_features`.",
    )

    @field_validator("positive_label", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, (str, int, float, bool)) else value


SECTIONS_BY_TASK: dict[str, type[SpecModel]] = {
    **dict.fromkeys(ROWS_TASKS, Evaluation),
    "sentence_embedding": EmbeddingBias,
    "text_generation": LanguageModel,
}
"""The spec section of each built-in task, by the name `task:` gives it."""

UNKNOWN_TASK_FIX = f"write `task:` as one of {', '.join(SECTIONS_BY_TASK)} (default: binary_classification)"
PLUGIN_TAG = "plugin"
"""The union's tag for a section whose task is not built in: a task another package adds."""


def _task_of(section: Any) -> str | None:
    """The union's tag: the section's `task` (binary classification when a mapping leaves it out),
    or the plug-in member for any other task name."""
    task = section.get("task", "binary_classification") if isinstance(section, dict) else getattr(section, "task", None)
    if not isinstance(task, str):
        return None
    return task if task in SECTIONS_BY_TASK else PLUGIN_TAG


def _plugin_section(value: Any, handler: ValidatorFunctionWrapHandler) -> TaskSection:
    """The section of a task another package adds, validated by the section model its task
    declares; its errors are located under the task's name, so the problem report can name the
    section's fields."""
    if isinstance(value, TaskSection):
        return value
    name = str(value.get("task"))
    section = added_task_section(name)
    if section is None:
        added = [other for other in declared(TASKS) if added_task_section(other) is not None]
        fix = UNKNOWN_TASK_FIX + (f", or one that an installed package adds: {', '.join(added)}" if added else "")
        raise PydanticCustomError("spec_rule", "`task:` names no task this build knows", {"fix": fix, "field": "task"})
    try:
        validated: TaskSection = section.model_validate(value)
    except ValidationError as exc:
        raise ValidationError.from_exception_data(exc.title, _under(name, exc)) from None
    return validated


def added_task_section(name: str) -> type[TaskSection] | None:
    """The section model of the task another package declares under ``name`` (never a built-in
    task's: those are the union's own members)."""
    if name in SECTIONS_BY_TASK:
        return None
    section: type[TaskSection] | None = declared_task_type(name, "section", TaskSection)
    return section


def _under(task: str, exc: ValidationError) -> list[InitErrorDetails]:
    """The section's errors with the task's name before their location."""
    return [
        InitErrorDetails(
            type=PydanticCustomError(error["type"], error["msg"], error.get("ctx")),
            loc=(task, *error["loc"]),
            input=error["input"],
        )
        for error in exc.errors()
    ]


EvaluationSection = Annotated[
    Annotated[Evaluation, Tag("binary_classification")]
    | Annotated[Evaluation, Tag("multiclass_classification")]
    | Annotated[Evaluation, Tag("image_classification")]
    | Annotated[Evaluation, Tag("regression")]
    | Annotated[Evaluation, Tag("token_classification")]
    | Annotated[EmbeddingBias, Tag("sentence_embedding")]
    | Annotated[LanguageModel, Tag("text_generation")]
    | Annotated[TaskSection, WrapValidator(_plugin_section), Tag(PLUGIN_TAG)],
    Discriminator(
        _task_of,
        custom_error_type="spec_rule",
        custom_error_message="`task:` names no task this build knows",
        custom_error_context={"fix": UNKNOWN_TASK_FIX, "field": "task"},
    ),
]
"""One task's evaluation section, chosen by its `task:`: a built-in task's, or the section a task
from another package declares."""


def compatible_tasks(sections: list[Any]) -> list[Any]:
    """Refuse sections that cannot share one model: a task twice, two tasks of labelled rows, a
    language model beside another built-in task, or embeddings probed beside a token classifier
    (whose rows are words, not sentences). Tasks other packages add may sit beside any."""
    tasks = [section.task for section in sections]
    twice = sorted({task for task in tasks if tasks.count(task) > 1})
    rows = [task for task in tasks if task in ROWS_TASKS]
    if twice:
        raise spec_error(f"task {twice[0]} is evaluated twice", fix="keep one section per task under `evaluation:`")
    if len(rows) > 1:
        raise spec_error(
            f"a model carries one task of labelled rows, and {' and '.join(rows)} are given",
            fix="keep the section of the task the model was trained for",
        )
    if "text_generation" in tasks and sum(task in SECTIONS_BY_TASK for task in tasks) > 1:
        raise spec_error(
            "a language model is evaluated by its `task: text_generation` section without the other built-in "
            "tasks' sections, which are for classifiers, regressors and encoders",
            fix="remove the other built-in tasks' sections under `evaluation:`",
        )
    if {"sentence_embedding", "token_classification"} <= set(tasks):
        raise spec_error(
            "embedding bias is measured on a sentence encoder, not on a token classifier",
            fix="remove the `task: sentence_embedding` section",
        )
    return sections


def one_or_many(value: Any) -> Any:
    """`evaluation:` written as one mapping is a list of one section; absent or null, of none."""
    if value is None:
        return []
    return [value] if isinstance(value, dict) else value


@dataclass(frozen=True)
class MovedSpelling:
    """A section an earlier release read at the top of the spec, and where it is now."""

    old: str
    new: str


EARLIER_SECTIONS = {"language_model": "text_generation", "embedding_bias": "sentence_embedding"}
"""Top-level sections of earlier releases that are now the evaluation section of a task."""

MOVED_TO = {
    "language_model": "`evaluation:` with `task: text_generation` (its fields unchanged)",
    "embedding_bias": "`evaluation:` with `task: sentence_embedding` (its fields unchanged)",
    "name_probe": "`evaluation.name_probe:` of the `task: token_classification` section",
}
"""Where each moved section goes, as the notice and the fix say it."""


def move_earlier_spellings(data: dict[str, Any]) -> tuple[dict[str, Any], list[MovedSpelling]]:
    """The spec's raw mapping with the top-level sections of earlier releases moved under
    `evaluation:`, and what was moved (MkDocs' `Deprecated(moved_to=…)` pattern: the old
    spelling still builds, and says where the new one is). A name probe with no section of
    labelled rows to join stays where it is, and validation reports it with the fix."""
    moved: list[MovedSpelling] = []
    data = dict(data)
    given = one_or_many(data.get("evaluation"))
    if not isinstance(given, list):  # neither a section nor a list of them: validation says so
        return data, moved
    sections = [dict(s) if isinstance(s, dict) else s for s in given]
    for old, task in EARLIER_SECTIONS.items():
        if isinstance(data.get(old), dict):
            sections.append({"task": task, **data.pop(old)})
            moved.append(MovedSpelling(old, MOVED_TO[old]))
    rows = [s for s in sections if isinstance(s, dict) and s.get("task", "binary_classification") in ROWS_TASKS]
    if "name_probe" in data and len(rows) == 1 and "name_probe" not in rows[0]:
        rows[0]["name_probe"] = data.pop("name_probe")
        moved.append(MovedSpelling("name_probe", MOVED_TO["name_probe"]))
    if moved:
        data["evaluation"] = sections[0] if len(sections) == 1 else sections
    return data, moved
