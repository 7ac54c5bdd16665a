"""What every model file format's loader is, and the one function the build loads a model with.

A format turns the files a spec names into a model the build can describe (weights, architecture
as the files declare it) and, for the capabilities it offers, run: score evaluation rows, embed
sentences, tag words, score and generate text. A task asks for capabilities, never for a format;
a format never asks which task it serves. Formats are found through the registry
(`reporter.formats`), never switched on by name elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

from reporter.datasets import LabelledData
from reporter.errors import ModelFileError
from reporter.formats import registered_formats
from reporter.formats.declaration import CAPABILITY_TEXT, Capability, FormatDeclaration
from reporter.runners.outcome import RunOutcome
from reporter.spec import LoadedSpec


@dataclass(frozen=True)
class LoadRequest:
    """One model to load, and what its task will ask of it."""

    loaded: LoadedSpec
    path: Path
    device: str
    convert_dir: Path
    """Where a converted copy of the weights (a pickle checkpoint turned safetensors) is written."""
    needs: frozenset[Capability]
    evaluation: LabelledData | None = None
    """The labelled evaluation rows, when the task scores rows with the model."""
    on_progress: Callable[[int, int], None] | None = None
    resolve: Callable[[Any, str], Path] | None = None
    """Turns another file the spec names (a reference and its field) into a path inside the project."""


class ModelFormat(FormatDeclaration, Protocol):
    """One format. Implementations are small classes with no state; the registry holds one of each."""

    def load(self, request: LoadRequest) -> RunOutcome:
        """The model described and bound for what ``request.needs`` (a subset of what it offers).

        A format may also define ``check(loaded, path)``: read and check its files' headers and
        configuration as `load` would, loading nothing (`reporter check` calls it)."""
        ...


def checked_file(loaded: LoadedSpec, path: Path, suffix: str) -> Path:
    """The spec's file, when it is a file with the format's ending (a published folder, say, is not).

    Raises:
        ModelFileError: naming the file and the fix.
    """
    if path.is_dir() or path.suffix != suffix:
        raise ModelFileError(
            f"{loaded.path}: source.load.file: {path} is not a {suffix} file. "
            "Fix: name the file, or use `format: transformers` for a folder"
        )
    return path


def check_model_files(loaded: LoadedSpec, path: Path) -> None:
    """What `reporter check` reads of a model's files: whatever its format's optional
    ``check(loaded, path)`` reads (headers and configuration, never the weights themselves, never
    a framework), so a corrupt or mismatched file is refused before a build starts.

    Raises:
        ModelFileError: as loading the model would, naming the file and the fix.
    """
    load = loaded.spec.source.load
    assert load is not None
    check = getattr(format_loader(load.format), "check", None)
    if check is not None:
        check(loaded, path)


def format_loader(name: str) -> ModelFormat:
    """The registered format called ``name`` (a spec's `source.load.format`, already validated),
    as the loader it is: every registered format implements `load` (the registry holds whole
    formats; it is typed by their declarations so that spec validation need not import loading)."""
    return cast(ModelFormat, registered_formats()[name])


def load_model(
    loaded: LoadedSpec,
    *,
    path: Path,
    device: str,
    convert_dir: Path,
    needs: frozenset[Capability],
    evaluation: LabelledData | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    resolve: Callable[[Any, str], Path] | None = None,
) -> RunOutcome:
    """Load the model the spec names with its format's loader, for what the task ``needs``.

    Raises:
        ModelFileError: the format cannot do something the task needs (spec validation refuses
            such specs first; this guards formats added by other packages).
    """
    load = loaded.spec.source.load
    assert load is not None
    model_format = format_loader(load.format)
    missing = sorted(needs - model_format.offers(module=load.module))
    if missing:
        raise ModelFileError(
            f"{loaded.path}: source.load.format: a {load.format} model cannot "
            f"{' or '.join(CAPABILITY_TEXT[m] for m in missing)}, which this model's task needs. "
            "Fix: load the model in a format that can"
        )
    request = LoadRequest(
        loaded=loaded,
        path=path,
        device=device,
        convert_dir=convert_dir,
        needs=needs,
        evaluation=evaluation,
        on_progress=on_progress,
        resolve=resolve,
    )
    return model_format.load(request)
