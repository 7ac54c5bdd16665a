"""Weight facts: per-tensor statistics, per-layer spectra, totals and fingerprints.

Everything is read from safetensors files one memory-mapped tensor at a time, so a checkpoint
larger than memory can be described; the elementwise pass runs on every core.

Trained models are saved as safetensors first and read back through the same path, so what the
report describes is exactly the checkpoint whose SHA-256 it publishes.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reporter.extract.elementwise import histogram_range, summarise_elements
from reporter.extract.safetensors_file import StoredTensor, iter_tensors
from reporter.extract.spectral import SpectralOptions, analyse_spectra
from reporter.facts import Histogram, TensorFacts, WeightFacts

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


@dataclass(frozen=True)
class WeightOptions:
    """Tunable parts of the weight facts; all of them are part of the cache key."""

    small_threshold: float = 1e-6
    histogram_bins: int = 64
    spectral: SpectralOptions = field(default_factory=SpectralOptions)


def summarise_tensor(tensor: StoredTensor, options: WeightOptions) -> TensorFacts:
    """Statistics of one tensor over its finite values (NaN and ±Inf are counted and left out)."""
    flat = tensor.data.reshape(-1)
    summary = summarise_elements(flat, tensor.dtype, small=options.small_threshold, bins=options.histogram_bins)
    m = summary.moments
    empty = m.count == 0
    size = int(flat.size)
    return TensorFacts(
        name=tensor.name,
        shape=list(tensor.shape),
        dtype=DTYPE_NAMES[tensor.dtype],
        numel=size,
        bytes=size * tensor.data.dtype.itemsize,
        mean=None if empty else m.mean,
        std=None if empty else math.sqrt(m.m2 / m.count),
        min=None if empty else m.low,
        max=None if empty else m.high,
        abs_max=None if empty else max(abs(m.low), abs(m.high)),
        l2_norm=None if empty else math.sqrt(m.sum_squares),
        zero_fraction=None if size == 0 else m.zeros / size,
        small_fraction=None if size == 0 else m.small / size,
        nan_count=m.nans,
        inf_count=m.infs,
        histogram=None if empty else _histogram(m.low, m.high, summary.histogram),
    )


def _histogram(low: float, high: float, counts: list[int]) -> Histogram:
    start, stop = histogram_range(low, high, len(counts))
    return Histogram(low=start, high=stop, counts=counts)


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint_tensors(files: list[Path]) -> str:
    """SHA-256 over every tensor's name, dtype, shape and bytes, in file then name order.

    Unlike a file hash it does not depend on how the tensors were laid out or what metadata the
    file carries, so the same state dict saved twice has the same fingerprint.
    """
    fingerprint = hashlib.sha256()
    for path in files:
        for stored in iter_tensors(path):
            fingerprint.update(f"{stored.name}\0{stored.dtype}\0{list(stored.shape)}\0".encode())
            fingerprint.update(np.ascontiguousarray(stored.data).view(np.uint8).data)
    return fingerprint.hexdigest()


def tensor_statistics(files: list[Path], options: WeightOptions) -> list[TensorFacts]:
    """Elementwise statistics of every tensor, one tensor per core at a time.

    Whole tensors go to the threads rather than slices of one tensor: a 2048 x 2048 tensor is
    too small to split profitably. Every tensor is mapped up front, but only the pages of the
    tensors being summarised are resident, and a tensor's mapping closes once it is done, so peak
    memory stays within a few times the largest tensor (0.5 GB for 13.5 GB, bench/weights.py).
    """
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        stored = (tensor for path in files for tensor in iter_tensors(path))
        return list(pool.map(lambda tensor: summarise_tensor(tensor, options), stored))


def extract_weights(
    files: Iterable[Path],
    *,
    parameter_names: set[str] | None,
    trainable_names: set[str] | None,
    options: WeightOptions | None = None,
) -> WeightFacts:
    """Summarise every tensor in the given safetensors files, one memory-mapped tensor at a time.

    The two SHA-256 passes (file bytes, tensor fingerprint) run on their own threads while the
    statistics are computed: at about 1 GB/s each on this kind of machine they would otherwise
    take several times longer than the statistics.

    Args:
        files: the checkpoint's files (one, or the shards of a sharded checkpoint).
        parameter_names: which tensors are parameters rather than buffers; None counts all.
        trainable_names: which parameters were trainable; None treats all parameters as such.
        options: thresholds, histogram bins and spectral limits.
    """
    options = options or WeightOptions()
    files = list(files)
    with ThreadPoolExecutor(max_workers=2) as hashing:
        file_hashes = {path.name: hashing.submit(sha256_file, path) for path in files}
        fingerprint = hashing.submit(fingerprint_tensors, files)
        tensors = tensor_statistics(files, options)
        layers, spectral = analyse_spectra((t for path in files for t in iter_tensors(path)), options.spectral)
    tensors.sort(key=lambda t: t.name)
    parameters = [t for t in tensors if parameter_names is None or t.name in parameter_names]
    trainable = [t for t in parameters if trainable_names is None or t.name in trainable_names]
    by_dtype: dict[str, int] = {}
    for t in tensors:
        by_dtype[t.dtype] = by_dtype.get(t.dtype, 0) + t.bytes
    total, trainable_count = sum(t.numel for t in parameters), sum(t.numel for t in trainable)
    return WeightFacts(
        parameters_total=total,
        parameters_trainable=trainable_count,
        parameters_frozen=total - trainable_count,
        tensor_count=len(tensors),
        bytes_by_dtype=dict(sorted(by_dtype.items())),
        small_threshold=options.small_threshold,
        tensors=tensors,
        layers=layers,
        spectral=spectral,
        fingerprint=fingerprint.result(),
        files={name: digest.result() for name, digest in file_hashes.items()},
    )
