"""Pickle checkpoints (`.bin`, `.pt`) inside a transformers folder: refused unless the spec opts
in, then loaded with ``weights_only=True`` and converted to safetensors before anything reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reporter.errors import ModelFileError
from reporter.spec import LoadedSpec


def converted_pickle(loaded: LoadedSpec, folder: Path, convert_dir: Path) -> Path:
    """The folder's pickle weights as one safetensors file under ``convert_dir``.

    Raises:
        ModelFileError: no weights at all, pickles without `allow_pickle: true`, or a pickle
            that does not load weights-only.
    """
    pickles = allowed_pickles(loaded, folder)
    from safetensors.torch import save_file

    state = {}
    for path in pickles:
        state.update(read_weights_only(path, where=str(path)))
    convert_dir.mkdir(parents=True, exist_ok=True)
    target = convert_dir / "model.safetensors"
    save_file(state, str(target))
    return target


def allowed_pickles(loaded: LoadedSpec, folder: Path) -> list[Path]:
    """The folder's pickle checkpoints, when it has no safetensors weights and the spec allows them.

    Raises:
        ModelFileError: no weights at all, or pickles without `allow_pickle: true`.
    """
    pickles = sorted(folder.glob("*.bin")) + sorted(folder.glob("*.pt"))
    if not pickles:
        raise ModelFileError(f"{folder}: no .safetensors weights found. Fix: add model.safetensors")
    if not loaded.spec.allow_pickle:
        raise ModelFileError(
            f"{pickles[0]}: pickle checkpoints can run code when loaded and are refused. "
            f"Fix: convert it to safetensors, or set `allow_pickle: true` in {loaded.path} "
            "(it is then loaded with weights_only=True)"
        )
    return pickles


def read_weights_only(path: Path, *, where: str) -> dict[str, Any]:
    """A pickle's named tensors, read with torch's weights-only unpickler (it rebuilds tensors and
    plain containers, never objects), each its own contiguous copy (tied tensors come apart, as
    safetensors requires).

    Raises:
        ModelFileError: the file does not load weights-only, or holds something else than a dict
            of named tensors (a whole pickled module, say).
    """
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt or unsafe pickles
        raise ModelFileError(
            f"{where}: {path} does not load weights-only ({type(exc).__name__}: {exc}). "
            "Fix: save the network's `state_dict()`, not the whole module, or re-export it as safetensors"
        ) from None
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise ModelFileError(
            f"{where}: {path} holds a {type(state).__name__}, not a dict of named tensors. "
            "Fix: save the network's `state_dict()` with torch.save"
        )
    return {name: tensor.detach().clone().contiguous() for name, tensor in state.items()}
