"""The model file format registry: every format the build loads, built-in or added by a package.

A package adds a format by declaring an entry point in the group ``reporter.formats`` whose
object is a class implementing :class:`reporter.loaders.base.ModelFormat`; nothing in `reporter/`
changes. Each built-in format's module checks its files by the format's own rules before anything
in them is read into memory or handed to a framework.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from reporter.entry_points import FORMATS, declared
from reporter.formats.declaration import FormatDeclaration

BUILT_IN = {
    "transformers": "reporter.loaders.transformers:TransformersFormat",
    "safetensors": "reporter.loaders.safetensors:SafetensorsFormat",
    "gguf": "reporter.loaders.gguf:GgufFormat",
    "pytorch": "reporter.loaders.pytorch:PytorchFormat",
    "keras": "reporter.loaders.keras:KerasFormat",
    "onnx": "reporter.loaders.onnx:OnnxFormat",
}


@cache
def registered_formats() -> dict[str, FormatDeclaration]:
    """One instance of every format by name: the built-ins, then other packages' in name order."""
    found = {name: _load(reference) for name, reference in BUILT_IN.items()}
    for name, format_class in declared(FORMATS).items():
        if name not in found:
            found[name] = format_class()
    return found


def _load(reference: str) -> FormatDeclaration:
    module, attribute = reference.split(":")
    model_format: FormatDeclaration = getattr(import_module(module), attribute)()
    return model_format


def format_named(name: str) -> FormatDeclaration:
    """The registered format called ``name`` (a spec's `source.load.format`, already validated)."""
    return registered_formats()[name]
