"""Rules that span sections, each reported at the field where it is fixed: what a task needs of
the data and of the model's format, and which fields only some models may have."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import yaml

from reporter.entry_points import TASKS, declared
from reporter.errors import Problem
from reporter.formats import format_named, registered_formats
from reporter.formats.declaration import CAPABILITY_TEXT, Capability
from reporter.spec.evaluation import Evaluation, added_task_section
from reporter.spec.model import ModelSpec
from reporter.spec.sections import DataSource, LoadSource, SpecModel
from reporter.spec.yaml_source import yaml_line


class AddedTask(Protocol):
    """What the spec's rules ask of a task another package adds: what its section needs of the model."""

    name: str

    def needs(self, section: Any) -> frozenset[Capability]: ...


Add = Callable[[tuple[str | int, ...], str, str], None]
"""Records a problem at a field (its path), with its message and fix."""


def cross_field_problems(path: Path, root: yaml.Node | None, spec: ModelSpec) -> list[Problem]:
    """Rules that span sections, each reported at the field where it is fixed."""
    problems = []

    def add(field: tuple[str | int, ...], message: str, fix: str) -> None:
        problems.append(
            Problem(file=path, field=".".join(map(str, field)), line=yaml_line(root, field), message=message, fix=fix)
        )

    ids = [d.id for d in spec.data]
    for index, source in enumerate(spec.data):
        if ids.index(source.id) != index:
            add(("data", index, "id"), f"data source id {source.id!r} is used twice", "give each source its own id")
    problems.extend(_shared_file_problems(path, root, spec.data))
    _add_role_problems(spec, add)
    _add_image_file_problems(spec, add)
    if spec.labelled_evaluation is not None:
        at = _at(spec, spec.labelled_evaluation)
        problems.extend(_task_problems(path, root, spec.labelled_evaluation, at=at))
    _add_model_kind_problems(spec, add)
    _add_token_classification_problems(spec, add)
    _add_prediction_problems(spec, add)
    return problems


def _at(spec: ModelSpec, section: SpecModel | None, *rest: str) -> tuple[str | int, ...]:
    """The path of a field of one task's section: under `evaluation`, or `evaluation.N` in a list."""
    written = tuple(int(p) if p.isdigit() else p for p in spec.section_field(section).split("."))
    return (*written, *rest)


def _given_columns(evaluation: Evaluation | None) -> list[str]:
    """The evaluation fields naming predictions computed elsewhere."""
    return [name for name in ("scores_column", "predictions_column") if evaluation and getattr(evaluation, name)]


def _add_role_problems(spec: ModelSpec, add: Add) -> None:
    """One file per data role, and the roles that evaluation and training need."""
    with_file = [d.role for d in spec.data if d.file is not None]
    for role in ("train", "evaluation"):
        if with_file.count(role) > 1:
            add(
                ("data",),
                f"{with_file.count(role)} data sources with `role: {role}` have a file",
                "give one file per role (merge the files), or drop `file:` from sources only described",
            )
    if spec.labelled_evaluation and "evaluation" not in with_file:
        add(
            ("evaluation",),
            "`evaluation:` needs evaluation data",
            "add a data source with `role: evaluation` and a `file:`",
        )
    if spec.source.train:
        if "train" not in with_file:
            add(
                ("source", "train"),
                "training needs training data",
                "add a data source with `role: train` and a `file:`",
            )
        if spec.labelled_evaluation is None:
            add(
                ("source", "train"),
                "training needs to know the label",
                "add an `evaluation:` section with `label:` and `positive_label:`",
            )


def _add_image_file_problems(spec: ModelSpec, add: Add) -> None:
    """Images in files become pixel rows of an image classifier, whose stated layout says the size
    and channels every image must have; a folder of class subfolders is not a CSV."""
    evaluation = spec.labelled_evaluation
    for index, source in enumerate(spec.data):
        if source.images is None:
            continue
        if evaluation is None or evaluation.task != "image_classification" or evaluation.image is None:
            add(
                ("data", index, "images"),
                "images in files are read as the pixels of an image classifier, whose `image:` layout gives "
                "their size and channels",
                "use `task: image_classification` with `image: {height: …, width: …, channels: …}`, "
                "or remove `images:`",
            )
        elif tuple(evaluation.image.pixel_range) != (0.0, 255.0):
            add(
                (*_at(spec, evaluation), "image", "pixel_range"),
                "images read from files have 8-bit values, 0 to 255",
                "remove `pixel_range:` (the model must take values 0 to 255, or scale them itself)",
            )
        if source.images.path_column is None:
            for name in ("format", "columns_file"):
                if name in source.model_fields_set:
                    add(
                        ("data", index, name),
                        "a folder of class subfolders has no CSV format and no further columns",
                        f"remove `{name}:`, or list the images in a CSV named by `file:` with `images.path_column:`",
                    )


