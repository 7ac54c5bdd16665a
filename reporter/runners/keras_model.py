"""Keras 3 models on the PyTorch backend: what training a Keras model in the build and running a
loaded Keras file share (the backend, inputs shaped for the model, predictions, the layer table)."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from reporter.errors import InputError
from reporter.facts import LayerFacts

REFUSED_LAYERS = ("Lambda", "TorchModuleWrapper", "TFSMLayer")
"""Layer classes that run arbitrary code when a file is loaded or called; refused."""
PREDICT_BATCH = 256


def keras_on_torch() -> Any:
    """The `keras` module on the PyTorch backend (set unless the environment chose one).

    Raises:
        InputError: `KERAS_BACKEND` names another backend, or Keras is not installed.
    """
    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
    except ImportError:
        raise InputError(
            "Keras is not installed. Fix: pip install 'reporter[keras]' (Keras 3 runs on the PyTorch backend)"
        ) from None
    if keras.backend.backend() != "torch":
        raise InputError(
            f"Keras runs on the {keras.backend.backend()!r} backend (KERAS_BACKEND). "
            "Fix: unset KERAS_BACKEND or set it to torch; reporter runs Keras models on PyTorch"
        )
    return keras


def predict(model: Any, inputs: np.ndarray, *, device: str) -> np.ndarray:
    """The model's outputs for the inputs, in batches, as float64 (one column squeezed away), on
    the build's device (Keras on torch would otherwise take a GPU the build was told not to use)."""
    import torch

    with torch.no_grad(), keras_on_torch().device(device):
        outputs = np.asarray(model.predict(inputs, batch_size=PREDICT_BATCH, verbose=0), dtype=np.float64)
    return outputs[:, 0] if outputs.ndim == 2 and outputs.shape[1] == 1 else outputs


def input_shape(model: Any) -> tuple[int, ...]:
    """The shape of one example the model takes (its input without the batch dimension)."""
    return tuple(int(d) for d in model.inputs[0].shape[1:])


def layer_table(model: Any) -> list[LayerFacts]:
    """Every layer, in order: class, output shape and parameter count, as `model.summary()` shows them."""
    return [
        LayerFacts(
            name=layer.name,
            layer_class=type(layer).__name__,
            output_shape=str(tuple(layer.output.shape)),
            parameters=int(layer.count_params()),
        )
        for layer in model.layers
    ]


def weight_names(model: Any) -> tuple[set[str], set[str]]:
    """The names every weight and every trainable weight have in the model's file (`<layer>/<variable>`)."""
    every = {f"{layer.name}/{weight.name}" for layer in model.layers for weight in layer.weights}
    trainable = {f"{layer.name}/{weight.name}" for layer in model.layers for weight in layer.trainable_weights}
    return every, trainable


def refused_layers(config: dict[str, Any], *, custom_objects_trusted: bool = False) -> list[str]:
    """Layers of a model configuration that would run code which is not Keras' own: a Lambda or
    wrapper layer, or a class registered by a package other than Keras (a custom object, unless
    the spec names trusted code that defines the custom objects)."""
    found = []
    for layer in (config.get("config") or {}).get("layers") or []:
        if not isinstance(layer, dict):
            continue
        name, module = layer.get("class_name"), str(layer.get("module") or "keras")
        custom = not (module == "keras" or module.startswith("keras."))
        if name in REFUSED_LAYERS or (custom and not custom_objects_trusted):
            found.append(f"{(layer.get('config') or {}).get('name', '?')} ({name}, from {module})")
        found.extend(refused_layers(layer, custom_objects_trusted=custom_objects_trusted))
    return found


def write_reproducibly(path: Path) -> None:
    """Rewrite a saved `.keras` archive so the same weights give the same bytes: members in their
    order, stored, dated 1980-01-01; the save time Keras writes into `metadata.json` left out, and
    the `shared_object_id`s of `config.json` (Python object addresses, which differ between runs)
    renumbered in order of appearance, which keeps which objects are shared. The file's SHA-256 is
    published; a build of the same inputs must publish the same one."""
    with zipfile.ZipFile(path) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members:
            if name == "metadata.json":
                metadata = json.loads(data)
                metadata.pop("date_saved", None)
                data = json.dumps(metadata, sort_keys=True).encode()
            elif name == "config.json":
                data = json.dumps(_renumbered(json.loads(data), {})).encode()
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)


def _renumbered(value: Any, numbers: dict[Any, int]) -> Any:
    """``value`` with every `shared_object_id` replaced by its order of first appearance."""
    if isinstance(value, dict):
        return {
            key: numbers.setdefault(item, len(numbers) + 1) if key == "shared_object_id" else _renumbered(item, numbers)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_renumbered(item, numbers) for item in value]
    return value
