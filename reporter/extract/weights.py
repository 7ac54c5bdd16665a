"""Weight statistics and fingerprints, read from safetensors files one tensor at a time.

Trained models are saved as safetensors first and read back through the same path, so what the
report describes is exactly the checkpoint whose SHA-256 it publishes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from reporter.extract.safetensors_file import StoredTensor, iter_tensors
from reporter.facts import TensorFacts, WeightFacts

CHUNK_ELEMENTS = 1 << 22
DTYPE_NAMES = {
    "F64": "float64",
    "F32": "float32",
    "F16": "float16",
    "BF16": "bfloat16",
    "I64": "int64",
    "I32": "int32",
    "I16": "int16",
    "I8": "int8",
    "U8": "uint8",
    "BOOL": "bool",
}


def as_float64(chunk: np.ndarray, dtype: str) -> np.ndarray:
    """Widen a chunk of stored values to float64 exactly (bfloat16 arrives as raw uint16)."""
    if dtype == "BF16":
        return (chunk.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return chunk.astype(np.float64)


def summarise_tensor(tensor: StoredTensor) -> TensorFacts:
    """Statistics of one tensor over its finite values, accumulated chunk-wise in float64.

    Mean and variance are merged across chunks with Chan's parallel update, which stays exact
    where a running sum of squares would cancel. NaN and ±Inf are counted and left out.
    """
    flat = tensor.data.reshape(-1)
    count, mean, m2 = 0, 0.0, 0.0
    sum_squares, zeros, nans, infs = 0.0, 0, 0, 0
    low, high = np.inf, -np.inf
    for start in range(0, flat.size, CHUNK_ELEMENTS):
        values = as_float64(np.asarray(flat[start : start + CHUNK_ELEMENTS]), tensor.dtype)
        finite = np.isfinite(values)
        nans += int(np.isnan(values).sum())
        infs += int((~finite).sum()) - int(np.isnan(values).sum())
        values = values[finite] if not finite.all() else values
        if values.size == 0:
            continue
        chunk_mean = float(values.mean())
        chunk_m2 = float(((values - chunk_mean) ** 2).sum())
        total = count + values.size
        delta = chunk_mean - mean
        mean += delta * values.size / total
        m2 += chunk_m2 + delta * delta * count * values.size / total
        count = total
        sum_squares += float(np.dot(values, values))
        zeros += int((values == 0).sum())
        low, high = min(low, float(values.min())), max(high, float(values.max()))
    width = tensor.data.dtype.itemsize
    empty = count == 0
    return TensorFacts(
        name=tensor.name,
        shape=list(tensor.shape),
        dtype=DTYPE_NAMES[tensor.dtype],
        numel=int(flat.size),
        bytes=int(flat.size) * width,
        mean=None if empty else mean,
        std=None if empty else float(np.sqrt(m2 / count)),
        min=None if empty else low,
        max=None if empty else high,
        abs_max=None if empty else max(abs(low), abs(high)),
        l2_norm=None if empty else float(np.sqrt(sum_squares)),
        zero_fraction=None if flat.size == 0 else zeros / flat.size,
        nan_count=nans,
        inf_count=infs,
    )


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def extract_weights(
    files: Iterable[Path],
    *,
    parameter_names: set[str] | None,
    trainable_names: set[str] | None,
) -> WeightFacts:
    """Summarise every tensor in the given safetensors files.

    Args:
        files: the checkpoint's files (one, or the shards of a sharded checkpoint).
        parameter_names: which tensors are parameters rather than buffers; None counts all.
        trainable_names: which parameters were trainable; None treats all parameters as such.
    """
    tensors: list[TensorFacts] = []
    fingerprint = hashlib.sha256()
    file_hashes: dict[str, str] = {}
    for path in files:
        file_hashes[path.name] = sha256_file(path)
        for stored in iter_tensors(path):
            tensors.append(summarise_tensor(stored))
            fingerprint.update(f"{stored.name}\0{stored.dtype}\0{list(stored.shape)}\0".encode())
            fingerprint.update(memoryview(np.ascontiguousarray(stored.data)).cast("B"))
    tensors.sort(key=lambda t: t.name)
    parameters = [t for t in tensors if parameter_names is None or t.name in parameter_names]
    trainable = [t for t in parameters if trainable_names is None or t.name in trainable_names]
    by_dtype: dict[str, int] = {}
    for t in tensors:
        by_dtype[t.dtype] = by_dtype.get(t.dtype, 0) + t.bytes
    return WeightFacts(
        parameters_total=sum(t.numel for t in parameters),
        parameters_trainable=sum(t.numel for t in trainable),
        tensor_count=len(tensors),
        bytes_by_dtype=dict(sorted(by_dtype.items())),
        tensors=tensors,
        fingerprint=fingerprint.hexdigest(),
        files=file_hashes,
    )
