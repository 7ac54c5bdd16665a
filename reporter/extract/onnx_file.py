"""Reading ONNX model files: the graph's initializers as weight tensors, checked before they are read.

The graph itself is parsed with `onnx` (protobuf) without its external data. Every initializer's
type and shape are checked against the bytes it declares; external data (`.onnx.data` files beside
the model, as exporters write above 2 GB) must stay inside the model's folder, and each tensor's
offset and length inside its file, before the bytes are memory-mapped. Operators from domains other
than ONNX's own are refused: a custom operator is code the file's author ships separately.

Exporters rename parameters (`onnx::Conv_179`, `val_126`) and transpose some (a Linear weight
becomes a MatMul's right operand): the tensors are described under the names the graph stores,
and the card says how many of them an exporter named.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from reporter.errors import ModelFileError
from reporter.extract.safetensors_file import StoredTensor

ONNX_DOMAINS = ("", "ai.onnx", "ai.onnx.ml")
"""Operator domains of the ONNX standard; any other is a custom operator and refused."""
DTYPES: dict[int, tuple[str, str]] = {
    1: ("F32", "<f4"),
    11: ("F64", "<f8"),
    10: ("F16", "<f2"),
    16: ("BF16", "<u2"),
    7: ("I64", "<i8"),
    6: ("I32", "<i4"),
    5: ("I16", "<i2"),
    3: ("I8", "i1"),
    2: ("U8", "u1"),
    9: ("BOOL", "?"),
}
"""ONNX TensorProto data types reporter reads: (safetensors' name, numpy storage dtype)."""
WEIGHT_DTYPES = ("F32", "F64", "F16", "BF16")
EXPORTER_NAME = re.compile(r"^(onnx::|val_\d|_val_\d|/)")
"""Initializer names an exporter made up rather than kept from the network (`onnx::MatMul_886`)."""
FIX = "Fix: re-export the model with `torch.onnx.export` or `keras.Model.export(..., format='onnx')`"


@dataclass(frozen=True)
class OnnxGraph:
    """What an ONNX file declares about itself, checked."""

    model: Any
    """The parsed `onnx.ModelProto`, external data not loaded."""
    opset: int
    producer: str
    inputs: list[tuple[str, list[int | str]]]
    """Each graph input that is not an initializer: its name and shape (symbolic dimensions by name)."""
    exporter_named: int
    """How many float initializers carry a name the exporter made up."""


def is_onnx(path: Path) -> bool:
    return path.suffix == ".onnx"


def read_onnx_graph(path: Path) -> OnnxGraph:
    """The graph of an ONNX file, its operators' domains and its initializers' storage checked;
    parsed once per build step however many readers ask (the weights, the loader), while the
    file's size and modification time stay the same.

    Raises:
        ModelFileError: naming the file, what is wrong and the fix.
    """
    try:
        stat = path.stat()
    except OSError as exc:
        raise ModelFileError(f"{path}: not a readable ONNX model ({exc}). {FIX}") from None
    return _parsed_graph(path.resolve(), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=2)
def _parsed_graph(path: Path, size: int, modified: int) -> OnnxGraph:
    """:func:`read_onnx_graph` for one state of the file (``size`` and ``modified`` key it)."""
    import onnx
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load(str(path), load_external_data=False)
    except (DecodeError, ValueError, OSError, RuntimeError) as exc:
        raise ModelFileError(f"{path}: not a readable ONNX model ({exc}). {FIX}") from None
    custom = sorted({node.domain for node in _nodes(model.graph) if node.domain not in ONNX_DOMAINS})
    custom += sorted({o.domain for o in model.opset_import if o.domain not in ONNX_DOMAINS} - set(custom))
    if custom:
        raise ModelFileError(
            f"{path}: the graph uses operators of the custom domain(s) {', '.join(custom)}, whose code is not "
            "part of ONNX and would have to be loaded from elsewhere. "
            "Fix: export the model with standard ONNX operators only"
        )
    for tensor in model.graph.initializer:
        _check_storage(path, tensor)
    initialized = {tensor.name for tensor in model.graph.initializer}
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    return OnnxGraph(
        model=model,
        opset=int(opset),
        producer=f"{model.producer_name} {model.producer_version}".strip(),
        inputs=[(item.name, _shape(item)) for item in model.graph.input if item.name not in initialized],
        exporter_named=sum(
            1
            for tensor in model.graph.initializer
            if DTYPES.get(tensor.data_type, ("", ""))[0] in WEIGHT_DTYPES and EXPORTER_NAME.match(tensor.name)
        ),
    )


def iter_onnx_tensors(path: Path) -> Iterator[StoredTensor]:
    """Every initializer of the graph, in name order, as stored (external data memory-mapped)."""
    graph = read_onnx_graph(path)
    for tensor in sorted(graph.model.graph.initializer, key=lambda t: t.name):
        yield _stored(path, tensor)


def external_files(path: Path) -> list[Path]:
    """The external data files the graph's initializers are kept in (checked to be in its folder),
    whose bytes are part of the model as much as the graph's."""
    graph = read_onnx_graph(path)
    found = {
        _external_file(path, tensor.name, external.get("location", ""))
        for tensor in graph.model.graph.initializer
        if (external := _external(tensor)) is not None
    }
    return sorted(found)


def weight_names(graph: OnnxGraph) -> set[str]:
    """The initializers that are weights (floating point), not shapes or indices an exporter stored."""
    return {t.name for t in graph.model.graph.initializer if DTYPES.get(t.data_type, ("", ""))[0] in WEIGHT_DTYPES}


def _shape(value_info: Any) -> list[int | str]:
    """A graph input's shape, a symbolic dimension (the batch) by its name."""
    return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in value_info.type.tensor_type.shape.dim]


