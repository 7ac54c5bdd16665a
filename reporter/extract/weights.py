"""Weight facts: per-tensor statistics, per-layer spectra, totals and fingerprints.

Everything is read from safetensors, GGUF or Keras files one tensor at a time (memory-mapped, or
dequantised one tensor at a time for quantized GGUF blocks), so a checkpoint larger than memory can
be described; the elementwise pass runs on every core. A quantized file also gets what only it
has: the stored type of every tensor, bits per weight, and the metadata the file declares.

Trained models are saved as safetensors first and read back through the same path, so what the
report describes is exactly the checkpoint whose SHA-256 it publishes.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reporter.extract.elementwise import histogram_range, summarise_elements
from reporter.extract.gguf_file import GgufHeader, iter_gguf_tensors, read_gguf_header
from reporter.extract.keras_file import is_keras, iter_keras_tensors
from reporter.extract.onnx_file import external_files, is_onnx, iter_onnx_tensors
from reporter.extract.safetensors_file import StoredTensor, iter_tensors
from reporter.extract.spectral import SpectralOptions, analyse_spectra, depth_key
from reporter.facts import (
    FileMetadataFacts,
    Histogram,
    NotReported,
    QuantizationFacts,
    QuantizedLayerFacts,
    QuantizedTypeFacts,
    TensorFacts,
    WeightFacts,
)

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
NOT_QUANTIZED = "the weights are stored unquantized (safetensors), each tensor in its numpy type"
NO_FILE_METADATA = "safetensors files declare no model metadata; the spec's fields are the only ones"
KERAS_NOT_QUANTIZED = "the weights are stored unquantized (Keras HDF5), each tensor in its numpy type"
KERAS_NO_METADATA = "Keras files declare no license or authors; the spec's fields are the only ones"
ONNX_NOT_QUANTIZED = "the weights are stored as the ONNX graph's initializers, each in its own type"
ONNX_NO_METADATA = "the ONNX graph's producer and opset are on the training page; it declares no license or authors"


def is_gguf(path: Path) -> bool:
    return path.suffix == ".gguf"


def stored_tensors(path: Path, *, decode: bool = True) -> Iterator[StoredTensor]:
    """Every tensor of a safetensors, GGUF or Keras file, one at a time, in name order (see
    :func:`iter_gguf_tensors` for what ``decode`` does to quantized tensors)."""
    if is_gguf(path):
        return iter_gguf_tensors(path, decode=decode)
    if is_onnx(path):
        return iter_onnx_tensors(path)
    return iter_keras_tensors(path) if is_keras(path) else iter_tensors(path)


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
        dtype=tensor.quantization or DTYPE_NAMES[tensor.dtype],
        numel=size,
        bytes=size * tensor.data.dtype.itemsize if tensor.stored_bytes is None else tensor.stored_bytes,
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
    """SHA-256 over every tensor's name, dtype, shape and stored bytes, in file then name order.

    Unlike a file hash it does not depend on how the tensors were laid out or what metadata the
    file carries, so the same state dict saved twice has the same fingerprint. Quantized tensors
    are hashed as their stored blocks, under their block type.
    """
    fingerprint = hashlib.sha256()
    for path in files:
        for stored in stored_tensors(path, decode=False):
            fingerprint.update(f"{stored.name}\0{stored.dtype}\0{list(stored.shape)}\0".encode())
            fingerprint.update(np.ascontiguousarray(stored.data).view(np.uint8).data)
    return fingerprint.hexdigest()


def tensor_statistics(files: list[Path], options: WeightOptions) -> list[TensorFacts]:
    """Elementwise statistics of every tensor, one tensor per core at a time.

    Whole tensors go to the threads rather than slices of one tensor: a 2048 x 2048 tensor is
    too small to split profitably. Tensors are handed over as the threads take them (at most two
    per thread waiting), not all at once: a mapped safetensors tensor costs nothing until read,
    but a dequantised GGUF tensor is real memory. Only the tensors being summarised are resident,
    so peak memory stays within a few times the largest tensor (0.5 GB for 13.5 GB,
    bench/weights.py; 419 MiB for the 98 MB GGUF example, bench/gguf_weights.py).
    """
    workers = os.cpu_count() or 1
    waiting = threading.BoundedSemaphore(2 * workers)

    def summarise(tensor: StoredTensor) -> TensorFacts:
        try:
            return summarise_tensor(tensor, options)
        finally:
            waiting.release()

    futures = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for path in files:
            for tensor in stored_tensors(path):
                waiting.acquire()
                futures.append(pool.submit(summarise, tensor))
        return [future.result() for future in futures]


def extract_weights(
    files: Iterable[Path],
    *,
    parameter_names: set[str] | None,
    trainable_names: set[str] | None,
    options: WeightOptions | None = None,
    spec_license: str | None = None,
) -> WeightFacts:
    """Summarise every tensor in the given safetensors, GGUF or Keras files, one tensor at a time.

    The two SHA-256 passes (file bytes, tensor fingerprint) run on their own threads while the
    statistics are computed: at about 1 GB/s each on this kind of machine they would otherwise
    take several times longer than the statistics.

    Args:
        files: the checkpoint's files (one, or the shards of a sharded checkpoint).
        parameter_names: which tensors are parameters rather than buffers; None counts all.
        trainable_names: which parameters were trainable; None treats all parameters as such.
        options: thresholds, histogram bins and spectral limits.
        spec_license: the license the spec declares, which a GGUF file's own is compared with.
    """
    options = options or WeightOptions()
    files = list(files)
    with ThreadPoolExecutor(max_workers=2) as hashing:
        hashed = files + [extra for path in files if is_onnx(path) for extra in external_files(path)]
        file_hashes = {path.name: hashing.submit(sha256_file, path) for path in hashed}
        fingerprint = hashing.submit(fingerprint_tensors, files)
        tensors = tensor_statistics(files, options)
        layers, spectral = analyse_spectra((t for path in files for t in stored_tensors(path)), options.spectral)
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
        **_quantized_file_facts(files, tensors, spec_license=spec_license),
    )


def _quantized_file_facts(
    files: list[Path], tensors: list[TensorFacts], *, spec_license: str | None
) -> dict[str, QuantizationFacts | FileMetadataFacts | NotReported]:
    """The quantization report and declared metadata of a GGUF file; not reported for safetensors."""
    ggufs = [path for path in files if is_gguf(path)]
    if any(is_keras(path) for path in files):
        return {
            "quantization": NotReported(not_reported=KERAS_NOT_QUANTIZED),
            "file_metadata": NotReported(not_reported=KERAS_NO_METADATA),
        }
    if any(is_onnx(path) for path in files):
        return {
            "quantization": NotReported(not_reported=ONNX_NOT_QUANTIZED),
            "file_metadata": NotReported(not_reported=ONNX_NO_METADATA),
        }
    if not ggufs:
        return {
            "quantization": NotReported(not_reported=NOT_QUANTIZED),
            "file_metadata": NotReported(not_reported=NO_FILE_METADATA),
        }
    header = read_gguf_header(ggufs[0])
    return {
        "quantization": quantization_facts(tensors, file_format=f"GGUF version {header.version}"),
        "file_metadata": file_metadata_facts(header, spec_license=spec_license),
    }


def _bits(stored_bytes: int, elements: int) -> float:
    return 8 * stored_bytes / elements if elements else 0.0


def layer_of(name: str) -> str:
    """The layer a tensor belongs to: GGUF's block (`blk.3`), else the tensor's name without its
    last part (`output_norm.weight` -> `output_norm`)."""
    parts = name.split(".")
    if len(parts) > 2 and parts[1].isdigit():
        return ".".join(parts[:2])
    return ".".join(parts[:-1]) or name


def quantization_facts(tensors: list[TensorFacts], *, file_format: str) -> QuantizationFacts:
    """Bytes and bits per weight by stored type and by layer."""
    by_type: dict[str, list[TensorFacts]] = {}
    by_layer: dict[str, list[TensorFacts]] = {}
    for tensor in tensors:
        by_type.setdefault(tensor.dtype, []).append(tensor)
        by_layer.setdefault(layer_of(tensor.name), []).append(tensor)
    types = [
        QuantizedTypeFacts(
            type=kind,
            tensors=len(group),
            elements=sum(t.numel for t in group),
            bytes=sum(t.bytes for t in group),
            bits_per_weight=_bits(sum(t.bytes for t in group), sum(t.numel for t in group)),
        )
        for kind, group in by_type.items()
    ]
    layers = []
    for layer, group in sorted(by_layer.items(), key=lambda item: depth_key(item[0])):
        elements_by_type: dict[str, int] = {}
        for t in group:
            elements_by_type[t.dtype] = elements_by_type.get(t.dtype, 0) + t.numel
        layers.append(
            QuantizedLayerFacts(
                layer=layer,
                elements=sum(t.numel for t in group),
                bytes=sum(t.bytes for t in group),
                bits_per_weight=_bits(sum(t.bytes for t in group), sum(t.numel for t in group)),
                types=sorted(elements_by_type, key=lambda kind: (-elements_by_type[kind], kind)),
            )
        )
    return QuantizationFacts(
        format=file_format,
        bits_per_weight=_bits(sum(t.bytes for t in tensors), sum(t.numel for t in tensors)),
        types=sorted(types, key=lambda t: (-t.bytes, t.type)),
        layers=layers,
    )


def file_metadata_facts(header: GgufHeader, *, spec_license: str | None) -> FileMetadataFacts:
    """The file's scalar metadata and array sizes, and whether its license is the spec's."""
    declared = header.metadata.get("general.license")
    license_text = None if declared is None else str(declared)
    return FileMetadataFacts(
        metadata=dict(sorted(header.metadata.items())),
        arrays=dict(sorted(header.array_lengths.items())),
        license=license_text,
        license_agrees=license_agreement(license_text, spec_license),
    )


def license_agreement(declared: str | None, spec_license: str | None) -> bool | None:
    """Whether a file's declared license names the spec's (ignoring case and spaces); None if either is absent."""
    if declared is None or spec_license is None:
        return None
    return declared.strip().casefold() == spec_license.strip().casefold()


def with_spec_license(weights: WeightFacts, spec_license: str) -> WeightFacts:
    """The weight facts with the license check redone against the spec's current license: the
    license is card prose, which cached facts do not depend on."""
    metadata = weights.file_metadata
    if isinstance(metadata, NotReported):
        return weights
    agrees = license_agreement(metadata.license, spec_license)
    return weights.model_copy(update={"file_metadata": metadata.model_copy(update={"license_agrees": agrees})})