def needed_capabilities(spec: ModelSpec) -> frozenset[Capability]:
    """What the spec's tasks ask of a loaded model: the built-in tasks' needs and those of the
    tasks other packages add."""
    needs = set(_built_in_needs(spec))
    for section, task in _added_tasks(spec):
        needs |= task.needs(section)
    return frozenset(needs)


def _built_in_needs(spec: ModelSpec) -> frozenset[Capability]:
    """What the built-in tasks ask: tag words, score and generate text, embed sentences, or score
    the evaluation rows (unless their predictions were computed elsewhere)."""
    evaluation = spec.labelled_evaluation
    if spec.language_model is not None:
        return frozenset({"language_model"})
    if evaluation is not None and evaluation.task == "token_classification":
        return frozenset({"tag_words"})
    needs: set[Capability] = set()
    if spec.embedding_bias is not None:
        needs.add("embed_text")
    if evaluation is not None and not _given_columns(evaluation):
        needs.add("score_rows")
    return frozenset(needs)


def _added_tasks(spec: ModelSpec) -> list[tuple[SpecModel, AddedTask]]:
    """The sections of tasks other packages add, each with its task (validation found them all);
    the built-in tasks' needs and rules are the ones above."""
    tasks = declared(TASKS)
    return [(section, tasks[section.task]()) for section in spec.evaluation if added_task_section(section.task)]


def _formats_offering(capability: Capability, load: LoadSource) -> str:
    """The formats that can do ``capability``, as a spec would name them."""
    able = [name for name, known in registered_formats().items() if capability in known.offers(module=load.module)]
    return " or ".join(f"`format: {name}`" for name in able)


def _add_model_kind_problems(spec: ModelSpec, add: Add) -> None:
    """What each kind of measurement needs of the model: a format that can run it for the task, or
    predictions made elsewhere."""
    load = spec.source.load
    if load is None:
        _add_trained_kind_problems(spec, add)
        return
    offered = format_named(load.format).offers(module=load.module)
    for section, task in _added_tasks(spec):
        for capability in sorted(task.needs(section) - offered):
            add(
                _at(spec, section, "task"),
                f"task {task.name} needs a model that can {CAPABILITY_TEXT.get(capability, capability)}, "
                f"which a {load.format} model cannot do here",
                f"load the model with {_formats_offering(capability, load) or 'a format that can'} under "
                f"`source.load:`, or remove the `task: {task.name}` section",
            )
    missing = _built_in_needs(spec) - offered
    if "score_rows" in missing:
        add(
            _at(spec, spec.labelled_evaluation),
            f"a {load.format} file holds weights but no way to run them here, so a model loaded from one is "
            "evaluated from predictions computed elsewhere, and none are named",
            "add `scores_column:` (positive-class probabilities) or `predictions_column:` (predicted labels) "
            "naming a column of the evaluation data, name the network's builder in `source.load.module:`, "
            "load a transformers folder instead, or remove the evaluation section",
        )
    if "embed_text" in missing:
        add(
            _at(spec, spec.embedding_bias, "task"),
            f"SEAT embeds sentences with the model, which a {load.format} model cannot do here",
            f"load the encoder with {_formats_offering('embed_text', load)} under `source.load:`, "
            "or remove the `task: sentence_embedding` section",
        )
    if "language_model" in missing:
        add(
            _at(spec, spec.language_model, "task"),
            f"a language model is measured by running it, which the build cannot do for a {load.format} model",
            f"load it with {_formats_offering('language_model', load)} under `source.load:`, "
            "or remove the `task: text_generation` section",
        )
    if "tag_words" in missing:
        add(
            ("source", "load", "format"),
            f"a token classifier is run from a transformers folder; a {load.format} file cannot be run here",
            "save the model with `save_pretrained` and write `format: transformers`",
        )
    _add_language_data_problems(spec, add)


