"""Running a training recipe: seeding, timing, progress, checks on what it returns, checkpointing."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from reporter.datasets import LabelledData
from reporter.errors import InputError, RecipeError
from reporter.facts import ArchitectureFacts, EpochFacts, NotReported, TrainingFacts
from reporter.runners.device import seed_everything
from reporter.runners.metering import JobMeter
from reporter.runners.outcome import RunOutcome
from reporter.runners.recipes import (
    TrainedModel,
    TrainingContext,
    find_recipe,
    recipe_location,
    validate_hyperparameters,
)
from reporter.runners.returned import check_trained_model
from reporter.spec import MULTICLASS_TASKS, LoadedSpec


def run_training(
    loaded: LoadedSpec,
    *,
    train: LabelledData,
    evaluation: LabelledData,
    device: str,
    checkpoint_dir: Path,
    resolve: Callable[[Any, str], Path],
    on_epoch: Callable[[EpochFacts], None],
    on_step: Callable[[int, int, int], None],
    meter: JobMeter | None = None,
) -> RunOutcome:
    """Train with the spec's recipe, save a safetensors checkpoint, and score the evaluation rows.
    ``meter`` meters the recipe as the training phase; the evaluation phase begins where it returns.

    Raises:
        RecipeError: the recipe raised, returned the wrong type, diverged or gave bad scores.
    """
    source = loaded.spec.source.train
    assert source is not None
    recipe = find_recipe(loaded)
    hyperparameters = validate_hyperparameters(source)
    seed_everything(source.seed)
    context = TrainingContext(
        spec_path=loaded.path,
        task=loaded.spec.labelled_evaluation.task if loaded.spec.labelled_evaluation else "binary_classification",
        train=train,
        hyperparameters=hyperparameters,
        seed=source.seed,
        device=device,
        resolve=resolve,
        on_epoch=meter.after_first_epoch(on_epoch) if meter else on_epoch,
        on_step=on_step,
        label_names=_label_names(loaded, train),
    )
    if meter:
        meter.begin("training")
    started = time.perf_counter()
    trained = _run_recipe(loaded, recipe, context)
    wall = time.perf_counter() - started
    if meter:
        meter.begin("evaluation")
    trained_rows = check_trained_model(
        trained, training_rows=len(train.labels), where=f"{loaded.path}: source.train.recipe: {recipe_location(loaded)}"
    )
    if not context.history:
        raise RecipeError(
            f"{loaded.path}: recipe {source.recipe!r} reported no epochs. "
            "Fix: call context.report_epoch(...) after each epoch"
        )
    scores = checked_scores(
        trained.predict_scores, evaluation, task=context.task, where=f"{loaded.path}: source.train.recipe"
    )

    checkpoint = publish(checkpoint_dir, save=trained.save, module=trained.module, checkpoint=trained.checkpoint)
    return _outcome(
        loaded,
        trained,
        context,
        hyperparameters,
        checkpoint=checkpoint,
        wall=wall,
        scores=scores,
        trained_rows=trained_rows,
    )


def _outcome(
    loaded: LoadedSpec,
    trained: TrainedModel,
    context: TrainingContext,
    hyperparameters: Any,
    *,
    checkpoint: Path,
    wall: float,
    scores: np.ndarray,
    trained_rows: np.ndarray,
) -> RunOutcome:
    """Gather what the recipe returned and what the build measured into the runner's one result type."""
    source = loaded.spec.source.train
    assert source is not None
    parameters = dict(trained.module.named_parameters())
    every, trainable = trained.weight_names or (set(parameters), {k for k, p in parameters.items() if p.requires_grad})
    params_dump = hyperparameters.model_dump(mode="json") if isinstance(hyperparameters, BaseModel) else hyperparameters
    return RunOutcome(
        weight_files=[checkpoint],
        parameter_names=every,
        trainable_names=trainable,
        architecture=ArchitectureFacts(
            source="train",
            recipe=source.recipe,
            module_class=type(trained.module).__name__,
            config=trained.architecture,
            layers=trained.layers,
        ),
        training=TrainingFacts(
            hyperparameters={k: plain_hyperparameter(v) for k, v in sorted(params_dump.items())},
            optimizer=trained.optimizer,
            schedule=trained.schedule,
            seed=source.seed,
            train_rows=trained.train_rows,
            validation_rows=trained.validation_rows,
            history=context.history,
            train_figures=trained.train_figures,
            wall_seconds=round(wall, 3),
            device=context.device,
        ),
        evaluation_scores=scores,
        inference=NotReported(not_reported="the model was trained in the build and scored by its recipe"),
        score_rows=trained.predict_scores,
        attribute_rows=trained.attribute_rows,
        trained_rows=trained_rows,
        guarantee=trained.guarantee,
    )


