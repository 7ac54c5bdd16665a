"""What a training recipe receives and returns, and how a spec's recipe name is found.

Built-in recipes and user recipes (`module:function` in the model folder) share one interface, so
the pipeline treats them alike. A user recipe is project code: it runs with the build's rights,
like any code a reviewer merges, and is reviewed the same way.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from reporter.errors import Problem, RecipeError
from reporter.facts import DifferentialPrivacyFacts, EpochFacts, LayerFacts
from reporter.runners.hyperparameters import (
    KerasHyperparameters,
    TabularMlpHyperparameters,
    TextClassifierHyperparameters,
    TokenClassifierHyperparameters,
)
from reporter.spec import LoadedSpec, TrainSource, validation_problems, yaml_line, yaml_tree

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import torch

    from reporter.datasets import LabelledData

# `token_classifier` is called by `reporter.runners.train_tagger` with tagged sentences rather than a context;
# it is listed here so its name and hyperparameters are checked like the others'.
BUILTIN_RECIPES: dict[str, tuple[str, type[BaseModel]]] = {
    "tabular_mlp": ("reporter.runners.tabular_mlp:train", TabularMlpHyperparameters),
    "text_classifier": ("reporter.runners.text_classifier:train", TextClassifierHyperparameters),
    "token_classifier": ("reporter.runners.token_classifier:train", TokenClassifierHyperparameters),
    "keras": ("reporter.runners.keras_training:train", KerasHyperparameters),
}
RECIPE_TASKS = {
    "tabular_mlp": ("binary_classification", "multiclass_classification", "regression"),
    "text_classifier": ("binary_classification",),
    "token_classifier": ("token_classification",),
    "keras": ("binary_classification", "multiclass_classification", "image_classification", "regression"),
}


@dataclass
class TrainingContext:
    """Everything a recipe may use. Evaluation data is deliberately absent: recipes never see it."""

    spec_path: Path
    task: str  # the spec's evaluation task: labels are 0/1 (binary), class codes (multiclass), float64 (regression)
    train: LabelledData
    hyperparameters: Any
    seed: int
    device: str
    resolve: Callable[[Any, str], Path]
    on_epoch: Callable[[EpochFacts], None]
    on_step: Callable[[int, int, int], None] = field(default=lambda epoch, done, total: None)
    """(epoch, steps done, steps in the epoch): shown every few seconds (see `report_step`)."""
    label_names: list[str] = field(default_factory=list)
    """Classification: a name per label code (binary: the negative label, then the positive one), for
    models that publish their labels (a transformers `id2label`)."""
    history: list[EpochFacts] = field(default_factory=list)

    def report_epoch(self, record: EpochFacts) -> None:
        """Record one epoch's figures and show progress; stop a run whose loss diverged."""
        check_epoch(self.spec_path, record)
        self.history.append(record)
        self.on_epoch(record)

    def report_step(self, done: int, total: int) -> None:
        """Show how far the current epoch is (``done`` of ``total`` optimiser steps); cheap enough
        to call after every step, the lines are throttled to one every few seconds."""
        self.on_step(len(self.history) + 1, done, total)


def check_epoch(spec_path: Path, record: EpochFacts) -> None:
    """Stop a run whose loss diverged, rather than publish figures of a broken model.

    Raises:
        RecipeError: the training or validation loss is NaN or infinite.
    """
    if not all(math.isfinite(v) for v in (record.train_loss, record.validation_loss)):
        raise RecipeError(
            f"{spec_path}: source.train: training diverged at epoch {record.epoch} "
            f"(loss {record.train_loss}). Fix: lower the learning rate in source.train.hyperparameters, "
            "or remove infinite or extreme values from the training data"
        )


@dataclass
class TrainedModel:
    """What a recipe returns: the network, how to score rows with it, and how it was trained.

    ``predict_scores`` returns positive-class probabilities (binary classification), an array of
    class probabilities of shape (rows, classes) (multiclass, classes in ``train.classes`` order),
    or predicted values (regression).
    """

    module: torch.nn.Module
    predict_scores: Callable[[pd.DataFrame], np.ndarray]
    architecture: dict[str, Any]
    optimizer: str
    schedule: str
    validation_rows: int
    train_rows: int
    train_figures: str
    save: Callable[[Path], None] | None = None
    """Writes the model into a folder as an artifact others can load (a transformers model's
    `save_pretrained`), with its weights in ``checkpoint``; None: the state dict is saved."""
    checkpoint: str = "model.safetensors"
    """The file ``save`` writes the weights to, which the weight facts describe (safetensors, or a
    Keras model's `model.keras`)."""
    layers: list[LayerFacts] = field(default_factory=list)
    """The network layer by layer, for networks of named layers (Keras); empty otherwise."""
    weight_names: tuple[set[str], set[str]] | None = None
    """The names of every weight and of the trainable ones as the checkpoint names them, when they
    are not the module's parameter names (a Keras file's `<layer>/<variable>`)."""
    guarantee: DifferentialPrivacyFacts | None = None
    """The differential privacy guarantee of the training, when it has one."""
    trained_rows: np.ndarray | None = None
    """Positions (in ``context.train``) of the rows the weights were fitted on, validation rows
    excluded: the members a membership-inference audit tests. None: every training row."""
    attribute_rows: Callable[[pd.DataFrame], Any] | None = None
    """Token attributions for rows (a text model's `reporter.runners.attributions.text_attributor`);
    None: the model reads no text."""