def _nodes(graph: Any) -> Iterator[Any]:
    """Every node, those of subgraphs (an If's branches, a Loop's body) included."""
    for node in graph.node:
        yield node
        for attribute in node.attribute:
            if attribute.HasField("g"):
                yield from _nodes(attribute.g)
            for subgraph in attribute.graphs:
                yield from _nodes(subgraph)


def _external(tensor: Any) -> dict[str, str] | None:
    from onnx import TensorProto

    if tensor.data_location != TensorProto.EXTERNAL:
        return None
    return {entry.key: entry.value for entry in tensor.external_data}


def _check_storage(path: Path, tensor: Any) -> None:
    """The tensor's type is one reporter reads and its declared bytes fit its shape and its file."""
    if tensor.data_type not in DTYPES:
        raise ModelFileError(
            f"{path}: initializer {tensor.name!r} has ONNX data type {tensor.data_type}, "
            f"which reporter does not read. {FIX}"
        )
    dims = [int(d) for d in tensor.dims]
    if any(d < 0 for d in dims):
        raise ModelFileError(f"{path}: initializer {tensor.name!r} has a negative dimension {dims}. {FIX}")
    needed = math.prod(dims) * np.dtype(DTYPES[tensor.data_type][1]).itemsize
    external = _external(tensor)
    if external is None:
        if tensor.raw_data and len(tensor.raw_data) != needed:
            raise ModelFileError(
                f"{path}: initializer {tensor.name!r} of shape {dims} needs {needed} bytes but stores "
                f"{len(tensor.raw_data)}. The file is corrupt. {FIX}"
            )
        return
    data_file = _external_file(path, tensor.name, external.get("location", ""))
    offset, length = int(external.get("offset", 0) or 0), int(external.get("length", needed) or needed)
    if length != needed or offset < 0 or offset + length > data_file.stat().st_size:
        raise ModelFileError(
            f"{path}: initializer {tensor.name!r} of shape {dims} declares bytes {offset}..{offset + length} of "
            f"{data_file.name} ({data_file.stat().st_size} bytes; it needs {needed}). "
            f"The external data is truncated or does not match the graph. {FIX}"
        )


def _external_file(path: Path, name: str, location: str) -> Path:
    """An external data file, which must be a file in the model's folder or below it."""
    folder = path.parent.resolve()
    target = (folder / location).resolve()
    if not location or Path(location).is_absolute() or not target.is_relative_to(folder):
        raise ModelFileError(
            f"{path}: initializer {name!r} keeps its data at {location!r}, outside the model's folder. "
            "Fix: keep the external data files beside the .onnx file (re-export with relative locations)"
        )
    if not target.is_file():
        raise ModelFileError(
            f"{path}: initializer {name!r} keeps its data in {location!r}, which is missing. "
            "Fix: copy the external data file beside the .onnx file"
        )
    return target


def _stored(path: Path, tensor: Any) -> StoredTensor:
    from onnx import numpy_helper

    dtype, storage = DTYPES[tensor.data_type]
    shape = tuple(int(d) for d in tensor.dims)
    count = math.prod(shape)
    external = _external(tensor)
    if external is not None:
        data_file = _external_file(path, tensor.name, external["location"])
        offset = int(external.get("offset", 0) or 0)
        data = (
            np.memmap(data_file, dtype=storage, mode="r", offset=offset, shape=(count,))
            if count
            else np.empty(0, dtype=storage)
        )
    elif tensor.raw_data:
        data = np.frombuffer(tensor.raw_data, dtype=storage, count=count)
    else:
        values = numpy_helper.to_array(tensor).reshape(-1)
        data = values.view(np.uint16) if dtype == "BF16" else values.astype(storage, copy=False)
    return StoredTensor(name=tensor.name, dtype=dtype, shape=shape, data=data)