def _run_recipe(loaded: LoadedSpec, recipe: Callable[[TrainingContext], Any], context: TrainingContext) -> TrainedModel:
    """Call the recipe; whatever it raises or returns that is not a TrainedModel is a located error."""
    import torch

    source = loaded.spec.source.train
    assert source is not None
    try:
        trained = recipe(context)
    except InputError:  # a located error of its own (a bad base-model folder, a refused value)
        raise
    except Exception as exc:  # user recipes may fail in any way; name the recipe and the error
        raise RecipeError(
            f"{loaded.path}: source.train.recipe: {source.recipe!r} raised {type(exc).__name__}: {exc}. "
            "Fix: correct the recipe or its hyperparameters"
        ) from exc
    if not isinstance(trained, TrainedModel) or not isinstance(trained.module, torch.nn.Module):
        raise RecipeError(
            f"{loaded.path}: source.train.recipe: {source.recipe!r} returned {type(trained).__name__}, "
            "not a TrainedModel "
            "holding a torch.nn.Module. Fix: return reporter.runners.recipes.TrainedModel(...)"
        )
    return trained


def _label_names(loaded: LoadedSpec, train: LabelledData) -> list[str]:
    """A name per label code: the classes (multiclass), or 'not P' and P for the first positive label P."""
    evaluation = loaded.spec.labelled_evaluation
    if evaluation is None or evaluation.task == "regression":
        return []
    if evaluation.task in MULTICLASS_TASKS:
        return list(train.classes or [])
    positive = (evaluation.positive_label or ["positive"])[0]
    return [f"not {positive}", positive]


def publish(
    folder: Path, *, save: Callable[[Path], None] | None, module: Any, checkpoint: str = "model.safetensors"
) -> Path:
    """Write a trained model into ``folder`` as an artifact others can load, readable by everyone
    (0644): through ``save`` (a transformers `save_pretrained`, a Keras `save`) into the file
    ``checkpoint``, else ``module``'s state dict as `model.safetensors`.

    Raises:
        RecipeError: ``save`` wrote no ``checkpoint``.
    """
    from safetensors.torch import save_file

    if folder.exists():
        shutil.rmtree(folder)  # files of an earlier run must not mix with this one's
    folder.mkdir(parents=True)
    path = folder / checkpoint
    if save is not None:
        save(folder)
        if not path.is_file():
            raise RecipeError(
                f"the recipe's save({folder}) wrote no {checkpoint}. Fix: save the weights as {checkpoint}"
            )
    else:
        save_file({k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}, str(path))
    for written in folder.rglob("*"):
        written.chmod(0o755 if written.is_dir() else 0o644)
    return path


def plain_hyperparameter(value: Any) -> Any:
    """Hyperparameter values as the facts schema stores them (nested mappings become text)."""
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in sorted(value.items()))
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):
        return [_written(item) for item in value]
    return value


def _written(item: Any) -> str:
    """A list item of a hyperparameter as text: a Keras layer `{Dense: {units: 10}}` as `Dense(units=10)`."""
    if isinstance(item, dict) and len(item) == 1:
        ((name, arguments),) = item.items()
        if isinstance(arguments, dict):
            return f"{name}({', '.join(f'{k}={v}' for k, v in arguments.items())})"
    return str(item)


def checked_scores(
    predict_scores: Callable[[Any], Any], evaluation: LabelledData, *, task: str, where: str
) -> np.ndarray:
    """User code's predictions for the evaluation rows (a recipe's, or a loaded module's), checked
    for the task: probabilities of the positive class (binary), a probability per class summing to
    1 (multiclass), finite values (regression). ``where`` is the spec and field that named the code.

    Raises:
        RecipeError: the predictions have the wrong shape or values.
    """
    try:
        scores = np.asarray(predict_scores(evaluation.features), dtype=np.float64)
    except Exception as exc:  # user code may fail in any way; name it and the error
        raise RecipeError(
            f"{where}: predict_scores raised {type(exc).__name__}: {exc}. Fix: correct the scoring code"
        ) from None
    rows = evaluation.labels.shape[0]
    recipe = where
    if task in MULTICLASS_TASKS:
        assert evaluation.classes is not None
        expected = (rows, len(evaluation.classes))
        if scores.shape != expected:
            raise RecipeError(
                f"{recipe}: predict_scores returned an array of shape {scores.shape} for {rows} rows and "
                f"{expected[1]} classes. Fix: return one probability per row and class, shape {expected}"
            )
        bad = int(
            (
                ~np.isfinite(scores).all(axis=1) | (scores < 0).any(axis=1) | (np.abs(scores.sum(axis=1) - 1) > 1e-4)
            ).sum()
        )
        if bad:
            raise RecipeError(
                f"{recipe}: predict_scores returned {bad} row(s) whose class probabilities are not finite, "
                "negative or do not sum to 1. Fix: return a softmax over the classes"
            )
        return scores
    scores = scores.reshape(-1)
    if scores.shape[0] != rows:
        raise RecipeError(
            f"{recipe}: predict_scores returned {scores.shape[0]} scores for {rows} rows. Fix: return one score per row"
        )
    if task == "regression":
        bad = int((~np.isfinite(scores)).sum())
        if bad:
            raise RecipeError(
                f"{recipe}: predict_scores returned {bad} prediction(s) that are NaN or infinite. "
                "Fix: return one finite predicted value per row"
            )
        return scores
    bad = int((~np.isfinite(scores) | (scores < 0) | (scores > 1)).sum())
    if bad:
        raise RecipeError(
            f"{recipe}: predict_scores returned {bad} score(s) that are NaN, infinite "
            "or outside [0, 1]. Fix: return probabilities of the positive class"
        )
    return scores
