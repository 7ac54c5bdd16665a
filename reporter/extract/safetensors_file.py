"""Reading safetensors files one tensor at a time, with the header validated before any allocation.

A weight file from a stranger may lie about its header length, offsets or shapes; every claim is
checked against the file size so a malformed file gives a clear error, never a crash or a huge
allocation. Tensors are memory-mapped views, so a checkpoint larger than memory can be summarised.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reporter.errors import ModelFileError

MAX_HEADER_BYTES = 100 * 1024 * 1024

# safetensors dtype -> (numpy storage dtype, bytes per element). bfloat16 is kept as raw uint16
# and widened by the statistics code, because numpy has no bfloat16.
DTYPES: dict[str, tuple[str, int]] = {
    "F64": ("<f8", 8),
    "F32": ("<f4", 4),
    "F16": ("<f2", 2),
    "BF16": ("<u2", 2),
    "I64": ("<i8", 8),
    "I32": ("<i4", 4),
    "I16": ("<i2", 2),
    "I8": ("i1", 1),
    "U8": ("u1", 1),
    "BOOL": ("?", 1),
}


@dataclass(frozen=True)
class StoredTensor:
    """One stored tensor: its dtype (safetensors' names) and its values, memory-mapped where stored
    as they are."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    data: np.ndarray
    quantization: str | None = None
    """The stored block type (GGUF's ``Q4_1``, ...) when ``data`` holds dequantised values."""
    stored_bytes: int | None = None
    """The stored size where it differs from ``data``'s (quantized tensors)."""
    outputs_last: bool = False
    """Whether the layer's outputs are the last axis (a Keras kernel: Dense (in, out), Conv2D
    (kh, kw, in, out)) rather than the first (PyTorch's and ONNX's (out, in, …)): the spectra read
    every tensor as outputs × the rest, so the same network gives the same matrices in any format."""


def read_header(path: Path) -> tuple[dict[str, dict], int]:
    """Parse and validate the JSON header; return it and the offset where tensor data starts.

    Raises:
        ModelFileError: naming the file and what is wrong with it.
    """
    size = path.stat().st_size
    with path.open("rb") as handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            raise ModelFileError(f"{path}: not a safetensors file (shorter than 8 bytes). Fix: re-export the weights")
        (header_len,) = struct.unpack("<Q", prefix)
        if header_len > min(MAX_HEADER_BYTES, size - 8):
            raise ModelFileError(
                f"{path}: safetensors header claims {header_len} bytes but the file has {size}. "
                "Fix: the file is truncated or corrupt; re-export or re-download it"
            )
        try:
            header = json.loads(handle.read(header_len))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelFileError(
                f"{path}: safetensors header is not valid JSON ({exc}). Fix: re-export the weights"
            ) from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{path}: safetensors header is not a JSON object. Fix: re-export the weights")
    header.pop("__metadata__", None)
    data_start = 8 + header_len
    for name, entry in header.items():
        _check_entry(path, name, entry, size - data_start)
    _check_layout(path, header, size - data_start)
    return header, data_start


def _check_entry(path: Path, name: str, entry: object, data_size: int) -> None:
    if not isinstance(entry, dict) or entry.get("dtype") not in DTYPES:
        raise ModelFileError(f"{path}: tensor {name!r} has an unknown or missing dtype. Fix: re-export the weights")
    shape, offsets = entry.get("shape"), entry.get("data_offsets")
    if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
        raise ModelFileError(f"{path}: tensor {name!r} has an invalid shape {shape!r}. Fix: re-export the weights")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
        raise ModelFileError(f"{path}: tensor {name!r} has invalid data_offsets. Fix: re-export the weights")
    begin, end = offsets
    if not 0 <= begin <= end <= data_size:
        raise ModelFileError(
            f"{path}: tensor {name!r} declares bytes {begin}..{end} (shape {shape}) but the data "
            f"section has {data_size} bytes. Fix: the file is truncated or corrupt"
        )
    expected = math.prod(shape) * DTYPES[entry["dtype"]][1]
    if end - begin != expected:
        raise ModelFileError(
            f"{path}: tensor {name!r} declares bytes {begin}..{end} ({end - begin} bytes) but its dtype "
            f"{entry['dtype']} and shape {shape} need {expected}. Fix: the file is corrupt; re-export the weights"
        )


def _check_layout(path: Path, header: dict[str, dict], data_size: int) -> None:
    """The format's layout rule: the byte ranges, in offset order, tile the data section exactly.

    The safetensors library refuses overlapping tensors, holes and trailing bytes ("not fully
    covered"); so does reporter, because a header length that is off by a few bytes shifts every
    range and would otherwise be read as misaligned, plausible-looking garbage.
    """
    position, previous = 0, None
    for name, entry in sorted(header.items(), key=lambda item: tuple(item[1]["data_offsets"])):
        begin, end = entry["data_offsets"]
        if begin != position:
            what = f"overlaps tensor {previous!r}" if begin < position else f"leaves {begin - position} bytes unused"
            where = f"after tensor {previous!r}" if previous else "at the start of the data section"
            raise ModelFileError(
                f"{path}: tensor {name!r} starts at byte {begin}, which {what} ({where} the data runs to byte "
                f"{position}); safetensors requires contiguous, non-overlapping tensors. "
                "Fix: the file is corrupt or hand-edited; re-export it with safetensors' save_file"
            )
        position, previous = end, name
    if position != data_size:
        last = f"the last tensor, {previous!r}, ends" if previous else "no tensor is declared, the data ends"
        raise ModelFileError(
            f"{path}: the data section has {data_size} bytes but {last} at byte {position}: the file is not "
            "fully covered by its tensors (a wrong header length or trailing bytes). "
            "Fix: the file is corrupt; re-export or re-download it"
        )


def iter_tensors(path: Path) -> Iterator[StoredTensor]:
    """Yield every tensor in name order as a read-only memory-mapped array."""
    header, data_start = read_header(path)
    for name in sorted(header):
        entry = header[name]
        storage, width = DTYPES[entry["dtype"]]
        begin, end = entry["data_offsets"]
        count = (end - begin) // width
        if count == 0:
            data = np.empty(0, dtype=storage)
        else:
            data = np.memmap(path, dtype=storage, mode="r", offset=data_start + begin, shape=(count,))
        yield StoredTensor(name=name, dtype=entry["dtype"], shape=tuple(entry["shape"]), data=data)


def weight_files_in(folder: Path) -> list[Path]:
    """The safetensors files of a transformers folder, following a sharded checkpoint's index."""
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ModelFileError(f"{index}: not a valid shard index ({exc}). Fix: re-export the checkpoint") from None
        shards = sorted({str(v) for v in weight_map.values()})
        paths = [(folder / s).resolve() for s in shards]
        for shard, resolved in zip(shards, paths, strict=True):
            if not resolved.is_relative_to(folder.resolve()) or not resolved.is_file():
                raise ModelFileError(f"{index}: shard {shard!r} is missing or outside the folder. Fix: add the shard")
        return paths
    return sorted(folder.glob("*.safetensors"))
