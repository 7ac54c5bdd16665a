"""A lone safetensors file: described from its header; with `module:` (the network it was saved
from), loaded strictly into that network and scored like a model trained in the build."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from reporter.errors import ModelFileError, RecipeError
from reporter.extract.safetensors_file import read_header
from reporter.facts import ArchitectureFacts, NotReported
from reporter.formats.declaration import Capability, PathKind
from reporter.loaders.base import LoadRequest, checked_file
from reporter.runners.outcome import RunOutcome, described_file
from reporter.spec import LoadedSpec

MODULE_FIELD = "source.load.module"


class SafetensorsFormat:
    name: ClassVar[str] = "safetensors"
    path_kind: ClassVar[PathKind] = "file"
    suffix: ClassVar[str | None] = ".safetensors"
    publishable: ClassVar[bool] = True
    takes_module: ClassVar[bool] = True

    def offers(self, *, module: str | None) -> frozenset[Capability]:
        return frozenset({"score_rows"}) if module is not None else frozenset()

    def check(self, loaded: LoadedSpec, path: Path) -> None:
        checked_file(loaded, path, ".safetensors")
        read_header(path)

    def load(self, request: LoadRequest) -> RunOutcome:
        path = checked_file(request.loaded, request.path, ".safetensors")
        if request.loaded.spec.source.load and request.loaded.spec.source.load.module is not None:
            return _load_own_architecture(request)
        return described_file(
            path, ArchitectureFacts(source="load", recipe=None, module_class="(safetensors file)", config={})
        )


def _load_own_architecture(request: LoadRequest) -> RunOutcome:
    """A safetensors checkpoint loaded strictly into the network the spec's `module:` builds, then
    scored on the evaluation rows like a model trained in the build.

    Raises:
        ModelFileError: the file's tensors do not match the network's (missing, unexpected or
            differently shaped), each named.
        RecipeError: the builder fails or returns something else than a LoadedModule.
    """
    from safetensors.torch import load_file

    load = request.loaded.spec.source.load
    assert load is not None and load.module is not None
    built = _built_module(request)
    read_header(request.path)  # the file's layout is checked before safetensors allocates anything
    state = load_file(str(request.path))
    _check_fits(request.path, state, built.module.state_dict(), builder=load.module)
    built.module.load_state_dict(state, strict=True)
    module = built.module.to(request.device).eval()
    parameters = dict(module.named_parameters())
    described = replace(
        described_file(
            request.path,
            ArchitectureFacts(
                source="load", recipe=None, module_class=type(module).__name__, config=built.architecture
            ),
        ),
        parameter_names=set(parameters),
        trainable_names={k for k, p in parameters.items() if p.requires_grad},
        inference=NotReported(not_reported="the spec declares no evaluation data"),
        score_rows=_without_gradients(built.predict_scores),
    )
    if request.evaluation is None:
        return described
    return _scored(described, request, built.predict_scores)


def _built_module(request: LoadRequest) -> Any:
    """The LoadedModule the spec's builder returns, checked.

    Raises:
        RecipeError: the builder fails, or returns something else than a LoadedModule of a torch
            module with a dict of text keys as its architecture.
    """
    import torch

    from reporter.runners.recipes import LoadedModule, import_user_function

    loaded, load = request.loaded, request.loaded.spec.source.load
    assert load is not None and load.module is not None
    builder = import_user_function(loaded, load.module, field=MODULE_FIELD, signature="()")
    try:
        built = builder()
    except Exception as exc:  # user code may fail in any way; name it and the error
        raise RecipeError(
            f"{loaded.path}: {MODULE_FIELD}: {load.module!r} raised {type(exc).__name__}: {exc}"
        ) from None
    if not isinstance(built, LoadedModule) or not isinstance(built.module, torch.nn.Module):
        raise RecipeError(
            f"{loaded.path}: {MODULE_FIELD}: {load.module!r} returned {type(built).__name__}. "
            "Fix: return reporter.runners.recipes.LoadedModule(module=..., predict_scores=...)"
        )
    if not (isinstance(built.architecture, dict) and all(isinstance(k, str) for k in built.architecture)):
        raise RecipeError(
            f"{loaded.path}: {MODULE_FIELD}: {load.module!r} returned an architecture that is a "
            f"{type(built.architecture).__name__}. Fix: return a dict with text keys"
        )
    return built


def _scored(described: RunOutcome, request: LoadRequest, predict_scores: Callable[[Any], Any]) -> RunOutcome:
    """The evaluation rows scored by the module's own `predict_scores`, checked to the task's shape."""
    from reporter.loaders.row_scoring import scored_outcome

    return scored_outcome(
        described,
        request,
        predict_scores,
        field=MODULE_FIELD,
        input_text="the evaluation features, through the module's own predict_scores",
    )


def _check_fits(path: Any, state: dict[str, Any], expected: dict[str, Any], *, builder: str) -> None:
    """The checkpoint's tensors are exactly the network's, shape for shape.

    Raises:
        ModelFileError: naming the missing, unexpected and reshaped tensors (the first five of each).
    """
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    reshaped = sorted(k for k in set(state) & set(expected) if state[k].shape != expected[k].shape)
    if missing or unexpected or reshaped:
        parts = [
            f"{what}: {', '.join(names[:5])}{' …' if len(names) > 5 else ''}"
            for what, names in (("missing", missing), ("unexpected", unexpected), ("shape differs", reshaped))
            if names
        ]
        raise ModelFileError(
            f"{path}: the tensors do not fit the network {builder!r} builds ({'; '.join(parts)}). "
            "Fix: build the architecture the checkpoint was saved from, or load the matching checkpoint"
        )


def _without_gradients(predict_scores: Callable[[Any], Any]) -> Callable[[Any], np.ndarray]:
    """A loaded module's scoring function, run without autograd and returning float64."""

    def score_rows(frame: Any) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return np.asarray(predict_scores(frame), dtype=np.float64)

    return score_rows
