"""Built-in recipe `keras`: a Keras 3 model, written layer by layer in the spec, trained with
`fit` on the PyTorch backend and published as a `.keras` file.

The seed and the thread count are fixed (`keras.utils.set_random_seed`, `torch.set_num_threads`),
so two builds with the same inputs give bit-identical weights and the same file. A Normalization
layer without statistics learns them from the training rows (Keras' `adapt`) before training, so
the published file carries its own preprocessing. The validation rows are a seeded share of the
training rows, held out of `fit`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reporter.errors import RecipeError
from reporter.facts import EpochFacts
from reporter.runners.hyperparameters import KerasHyperparameters
from reporter.runners.keras_model import (
    REFUSED_LAYERS,
    input_shape,
    keras_on_torch,
    layer_table,
    predict,
    weight_names,
    write_reproducibly,
)
from reporter.runners.recipes import TrainedModel, TrainingContext
from reporter.runners.shaped_inputs import model_inputs

DEFAULT_LOSS = {
    "multiclass_classification": "sparse_categorical_crossentropy",
    "image_classification": "sparse_categorical_crossentropy",
    "binary_classification": "binary_crossentropy",
    "regression": "mean_squared_error",
}
CHECKPOINT = "model.keras"
ONNX_FILE = "model.onnx"


def train(context: TrainingContext) -> TrainedModel:
    """Build the spec's layers, train them and return the model, its layers and its history."""
    import torch

    keras = keras_on_torch()
    hp: KerasHyperparameters = context.hyperparameters
    where = f"{context.spec_path}: source.train.hyperparameters"
    shape = tuple(hp.input_shape or (context.train.features.shape[1],))
    inputs = model_inputs(context.train.features, shape, where=where)
    labels = context.train.labels
    order = np.random.default_rng(context.seed).permutation(len(labels))
    held_out = max(1, round(len(labels) * hp.validation_fraction))
    validation, fitted = np.sort(order[:held_out]), np.sort(order[held_out:])
    threads = torch.get_num_threads()
    torch.set_num_threads(hp.threads)
    try:
        with keras.device(context.device):  # Keras on torch would take a GPU the build was told not to use
            keras.backend.clear_session()  # layer names (dense, dense_1, …) start again in every build
            keras.utils.set_random_seed(context.seed)
            model = _built(keras, hp, shape, context, where)
            _adapt(model, inputs[fitted])
            loss = hp.loss or DEFAULT_LOSS[context.task]
            accuracy = context.task != "regression"
            model.compile(optimizer=_optimizer(keras, hp), loss=loss, metrics=["accuracy"] if accuracy else [])
            model.fit(
                inputs[fitted],
                labels[fitted],
                validation_data=(inputs[validation], labels[validation]),
                epochs=hp.epochs,
                batch_size=hp.batch_size,
                shuffle=True,
                verbose=0,
                callbacks=[_reporter(keras, context, accuracy, steps=-(-len(fitted) // hp.batch_size))],
            )
    finally:
        torch.set_num_threads(threads)
    return _trained(model, hp, context, shape=shape, loss=loss, rows=(len(fitted), len(validation)), fitted=fitted)


def _built(keras: Any, hp: KerasHyperparameters, shape: tuple[int, ...], context: TrainingContext, where: str) -> Any:
    """The spec's layers as a Sequential model, each class checked to be one of Keras' own."""
    layers = [keras.Input(shape=shape)]
    for index, layer in enumerate(hp.layers):
        ((class_name, arguments),) = layer.items()
        layer_class = getattr(keras.layers, class_name, None)
        if class_name in REFUSED_LAYERS or not isinstance(layer_class, type):
            raise RecipeError(
                f"{where}.layers.{index}: {class_name!r} is not a Keras layer the recipe builds. "
                "Fix: name a class of keras.layers (Dense, Conv2D, …); code-running layers such as Lambda are refused"
            )
        try:
            layers.append(layer_class(**arguments))
        except (TypeError, ValueError) as exc:
            raise RecipeError(f"{where}.layers.{index}: {class_name}: {exc}. Fix: correct its arguments") from None
    try:
        return keras.Sequential(layers, name=context.spec_path.parent.name.replace("-", "_"))
    except (TypeError, ValueError) as exc:
        raise RecipeError(f"{where}.layers: the layers do not fit together: {exc}. Fix: correct their shapes") from None


def _adapt(model: Any, inputs: np.ndarray) -> None:
    """Learn the statistics of Normalization layers that do not state them, from the training rows
    as they reach the layer (only leading Normalization layers are supported, as in Keras' guides)."""
    for layer in model.layers:
        if type(layer).__name__ != "Normalization":
            break
        if layer.input_mean is None:
            layer.adapt(inputs)


def _optimizer(keras: Any, hp: KerasHyperparameters) -> Any:
    classes = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop"}
    return getattr(keras.optimizers, classes[hp.optimizer])(learning_rate=hp.learning_rate)


def _reporter(keras: Any, context: TrainingContext, accuracy: bool, *, steps: int) -> Any:
    """A Keras callback reporting each epoch's figures and the steps within it."""

    class Report(keras.callbacks.Callback):
        def on_train_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
            context.report_step(batch + 1, steps)

        def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            logs = logs or {}
            context.report_epoch(
                EpochFacts(
                    epoch=epoch + 1,
                    train_loss=float(logs["loss"]),
                    train_accuracy=float(logs["accuracy"]) if accuracy else None,
                    validation_loss=float(logs["val_loss"]),
                    validation_accuracy=float(logs["val_accuracy"]) if accuracy else None,
                )
            )

    return Report()


def _trained(
    model: Any,
    hp: KerasHyperparameters,
    context: TrainingContext,
    *,
    shape: tuple[int, ...],
    loss: str,
    rows: tuple[int, int],
    fitted: np.ndarray,
) -> TrainedModel:
    def predict_scores(frame: pd.DataFrame) -> np.ndarray:
        return predict(model, model_inputs(frame, shape, where=str(context.spec_path)), device=context.device)

    every, trainable = weight_names(model)
    return TrainedModel(
        module=model,
        predict_scores=predict_scores,
        architecture={"input_shape": list(shape), "layers": len(model.layers), "loss": loss},
        optimizer=f"{type(model.optimizer).__name__} (learning rate {hp.learning_rate})",
        schedule="constant learning rate",
        train_rows=rows[0],
        validation_rows=rows[1],
        train_figures="Keras' running means over each epoch's batches, as `fit` reports them; validation figures "
        "after the epoch",
        save=_saver(model, onnx=hp.export_onnx),
        checkpoint=CHECKPOINT,
        trained_rows=fitted,
        layers=layer_table(model),
        weight_names=(every, trainable),
    )


def _saver(model: Any, *, onnx: bool) -> Callable[[Path], None]:
    """Writes `model.keras` (and, when asked, `model.onnx`) into the published folder."""

    def save(folder: Path) -> None:
        model.save(folder / CHECKPOINT)
        write_reproducibly(folder / CHECKPOINT)
        if onnx:
            _export_onnx(folder / CHECKPOINT, folder / ONNX_FILE)

    return save


def _export_onnx(keras_file: Path, target: Path) -> None:
    """The published `.keras` file as ONNX: loaded again (the exporter's tracer refuses weights that
    still track gradients, as the trained model's do), called once as Keras' export requires, then
    exported, outside the build's FLOP counter (a dispatch mode the tracer cannot run under, and
    the export is not the model's evaluation); the tracer's warnings about each shape check it
    records are not shown."""
    from torch.utils._python_dispatch import _disable_current_modes

    keras = keras_on_torch()
    with _disable_current_modes(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = keras.saving.load_model(keras_file, compile=False)
        model.predict(np.zeros((1, *input_shape(model)), dtype=np.float32), verbose=0)
        model.export(target, format="onnx", verbose=False)
