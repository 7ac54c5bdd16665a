"""Pickle checkpoints (`.bin`, `.pt`) inside a transformers folder: refused unless the spec opts
in, then loaded with ``weights_only=True`` and converted to safetensors before anything reads them."""

from __future__ import annotations

from pathlib import Path

from reporter.errors import ModelFileError
from reporter.spec import LoadedSpec


def converted_pickle(loaded: LoadedSpec, folder: Path, convert_dir: Path) -> Path:
    """The folder's pickle weights as one safetensors file under ``convert_dir``.

    Raises:
        ModelFileError: no weights at all, pickles without `allow_pickle: true`, or a pickle
            that does not load weights-only.
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
    import torch
    from safetensors.torch import save_file

    state: dict[str, torch.Tensor] = {}
    for path in pickles:
        try:
            part = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types for corrupt or unsafe pickles
            raise ModelFileError(
                f"{path}: cannot load weights-only ({type(exc).__name__}: {exc}). "
                "Fix: re-export the checkpoint as safetensors"
            ) from None
        state.update({k: v.contiguous() for k, v in part.items()})
    convert_dir.mkdir(parents=True, exist_ok=True)
    target = convert_dir / "model.safetensors"
    save_file(state, str(target))
    return target
