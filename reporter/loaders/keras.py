"""A Keras model file (`.keras`, or legacy HDF5 `.h5` from TensorFlow 2, tf-keras or Keras 3):
its configuration and weights read and checked without Keras (`reporter.extract.keras_file`), then
loaded with Keras 3 on the PyTorch backend in safe mode to score the evaluation rows.

A layer that runs code which is not Keras' own (a Lambda layer, a custom class) is refused before
Keras is imported: loading it would run code from the file's author. Custom classes are loaded only
from trusted code the spec names (`source.load.module`, a function in the model folder returning
`{class name: class}`, as for recipes); a Lambda layer never is (it needs Keras' unsafe mode).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from reporter.errors import ModelFileError, RecipeError
from reporter.extract.keras_file import KERAS_SUFFIXES, read_keras_file
from reporter.facts import ArchitectureFacts, NotReported
from reporter.formats.declaration import Capability, PathKind
from reporter.loaders.base import LoadRequest
from reporter.runners.outcome import RunOutcome, described_file
from reporter.spec import LoadedSpec

MODULE_FIELD = "source.load.module"


class KerasFormat:
    name: ClassVar[str] = "keras"
    path_kind: ClassVar[PathKind] = "file"
    suffix: ClassVar[str | tuple[str, ...] | None] = KERAS_SUFFIXES
    publishable: ClassVar[bool] = True
    takes_module: ClassVar[bool] = True

    def offers(self, *, module: str | None) -> frozenset[Capability]:
        return frozenset({"score_rows"})

    def check(self, loaded: LoadedSpec, path: Path) -> None:
        """The archive, the configuration and the weights' links and storage, and no refused layer."""
        _checked(loaded, path)

    def load(self, request: LoadRequest) -> RunOutcome:
        """The file checked, loaded with Keras in safe mode, described layer by layer, and (with
        evaluation rows) run on them."""
        from reporter.runners.keras_model import input_shape, keras_on_torch, layer_table, weight_names

        path = _checked(request.loaded, request.path)
        keras = keras_on_torch()
        custom_objects = _custom_objects(request.loaded)
        try:
            with keras.device(request.device):  # Keras on torch would take a GPU the build was told not to use
                model = keras.saving.load_model(path, custom_objects=custom_objects, compile=False, safe_mode=True)
        except Exception as exc:  # Keras raises many types for a file it cannot build; name the file
            raise ModelFileError(
                f"{request.loaded.path}: source.load.file: Keras cannot load {path}: {type(exc).__name__}: {exc}. "
                "Fix: re-save the model with Keras 3 (`model.save('model.keras')`)"
            ) from None
        every, trainable = weight_names(model)
        described = replace(
            described_file(
                path,
                ArchitectureFacts(
                    source="load",
                    recipe=None,
                    module_class=type(model).__name__,
                    config={"input_shape": list(input_shape(model)), "layers": len(model.layers)},
                    layers=layer_table(model),
                ),
            ),
            parameter_names=every,
            trainable_names=trainable,
            inference=NotReported(not_reported="the spec declares no evaluation data"),
            score_rows=_scorer(model, request.loaded, request.device),
        )
        return described if request.evaluation is None else _scored(described, request)


def _checked(loaded: LoadedSpec, path: Path) -> Path:
    from reporter.runners.keras_model import refused_layers

    if path.is_dir() or path.suffix not in KERAS_SUFFIXES:
        raise ModelFileError(
            f"{loaded.path}: source.load.file: {path} is not a .keras or .h5 file. Fix: name the saved model file"
        )
    trusted = loaded.spec.source.load is not None and loaded.spec.source.load.module is not None
    refused = refused_layers(read_keras_file(path).config, custom_objects_trusted=trusted)
    if refused:
        raise ModelFileError(
            f"{loaded.path}: source.load.file: {path} has layers that run code which is not Keras' own: "
            f"{', '.join(refused[:5])}. Loading them would run the file author's code. "
            + (
                "Fix: rebuild the model without Lambda layers (only Keras' unsafe mode loads them, never used here)"
                if trusted
                else "Fix: rebuild the model from Keras' built-in layers, or, for classes of your own, name a function "
                "of the model folder returning them in `source.load.module: module:function` (trusted code)"
            )
        )
    return path


def _custom_objects(loaded: LoadedSpec) -> dict[str, type] | None:
    """The classes the spec's trusted code defines for the file's custom layers, checked to be classes.

    Raises:
        RecipeError: the function cannot be imported, fails, or returns something else than ``{name: class}``.
    """
    from reporter.runners.recipes import import_user_function

    load = loaded.spec.source.load
    if load is None or load.module is None:
        return None
    function = import_user_function(loaded, load.module, field=MODULE_FIELD, signature="() -> dict[str, type]")
    try:
        objects = function()
    except Exception as exc:  # a user's function may fail in any way; report it, don't crash
        raise RecipeError(
            f"{loaded.path}: {MODULE_FIELD}: {load.module!r} raised {type(exc).__name__}: {exc}. Fix: correct it"
        ) from None
    if not isinstance(objects, dict) or not all(isinstance(k, str) and isinstance(v, type) for k, v in objects.items()):
        raise RecipeError(
            f"{loaded.path}: {MODULE_FIELD}: {load.module!r} returned {type(objects).__name__}, not the custom "
            "objects. Fix: return a dict from class names to classes, e.g. `{'Scale': Scale}`"
        )
    return objects


def _scorer(model: Any, loaded: LoadedSpec, device: str) -> Any:
    from reporter.runners.keras_model import input_shape, predict
    from reporter.runners.shaped_inputs import model_inputs

    shape = input_shape(model)

    def score_rows(frame: Any) -> Any:
        return predict(model, model_inputs(frame, shape, where=f"{loaded.path}: evaluation.features"), device=device)

    return score_rows


def _scored(described: RunOutcome, request: LoadRequest) -> RunOutcome:
    """The evaluation rows scored by Keras, checked to the task's shape, and timed."""
    from reporter.loaders.row_scoring import scored_outcome
    from reporter.runners.keras_model import PREDICT_BATCH

    assert described.score_rows is not None
    return scored_outcome(
        described,
        request,
        described.score_rows,
        field="source.load.file",
        input_text="the evaluation features shaped as the model's input, through Keras `predict` (PyTorch backend)",
        batch_size=PREDICT_BATCH,
    )
