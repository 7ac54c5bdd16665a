"""Reading GGUF files (llama.cpp's format) one tensor at a time, with the header validated first.

A GGUF file is a header (metadata key/value pairs, then one record per tensor: name, shape, type
and offset) followed by the tensor data, much of it in quantized blocks. As with safetensors, the
file may come from a stranger: every length, count, shape and offset is checked against the file
size before anything is allocated, so a malformed file is a located error, never a crash or a huge
allocation. GGUF holds no code; nothing in it is executed.

The header is parsed here rather than with ``gguf.GGUFReader`` because that reader builds a numpy
view for every item of every metadata array (SmolLM2's vocabulary alone is 49,152 strings): 2.3 s
to open a 98 MB file against 0.1 s here, and its failures on malformed files are bare
``ValueError``/``IndexError`` without the key or tensor at fault. The tests check this parser
against ``GGUFReader`` on the same file. The quantization block layouts and dequantisation come
from the ``gguf`` package (``GGML_QUANT_SIZES``, ``gguf.quants.dequantize``), which is llama.cpp's
own Python reference.
"""

from __future__ import annotations

import math
import mmap
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reporter.errors import ModelFileError
from reporter.extract.safetensors_file import StoredTensor

MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
MAX_DIMENSIONS = 4  # GGML_MAX_DIMS
MAX_NESTING = 4
FIX = "Fix: the file is truncated or corrupt; re-export or re-download it"

# GGUF metadata value types: id -> (name, struct format); 8 is a string and 9 an array.
SCALAR_TYPES: dict[int, tuple[str, str]] = {
    0: ("uint8", "<B"),
    1: ("int8", "<b"),
    2: ("uint16", "<H"),
    3: ("int16", "<h"),
    4: ("uint32", "<I"),
    5: ("int32", "<i"),
    6: ("float32", "<f"),
    7: ("bool", "<?"),
    10: ("uint64", "<Q"),
    11: ("int64", "<q"),
    12: ("float64", "<d"),
}
STRING, ARRAY = 8, 9

# Unquantized GGML types, read as they are stored: their names are safetensors' names for the same
# types, so the elementwise statistics take their exact paths (counted tables for 8- and 16-bit).
PLAIN_STORAGE = {"F32": "<f4", "F16": "<f2", "BF16": "<u2", "F64": "<f8", "I8": "i1", "I16": "<i2", "I32": "<i4"}
PLAIN_STORAGE["I64"] = "<i8"

MetadataValue = str | int | float | bool


