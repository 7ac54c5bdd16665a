"""The weights, tensor by tensor: statistics, histograms, spectra, quantization and file metadata."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reporter.facts.base import Fact, NotReported


class Histogram(Fact):
    """Counts of finite values in equal bins between the tensor's minimum and maximum."""

    low: float
    high: float
    counts: list[int] = Field(
        description="One count per bin, by numpy's binning rule. float32 values are placed by their "
        "bfloat16 truncation (the top 16 bits), which can move a value lying within 2^-8 of a bin edge "
        "into the neighbouring bin; every other dtype is binned exactly."
    )


class TensorFacts(Fact):
    """Statistics of one parameter or buffer, accumulated in float64."""

    name: str
    shape: list[int]
    dtype: str = Field(description="Stored type: a numpy name, or a quantized block type (GGUF's Q4_1, ...).")
    numel: int
    bytes: int = Field(description="Stored size (of the quantized blocks, for a quantized tensor).")
    mean: float | None
    std: float | None = Field(description="Population standard deviation.")
    min: float | None
    max: float | None
    abs_max: float | None
    l2_norm: float | None
    zero_fraction: float | None = Field(description="Fraction of elements exactly zero.")
    small_fraction: float | None = Field(description="Fraction of elements with |x| below the small threshold.")
    nan_count: int
    inf_count: int
    histogram: Histogram | None = Field(description="Null when the tensor has no finite value.")


class PowerLawFit(Fact):
    """The power-law fit of a layer's eigenvalue tail, as weightwatcher fits it."""

    alpha: float = Field(description="Exponent of the fitted density p(x) ~ x^-alpha above xmin.")
    xmin: float = Field(description="Smallest eigenvalue in the fitted tail (chosen to minimise ks_distance).")
    ks_distance: float = Field(description="Kolmogorov-Smirnov distance of the tail from the fit; lower is better.")
    sigma: float = Field(description="Standard error of alpha: (alpha - 1) / sqrt(tail size).")
    tail_size: int = Field(description="Eigenvalues at or above xmin.")


class LayerSpectrum(Fact):
    """Spectral facts of one weight matrix (eigenvalues of the smaller Gram matrix W^T W or W W^T)."""

    name: str
    rows: int = Field(description="Rows of the analysed matrix (a conv kernel is reshaped to out x rest).")
    columns: int
    frobenius_norm: float
    spectral_norm: float = Field(description="Largest singular value.")
    stable_rank: float = Field(description="Frobenius norm squared over spectral norm squared.")
    zero_rows: int = Field(description="Rows that are entirely zero.")
    zero_columns: int = Field(description="Columns that are entirely zero.")
    eigenvalues: int | None = Field(description="Eigenvalues computed; null when above the size cap.")
    fit: PowerLawFit | NotReported
    reading: Literal["over-trained", "typical", "under-trained", "not fitted"] = Field(
        description="weightwatcher's reading of alpha: below 2 over-trained, above 6 under-trained."
    )


class SpectralSettings(Fact):
    """How the spectral facts were computed, so that a reader can reproduce them."""

    min_side: int = Field(description="Matrices whose smaller side is below this are skipped.")
    max_side: int = Field(description="Above this smaller side, eigenvalues are not computed (the size cap).")
    eigenvalue_floor: float = Field(description="Eigenvalues at or below this are left out of the fit.")
    min_fit_eigenvalues: int = Field(description="Fewer eigenvalues above the floor than this: no fit.")
    skipped: dict[str, str] = Field(description="2-D tensors not analysed, with the reason.")


class QuantizedTypeFacts(Fact):
    """The tensors stored in one type (a quantized block type or a plain one) and their cost."""

    type: str
    tensors: int
    elements: int
    bytes: int
    bits_per_weight: float = Field(description="Stored bits per element: 8 x bytes / elements.")


class QuantizedLayerFacts(Fact):
    """One layer's tensors (GGUF's `blk.N`, or a tensor outside the blocks) and their stored types."""

    layer: str
    elements: int
    bytes: int
    bits_per_weight: float
    types: list[str] = Field(description="Stored types of its tensors, most elements first.")


class QuantizationFacts(Fact):
    """What only a quantized file has: the stored type of each tensor and what it costs in bits."""

    format: str = Field(description="The file format and version (e.g. 'GGUF version 3').")
    bits_per_weight: float = Field(description="Stored bits per element over every tensor.")
    types: list[QuantizedTypeFacts] = Field(description="Most bytes first.")
    layers: list[QuantizedLayerFacts] = Field(description="In depth order.")


class FileMetadataFacts(Fact):
    """The weight file's own metadata, as declared by the file (not checked against the weights)."""

    metadata: dict[str, str | int | float | bool] = Field(
        description="Every scalar key of the general and architecture sections (GGUF's `general.*`, `llama.*`, ...)."
    )
    arrays: dict[str, int] = Field(description="Every array key and its number of items (e.g. the vocabulary).")
    license: str | None = Field(description="The license the file declares (`general.license`); null if none.")
    license_agrees: bool | None = Field(
        description="Whether it names the spec's license (ignoring case); null when the file declares none."
    )


class WeightFacts(Fact):
    """The weights as published: totals, per-tensor statistics, spectra and fingerprints."""

    parameters_total: int
    parameters_trainable: int
    parameters_frozen: int
    tensor_count: int
    bytes_by_dtype: dict[str, int]
    small_threshold: float = Field(description="Threshold of each tensor's small_fraction.")
    tensors: list[TensorFacts]
    layers: list[LayerSpectrum] = Field(description="Every analysed 2-D weight matrix, in depth order.")
    spectral: SpectralSettings
    fingerprint: str = Field(description="SHA-256 over tensor names, dtypes, shapes and bytes.")
    files: dict[str, str] = Field(description="Weight file name to the SHA-256 of its bytes.")
    quantization: QuantizationFacts | NotReported
    file_metadata: FileMetadataFacts | NotReported