def validate_hyperparameters(train: TrainSource) -> Any:
    """Validate a built-in recipe's hyperparameters; user recipes get the raw mapping."""
    if train.recipe not in BUILTIN_RECIPES:
        return dict(train.hyperparameters)
    return BUILTIN_RECIPES[train.recipe][1].model_validate(train.hyperparameters)


def recipe_problems(spec_path: Path, train: TrainSource, *, task: str | None = None) -> list[Problem]:
    """Problems with the recipe a spec names (and the task it must learn), found without running
    any user code."""
    if ":" not in train.recipe:
        if train.recipe not in BUILTIN_RECIPES:
            return [
                Problem(
                    file=spec_path,
                    field="source.train.recipe",
                    message=f"unknown built-in recipe {train.recipe!r}",
                    fix=f"use one of {', '.join(sorted(BUILTIN_RECIPES))} or `module:function`",
                )
            ]
        if task is not None and task not in RECIPE_TASKS[train.recipe]:
            able = ", ".join(r for r, tasks in sorted(RECIPE_TASKS.items()) if task in tasks)
            return [
                Problem(
                    file=spec_path,
                    field="source.train.recipe",
                    line=yaml_line(yaml_tree(spec_path), ("source", "train", "recipe")),
                    message=f"the built-in recipe {train.recipe!r} does not learn {task}",
                    fix=f"use a recipe that does ({able}) or your own `module:function`",
                )
            ]
        try:
            validate_hyperparameters(train)
        except ValidationError as exc:
            return validation_problems(
                spec_path,
                yaml_tree(spec_path),
                exc,
                model=BUILTIN_RECIPES[train.recipe][1],
                prefix=("source", "train", "hyperparameters"),
            )
        return []
    module_name = train.recipe.split(":")[0]
    if not (spec_path.parent / f"{module_name}.py").is_file():
        return [
            Problem(
                file=spec_path,
                field="source.train.recipe",
                message=f"recipe module {module_name}.py is not in {spec_path.parent}",
                fix="put the recipe file in the model folder or correct the name",
            )
        ]
    return []


@dataclass
class LoadedModule:
    """What a `source.load.module` builder returns for a safetensors checkpoint of your own
    architecture: the network (the build then loads the weights into it, strictly) and how to score
    rows with it, as a recipe's ``predict_scores`` does (inputs on the module's device)."""

    module: torch.nn.Module
    predict_scores: Callable[[pd.DataFrame], np.ndarray]
    architecture: dict[str, Any] = field(default_factory=dict)


def find_recipe(loaded: LoadedSpec) -> Callable[[TrainingContext], TrainedModel]:
    """Import the recipe function a spec names (user recipes from the model folder only)."""
    train = loaded.spec.source.train
    assert train is not None
    if ":" not in train.recipe:
        module_name, function_name = BUILTIN_RECIPES[train.recipe][0].split(":")
        return getattr(importlib.import_module(module_name), function_name)
    return import_user_function(loaded, train.recipe, field="source.train.recipe", signature="(context)")


def recipe_location(loaded: LoadedSpec) -> str:
    """Where the spec's recipe lives, for messages: `recipe.py, function train` (or the built-in's name)."""
    train = loaded.spec.source.train
    assert train is not None
    if ":" not in train.recipe:
        return f"the built-in recipe {train.recipe!r}"
    module, function = train.recipe.split(":", 1)
    return f"{loaded.folder / (module.replace('.', '/') + '.py')}, function {function}"


def import_user_function(loaded: LoadedSpec, reference: str, *, field: str, signature: str) -> Callable[..., Any]:
    """The function ``module:function`` of a Python file in the model folder (trusted code, like a
    recipe: it runs with the build's rights).

    Raises:
        RecipeError: the file cannot be imported or defines no such function.
    """
    file_stem, function_name = reference.split(":")
    path = loaded.folder / f"{file_stem}.py"
    import_spec = importlib.util.spec_from_file_location(f"reporter_user_{loaded.slug}_{file_stem}", path)
    if import_spec is None or import_spec.loader is None:
        raise RecipeError(f"{loaded.path}: {field}: cannot import {path}. Fix: check the file name")
    module = importlib.util.module_from_spec(import_spec)
    try:
        import_spec.loader.exec_module(module)
    except Exception as exc:  # a user's module may fail in any way; report it, don't crash
        raise RecipeError(
            f"{loaded.path}: {field}: importing {path} failed: {type(exc).__name__}: {exc}. "
            "Fix: make the module importable"
        ) from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise RecipeError(
            f"{loaded.path}: {field}: {reference!r} names no function "
            f"{function_name!r}. Fix: define `def {function_name}{signature}: ...` in the module"
        )
    return function