@dataclass(frozen=True)
class GgufTensorInfo:
    """One tensor record of the header, validated against the file."""

    name: str
    type_name: str
    """The GGML type (``Q4_1``, ``F32``, ...)."""
    shape: tuple[int, ...]
    """In numpy order (GGUF lists dimensions innermost first; this is the reverse)."""
    offset: int
    """Absolute byte offset of the tensor's data in the file."""
    stored_bytes: int

    @property
    def elements(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class GgufHeader:
    """What a GGUF file declares: its version, scalar metadata, array lengths and tensors."""

    version: int
    alignment: int
    metadata: dict[str, MetadataValue]
    """Every scalar key (strings, numbers, booleans), as declared by the file."""
    array_lengths: dict[str, int]
    """Every array key and its number of items (e.g. the tokenizer's vocabulary)."""
    tensors: list[GgufTensorInfo]
    data_start: int


class _Cursor:
    """Reads little-endian values from a mapped file, refusing to run past its end."""

    def __init__(self, path: Path, buffer: mmap.mmap | bytes) -> None:
        self.path, self.buffer, self.position = path, buffer, 0

    def take(self, size: int, what: str) -> int:
        """Claim ``size`` bytes for ``what``; return where they start."""
        start = self.position
        if size < 0 or start + size > len(self.buffer):
            raise ModelFileError(
                f"{self.path}: GGUF {what} needs {size} bytes at byte {start}, past the end of the "
                f"{len(self.buffer)}-byte file. {FIX}"
            )
        self.position += size
        return start

    def scalar(self, form: str, what: str) -> Any:
        start = self.take(struct.calcsize(form), what)
        return struct.unpack_from(form, self.buffer, start)[0]

    def string(self, what: str) -> str:
        length = self.scalar("<Q", f"length of {what}")
        start = self.take(length, what)
        try:
            return bytes(self.buffer[start : start + length]).decode("utf-8")
        except UnicodeDecodeError:
            raise ModelFileError(f"{self.path}: GGUF {what} at byte {start} is not UTF-8. {FIX}") from None


def _quant_sizes() -> dict[str, tuple[int, int]]:
    """GGML type name -> (elements per block, bytes per block), from the gguf package."""
    try:
        import gguf
    except ImportError:
        raise ModelFileError("reading GGUF files needs the `gguf` package. Fix: pip install 'reporter[gguf]'") from None
    return {kind.name: sizes for kind, sizes in gguf.GGML_QUANT_SIZES.items()}


def read_gguf_header(path: Path) -> GgufHeader:
    """Parse and validate a GGUF header; tensors are listed in file order.

    Raises:
        ModelFileError: naming the file, the key or tensor at fault, and what is wrong.
    """
    sizes = _quant_sizes()
    with path.open("rb") as handle:
        file_size = path.stat().st_size
        if file_size < 24:
            raise ModelFileError(f"{path}: not a GGUF file (shorter than its 24-byte preamble). {FIX}")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buffer:
            return _parse(path, _Cursor(path, buffer), sizes, file_size)


def _parse(path: Path, cursor: _Cursor, sizes: dict[str, tuple[int, int]], file_size: int) -> GgufHeader:
    if bytes(cursor.buffer[:4]) != MAGIC:
        raise ModelFileError(f"{path}: not a GGUF file (it does not start with 'GGUF'). Fix: name a .gguf file")
    cursor.position = 4
    version = cursor.scalar("<I", "version")
    if version not in SUPPORTED_VERSIONS:
        swapped = struct.unpack("<I", struct.pack(">I", version))[0]
        hint = "a big-endian file; convert it to little-endian" if swapped in SUPPORTED_VERSIONS else "re-export it"
        raise ModelFileError(
            f"{path}: GGUF version {version} is not supported (versions {', '.join(map(str, SUPPORTED_VERSIONS))} "
            f"are). Fix: {hint} with a current llama.cpp"
        )
    tensor_count = cursor.scalar("<Q", "tensor count")
    key_count = cursor.scalar("<Q", "metadata key count")
    # Each key/value pair takes at least 13 bytes and each tensor record at least 24: counts that
    # cannot fit are refused before any loop runs over them.
    if key_count * 13 + tensor_count * 24 > file_size:
        raise ModelFileError(
            f"{path}: GGUF header declares {key_count} metadata keys and {tensor_count} tensors, more than "
            f"a {file_size}-byte file can hold. {FIX}"
        )
    metadata: dict[str, MetadataValue] = {}
    array_lengths: dict[str, int] = {}
    for index in range(key_count):
        key = cursor.string(f"metadata key #{index}")
        if key in metadata or key in array_lengths:
            raise ModelFileError(f"{path}: GGUF metadata key {key!r} appears twice. {FIX}")
        kind = cursor.scalar("<I", f"type of metadata key {key!r}")
        if kind == ARRAY:
            array_lengths[key] = _skip_array(cursor, key, depth=1)
        else:
            metadata[key] = _value(cursor, kind, key)
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or isinstance(alignment, bool) or alignment <= 0 or alignment % 8:
        raise ModelFileError(
            f"{path}: GGUF metadata key 'general.alignment' is {alignment!r}; "
            f"it must be a positive multiple of 8. {FIX}"
        )
    records = [_tensor_record(cursor, index, sizes) for index in range(tensor_count)]
    data_start = -(-cursor.position // alignment) * alignment
    tensors = _place_tensors(path, records, data_start=data_start, alignment=alignment, file_size=file_size)
    return GgufHeader(
        version=version,
        alignment=alignment,
        metadata=metadata,
        array_lengths=array_lengths,
        tensors=tensors,
        data_start=data_start,
    )


def _value(cursor: _Cursor, kind: int, key: str) -> MetadataValue:
    if kind == STRING:
        return cursor.string(f"value of metadata key {key!r}")
    if kind not in SCALAR_TYPES:
        raise ModelFileError(f"{cursor.path}: GGUF metadata key {key!r} has unknown value type {kind}. {FIX}")
    value = cursor.scalar(SCALAR_TYPES[kind][1], f"value of metadata key {key!r}")
    return float(value) if kind in (6, 12) else value


def _skip_array(cursor: _Cursor, key: str, *, depth: int) -> int:
    """Step over an array's items (checking each string's length); return how many there are."""
    if depth > MAX_NESTING:
        raise ModelFileError(f"{cursor.path}: GGUF metadata key {key!r} nests arrays deeper than {MAX_NESTING}. {FIX}")
    kind = cursor.scalar("<I", f"item type of metadata array {key!r}")
    count = cursor.scalar("<Q", f"length of metadata array {key!r}")
    if kind in SCALAR_TYPES:
        cursor.take(count * struct.calcsize(SCALAR_TYPES[kind][1]), f"items of metadata array {key!r}")
    elif kind == STRING:
        if count * 8 > len(cursor.buffer) - cursor.position:
            raise ModelFileError(
                f"{cursor.path}: GGUF metadata array {key!r} declares {count} strings, more than the file holds. {FIX}"
            )
        for index in range(count):
            length = cursor.scalar("<Q", f"length of item {index} of metadata array {key!r}")
            cursor.take(length, f"item {index} of metadata array {key!r}")
    elif kind == ARRAY:
        for _ in range(count):
            _skip_array(cursor, key, depth=depth + 1)
    else:
        raise ModelFileError(f"{cursor.path}: GGUF metadata array {key!r} has unknown item type {kind}. {FIX}")
    return int(count)


@dataclass(frozen=True)
class _Record:
    name: str
    type_name: str
    dims: tuple[int, ...]  # GGUF order, innermost first
    relative_offset: int
    stored_bytes: int


def _tensor_record(cursor: _Cursor, index: int, sizes: dict[str, tuple[int, int]]) -> _Record:
    path = cursor.path
    name = cursor.string(f"name of tensor #{index}")
    dimensions = cursor.scalar("<I", f"dimension count of tensor {name!r}")
    if not 1 <= dimensions <= MAX_DIMENSIONS:
        raise ModelFileError(f"{path}: GGUF tensor {name!r} declares {dimensions} dimensions (1 to 4 allowed). {FIX}")
    dims = tuple(cursor.scalar("<Q", f"shape of tensor {name!r}") for _ in range(dimensions))
    kind = cursor.scalar("<I", f"type of tensor {name!r}")
    offset = cursor.scalar("<Q", f"offset of tensor {name!r}")
    type_name = _type_name(kind)
    if type_name not in sizes:
        raise ModelFileError(f"{path}: GGUF tensor {name!r} has unknown type {kind}. Fix: re-export with llama.cpp")
    block, block_bytes = sizes[type_name]
    if dims[0] % block:
        raise ModelFileError(
            f"{path}: GGUF tensor {name!r} of type {type_name} has rows of {dims[0]} values, not a multiple of "
            f"its {block}-value blocks. {FIX}"
        )
    if 0 in dims:
        raise ModelFileError(f"{path}: GGUF tensor {name!r} has an empty dimension in its shape {list(dims)}. {FIX}")
    return _Record(name, type_name, dims, offset, math.prod(dims) // block * block_bytes)


def _type_name(kind: int) -> str:
    import gguf

    try:
        return gguf.GGMLQuantizationType(kind).name
    except ValueError:
        return f"type {kind}"


def _place_tensors(
    path: Path, records: list[_Record], *, data_start: int, alignment: int, file_size: int
) -> list[GgufTensorInfo]:
    """Check every tensor's bytes: aligned, inside the file, not shared with another tensor."""
    names: set[str] = set()
    tensors = []
    for record in records:
        if record.name in names:
            raise ModelFileError(f"{path}: GGUF tensor {record.name!r} is declared twice. {FIX}")
        names.add(record.name)
        if record.relative_offset % alignment:
            raise ModelFileError(
                f"{path}: GGUF tensor {record.name!r} starts at data offset {record.relative_offset}, not a multiple "
                f"of the file's alignment {alignment}. {FIX}"
            )
        start = data_start + record.relative_offset
        if start + record.stored_bytes > file_size:
            raise ModelFileError(
                f"{path}: GGUF tensor {record.name!r} ({record.type_name}, shape {list(record.dims)}) needs bytes "
                f"{start}..{start + record.stored_bytes} but the file has {file_size}. {FIX}"
            )
        tensors.append(
            GgufTensorInfo(
                name=record.name,
                type_name=record.type_name,
                shape=tuple(reversed(record.dims)),
                offset=start,
                stored_bytes=record.stored_bytes,
            )
        )
    previous: GgufTensorInfo | None = None
    for tensor in sorted(tensors, key=lambda t: t.offset):
        if previous is not None and tensor.offset < previous.offset + previous.stored_bytes:
            raise ModelFileError(
                f"{path}: GGUF tensors {previous.name!r} and {tensor.name!r} overlap (bytes from {tensor.offset}). "
                f"{FIX}"
            )
        previous = tensor
    return tensors


def _raw(path: Path, tensor: GgufTensorInfo) -> np.ndarray:
    """The tensor's stored bytes, memory-mapped, as rows of its innermost dimension."""
    rows = tensor.elements // tensor.shape[-1]
    return np.memmap(path, dtype=np.uint8, mode="r", offset=tensor.offset, shape=(rows, tensor.stored_bytes // rows))


def iter_gguf_tensors(path: Path, *, decode: bool = True) -> Iterator[StoredTensor]:
    """Yield every tensor in name order, one at a time.

    With ``decode``, quantized tensors are dequantised to float32 (with ``gguf.quants.dequantize``)
    and carry their stored type and size; unquantized ones are memory-mapped as stored. Without it,
    every tensor is its raw stored bytes under its GGML type name (for fingerprints).
    """
    from gguf import GGMLQuantizationType
    from gguf.quants import dequantize

    header = read_gguf_header(path)
    for tensor in sorted(header.tensors, key=lambda t: t.name):
        raw = _raw(path, tensor)
        if not decode:
            yield StoredTensor(name=tensor.name, dtype=tensor.type_name, shape=tensor.shape, data=raw.reshape(-1))
        elif tensor.type_name in PLAIN_STORAGE:
            values = raw.reshape(-1).view(PLAIN_STORAGE[tensor.type_name])
            yield StoredTensor(name=tensor.name, dtype=tensor.type_name, shape=tensor.shape, data=values)
        else:
            with np.errstate(all="ignore"):  # a block scale of ±Inf or NaN gives NaN values, counted as such
                values = dequantize(raw, GGMLQuantizationType[tensor.type_name]).reshape(-1)
            yield StoredTensor(
                name=tensor.name,
                dtype="F32",
                shape=tensor.shape,
                data=values,
                quantization=tensor.type_name,
                stored_bytes=tensor.stored_bytes,
            )
