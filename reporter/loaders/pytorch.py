"""A PyTorch checkpoint of the user's own network (`torch.save(model.state_dict(), "model.pt")`):
a pickle, so refused unless the spec sets `allow_pickle: true`; then read with
``weights_only=True`` (torch's unpickler that rebuilds tensors and plain containers and nothing
else), converted to a safetensors file, and from there treated exactly as a safetensors checkpoint:
described tensor by tensor and, with `module:`, loaded strictly into the network and scored."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from reporter.errors import ModelFileError
from reporter.formats.declaration import Capability, PathKind
from reporter.loaders.base import LoadRequest
from reporter.loaders.pickled import read_weights_only
from reporter.loaders.safetensors import SafetensorsFormat
from reporter.runners.outcome import RunOutcome
from reporter.spec import LoadedSpec

SUFFIXES = (".pt", ".pth", ".bin")


class PytorchFormat:
    name: ClassVar[str] = "pytorch"
    path_kind: ClassVar[PathKind] = "file"
    suffix: ClassVar[str | tuple[str, ...] | None] = SUFFIXES
    publishable: ClassVar[bool] = False
    takes_module: ClassVar[bool] = True

    def offers(self, *, module: str | None) -> frozenset[Capability]:
        return SafetensorsFormat().offers(module=module)

    def check(self, loaded: LoadedSpec, path: Path) -> None:
        _pickle_allowed(loaded, path)

    def load(self, request: LoadRequest) -> RunOutcome:
        """The checkpoint converted to safetensors and loaded as one (the spec's file itself is
        hashed into the cache key like every file a spec names).

        Raises:
            ModelFileError: pickles not allowed by the spec, a file that does not load weights-only,
                or one that holds something other than a state dict of tensors.
        """
        loaded, path = request.loaded, request.path
        _pickle_allowed(loaded, path)
        converted = request.convert_dir / "model.safetensors"
        _convert(path, converted, spec_path=loaded.path)
        return SafetensorsFormat().load(replace(request, path=converted))


def _pickle_allowed(loaded: LoadedSpec, path: Path) -> None:
    if not loaded.spec.allow_pickle:
        raise ModelFileError(
            f"{loaded.path}: source.load.file: {path} is a pickle, and loading a pickle can run code. "
            "Fix: convert it with `safetensors.torch.save_file(torch.load(path, weights_only=True), "
            f"'model.safetensors')` and use `format: safetensors`, or set `allow_pickle: true` in {loaded.path} "
            "(it is then read with weights_only=True)"
        )


def _convert(path: Path, target: Path, *, spec_path: Path) -> None:
    """A weights-only read of the pickle, written out as safetensors."""
    from safetensors.torch import save_file

    state = read_weights_only(path, where=f"{spec_path}: source.load.file")
    target.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(target))