def _add_trained_kind_problems(spec: ModelSpec, add: Add) -> None:
    """A model trained in the build is not loaded, so what only a loaded model can do is refused."""
    if spec.compute.training is not None:
        add(
            ("compute", "training"),
            "the build trains this model and measures its training compute, so none may be declared",
            "remove `compute.training` (it is for a model the build loads)",
        )
    if spec.embedding_bias:
        add(
            _at(spec, spec.embedding_bias, "task"),
            "SEAT embeds sentences with the model, which only a loaded transformers encoder can do here",
            "load the encoder with `source.load: {format: transformers, ...}`, or remove the "
            "`task: sentence_embedding` section",
        )
    if spec.language_model:
        add(
            _at(spec, spec.language_model, "task"),
            "a language model is measured by running it, which the build does for a GGUF file or a "
            "transformers causal-LM folder",
            "load it with `source.load: {format: gguf, ...}` or `{format: transformers, ...}`, or remove "
            "the `task: text_generation` section",
        )
    _add_language_data_problems(spec, add)


def _add_language_data_problems(spec: ModelSpec, add: Add) -> None:
    """A language model's perplexity needs evaluation text."""
    if (
        spec.language_model
        and spec.language_model.perplexity
        and "evaluation" not in [d.role for d in spec.data if d.file is not None]
    ):
        add(
            _at(spec, spec.language_model, "perplexity"),
            "perplexity needs evaluation text",
            "add a data source with `role: evaluation` and a `file:` whose `text_column` holds the documents",
        )


def _add_prediction_problems(spec: ModelSpec, add: Add) -> None:
    """Inputs, labels and predictions the spec may name only for a model loaded from elsewhere."""
    evaluation = spec.labelled_evaluation
    given = _given_columns(evaluation)
    for name in ("text_column", "model_labels"):
        if spec.source.train and evaluation and name in evaluation.model_fields_set:
            add(
                _at(spec, evaluation, name),
                f"`{name}:` describes a loaded text classifier; a recipe decides its own inputs and labels",
                f"remove `{name}:`",
            )
    if spec.source.load and len(given) == 2:
        add(
            _at(spec, evaluation, "predictions_column"),
            "scores and predicted labels are both named; the labels would be ignored",
            "keep only `scores_column:` (labels follow from the scores and `threshold:`)",
        )
    if evaluation and evaluation.predictions_file and not given:
        add(
            _at(spec, evaluation, "predictions_file"),
            "the predictions file is named but not the column to read from it",
            "add `scores_column:` or `predictions_column:` naming its column",
        )
    if evaluation and evaluation.predictions_file and spec.source.train:
        given.append("predictions_file")
    for name in given if spec.source.train else []:
        add(
            _at(spec, evaluation, name),
            "a model trained in the build is scored by the build",
            f"remove `{name}:` (it is for models loaded from elsewhere)",
        )


def _add_token_classification_problems(spec: ModelSpec, add: Add) -> None:
    """A token classifier is trained by the built-in recipe that aligns tags to sub-word tokens."""
    tagging = spec.labelled_evaluation is not None and spec.labelled_evaluation.task == "token_classification"
    if not tagging:
        return
    train = spec.source.train
    if train and ":" in train.recipe:
        add(
            ("source", "train", "recipe"),
            "a token classifier is trained by the built-in recipe, which aligns tags to sub-word tokens",
            "write `recipe: token_classifier`",
        )


