"""GGUF files (llama.cpp's format, often quantized): described from the header, and run as a
language model through transformers' GGUF reader once the header has been checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from reporter.facts import ArchitectureFacts
from reporter.formats.declaration import Capability, PathKind
from reporter.loaders.base import LoadRequest, checked_file
from reporter.runners.outcome import RunOutcome, described_file
from reporter.spec import LoadedSpec


class GgufFormat:
    name: ClassVar[str] = "gguf"
    path_kind: ClassVar[PathKind] = "file"
    suffix: ClassVar[str | None] = ".gguf"
    publishable: ClassVar[bool] = False
    takes_module: ClassVar[bool] = False

    def offers(self, *, module: str | None) -> frozenset[Capability]:
        return frozenset({"language_model"})

    def check(self, loaded: LoadedSpec, path: Path) -> None:
        from reporter.extract.gguf_file import read_gguf_header

        read_gguf_header(checked_file(loaded, path, ".gguf"))

    def load(self, request: LoadRequest) -> RunOutcome:
        described = describe_gguf(request)
        if "language_model" not in request.needs:
            return described
        from reporter.loaders.language import with_language_model

        return with_language_model(described, request, gguf=True)


def describe_gguf(request: LoadRequest) -> RunOutcome:
    """A GGUF file, described from its header: the architecture as the file declares it (every
    tensor in a GGUF file is a parameter; it holds no buffers)."""
    from reporter.extract.gguf_file import read_gguf_header

    path = checked_file(request.loaded, request.path, ".gguf")
    metadata = read_gguf_header(path).metadata
    architecture = str(metadata.get("general.architecture", ""))
    config: dict[str, Any] = {"architecture": architecture or "(not declared)"}
    if architecture:
        own = f"{architecture}."
        config.update({k.removeprefix(own): v for k, v in sorted(metadata.items()) if k.startswith(own)})
    return described_file(
        path, ArchitectureFacts(source="load", recipe=None, module_class="(GGUF file)", config=config)
    )