def _task_problems(
    path: Path, root: yaml.Node | None, evaluation: Evaluation, *, at: tuple[str | int, ...]
) -> list[Problem]:
    """Fields that belong to one task type only, reported where they are written (or missing)."""

    def problem(field: str, message: str, fix: str) -> Problem:
        loc = (*at, field)
        return Problem(file=path, field=".".join(map(str, loc)), line=yaml_line(root, loc), message=message, fix=fix)

    if evaluation.task != "token_classification" and evaluation.tokens_column is not None:
        return [problem("tokens_column", "only token classification reads a column of tokens", "remove it")]
    if evaluation.task != "token_classification" and evaluation.name_probe is not None:
        return [
            problem(
                "name_probe",
                "the name probe runs a token classifier",
                "set `task: token_classification` in this section, or remove `name_probe:`",
            )
        ]
    shared = _image_and_people_problems(evaluation, problem)
    if shared:
        return shared
    if evaluation.task == "binary_classification":
        if evaluation.positive_label is None:
            return [
                problem(
                    "positive_label",
                    "binary classification needs to know which label values are positive",
                    'add `positive_label:` with the label value(s) of the positive class, e.g. [">50K"]',
                )
            ]
        return []
    reasons = {
        "regression": {
            "positive_label": "regression predicts a number, so no label value is positive",
            "threshold": "regression has no decision threshold",
            "scores_column": "regression has no class probabilities",
        },
        "token_classification": {
            "positive_label": "a token classifier is scored on entities; no label value is positive",
            "threshold": "a token classifier predicts its most probable tag for each token; there is no threshold",
            "scores_column": "a token classifier is run by the build, not scored from a column",
            "predictions_column": "a token classifier is run by the build, not scored from a column",
            "predictions_file": "a token classifier is run by the build, not scored from a file",
            "text_column": "a token classifier reads the tokens of `tokens_column:`",
            "features": "a token classifier reads only the tokens of `tokens_column:`",
        },
        "multiclass_classification": MULTICLASS_REASONS,
        "image_classification": MULTICLASS_REASONS,
    }[evaluation.task]
    problems = [
        problem(
            name,
            message,
            "remove it"
            + (
                " and name the column of predictions in `predictions_column:`"
                if name == "scores_column" and evaluation.task != "token_classification"
                else ""
            ),
        )
        for name, message in reasons.items()
        if name in evaluation.model_fields_set
    ]
    if evaluation.task == "token_classification" and evaluation.tokens_column is None:
        problems.append(
            problem(
                "tokens_column",
                "token classification needs the column of each sentence's tokens",
                "add `tokens_column:` naming it (tokens separated by spaces; `label:` names the IOB2 tags)",
            )
        )
    return problems


MULTICLASS_REASONS = {
    "positive_label": "every class of a multiclass model is reported on its own; none is the positive one",
    "threshold": "a multiclass model predicts its most probable class; there is no threshold",
    "scores_column": "a multiclass model has one probability per class, which one column cannot hold",
}


def _image_and_people_problems(evaluation: Evaluation, problem: Callable[[str, str, str], Problem]) -> list[Problem]:
    """An image classifier needs its image layout, which no other task reads; a statement that the
    data describes no people cannot stand beside sensitive features."""
    image = evaluation.task == "image_classification"
    problems = []
    if image and evaluation.image is None:
        problems.append(
            problem(
                "image",
                "an image classifier's features are pixels, and the build must know the image they form",
                "add `image: {height: 8, width: 8, channels: 1, pixel_range: [0, 16]}` with your images' sizes",
            )
        )
    if not image and evaluation.image is not None:
        problems.append(problem("image", "only image classification reads pixels as images", "remove it"))
    if image and evaluation.image and evaluation.features is not None:
        layout = evaluation.image
        if len(evaluation.features) != layout.height * layout.width * layout.channels:
            problems.append(
                problem(
                    "features",
                    f"{len(evaluation.features)} feature columns cannot be {layout.height}×{layout.width} images "
                    f"of {layout.channels} channel(s)",
                    "list every pixel column, row by row, or correct `image:`",
                )
            )
    if evaluation.fairness_not_applicable is not None and evaluation.sensitive_features:
        problems.append(
            problem(
                "fairness_not_applicable",
                "the section names sensitive features of people and says the data describes none",
                "remove `fairness_not_applicable:` or `sensitive_features:`",
            )
        )
    return problems


def _shared_file_problems(path: Path, root: yaml.Node | None, sources: list[DataSource]) -> list[Problem]:
    """Training and evaluation read from one file only through the same split (no shared rows)."""
    by_file: dict[tuple[str | None, str], list[int]] = {}
    for index, source in enumerate(sources):
        if source.file is not None:
            by_file.setdefault((source.file.package, source.file.path), []).append(index)
    problems = []
    for indices in by_file.values():
        roles = {sources[i].role for i in indices}
        splits = {sources[i].split for i in indices}
        if roles == {"train", "evaluation"} and (None in splits or len(splits) > 1):
            loc = ("data", indices[-1], "split")
            problems.append(
                Problem(
                    file=path,
                    field=".".join(map(str, loc)),
                    line=yaml_line(root, loc),
                    message="training and evaluation read the same file without the same `split:`, "
                    "so the evaluation rows would include training rows",
                    fix="give both sources the same `split: {evaluation_fraction: 0.3, seed: 0}`",
                )
            )
    return problems
