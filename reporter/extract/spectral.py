"""Per-layer spectral facts: norms, stable rank and the weightwatcher power-law exponent alpha.

Heavy-tailed self-regularisation theory reads a layer's training quality from the empirical
spectral density of its correlation matrix WᵀW: the tail follows a power law whose exponent alpha
is typically between 2 and 6; below 2 suggests over-training, above 6 under-training. The fit here
is weightwatcher's own (``WWFit``): for every candidate xmin the maximum-likelihood alpha of the
continuous power law, and the xmin whose Kolmogorov-Smirnov distance is least.

Speed comes from computing the eigenvalues of the *smaller* Gram matrix in float64 (one matrix
product and a symmetric eigensolver, batched across layers of equal shape, on the GPU when the
build has one) instead of an SVD of W, and from a compiled O(N²) scan for the fit. Matrices whose
smaller side exceeds the size cap skip the eigenvalues: their spectral norm comes from power
iteration and alpha is reported as not computed, with the cap to raise.

This module uses torch for its linear algebra (the only extractor that does), so the device choice
of the build applies.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numba
import numpy as np

from reporter.extract.safetensors_file import StoredTensor
from reporter.facts import LayerSpectrum, NotReported, PowerLawFit, SpectralSettings

if TYPE_CHECKING:
    import torch

FLOAT_DTYPES = {"F64", "F32", "F16", "BF16"}
POWER_ITERATIONS = 200
GRAM_BATCH_BYTES = 256 * 1024 * 1024
NON_FINITE_REASON = "holds NaN or infinite values (counted in its tensor statistics), so it has no spectrum"
OVERFLOW_REASON = "holds NaN or infinite values, or values whose squares overflow float64, so it has no spectrum"


@dataclass(frozen=True)
class SpectralOptions:
    """Limits of the spectral analysis; every one is published with the facts."""

    min_side: int = 20
    max_side: int = 4096
    eigenvalue_floor: float = 1e-5
    min_fit_eigenvalues: int = 50
    device: str = "cpu"


def depth_key(name: str) -> list[tuple[int, int | str]]:
    """Sort key that puts ``layer.10`` after ``layer.9`` (network depth, not string order)."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name) if part]


@numba.njit(cache=True)
def _power_law_scan(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """alpha and KS distance for every candidate xmin of sorted positive data (weightwatcher's WWFit)."""
    count = data.size
    logs = np.log(data)
    tail_log_sums = np.empty(count)
    running = 0.0
    for i in range(count - 1, -1, -1):
        running += logs[i]
        tail_log_sums[i] = running
    alphas = np.zeros(count - 1)
    distances = np.ones(count - 1)
    for i in range(count - 1):
        n = count - i
        alpha = 1.0 + n / (tail_log_sums[i] - n * logs[i])
        alphas[i] = alpha
        if alpha > 1.0:
            worst = 0.0
            for j in range(i, count):
                gap = abs(1.0 - (data[j] / data[i]) ** (1.0 - alpha) - (j - i) / n)
                if gap > worst:
                    worst = gap
            distances[i] = worst
    return alphas, distances


def fit_power_law(eigenvalues: np.ndarray, options: SpectralOptions) -> PowerLawFit | NotReported:
    """Fit the tail of the eigenvalues above the floor, choosing xmin by least KS distance."""
    data = np.sort(eigenvalues[eigenvalues > options.eigenvalue_floor]).astype(np.float64)
    if data.size < options.min_fit_eigenvalues:
        return NotReported(
            not_reported=f"only {data.size} eigenvalues above {options.eigenvalue_floor:g}; "
            f"a fit needs {options.min_fit_eigenvalues}"
        )
    alphas, distances = _power_law_scan(data)
    best = int(np.argmin(distances))
    alpha, xmin = float(alphas[best]), float(data[best])
    tail = int((eigenvalues >= xmin).sum())
    return PowerLawFit(
        alpha=alpha,
        xmin=xmin,
        ks_distance=float(distances[best]),
        sigma=(alpha - 1.0) / math.sqrt(data.size - best),
        tail_size=tail,
    )


def reading_of(fit: PowerLawFit | NotReported) -> str:
    if isinstance(fit, NotReported):
        return "not fitted"
    if fit.alpha < 2:
        return "over-trained"
    if fit.alpha > 6:
        return "under-trained"
    return "typical"


NORM_BLOCK_ROWS = 4096


def _as_matrix(tensor: StoredTensor) -> np.ndarray:
    """The tensor as a float32 (float64 if stored so) 2-D array: rows are the outputs (the first axis, or
    the last for a Keras kernel), columns the rest."""
    values = np.asarray(tensor.data)
    if tensor.dtype == "BF16":
        values = (values.astype(np.uint32) << 16).view(np.float32)
    elif tensor.dtype == "F64":
        values = values.copy()  # writable, as torch needs: the mapped file is read-only
    elif values.dtype != np.float32 or not values.flags.writeable:
        values = values.astype(np.float32)  # a private, writable copy (torch needs one; a mapped file is read-only)
    if tensor.outputs_last:
        return np.moveaxis(values.reshape(tensor.shape), -1, 0).reshape(tensor.shape[-1], -1)
    return values.reshape(tensor.shape[0], -1)


def _spectral_norm_by_power_iteration(matrix, torch) -> float:  # noqa: ANN001 - torch tensors
    """Largest singular value by power iteration on WᵀW, seeded so the figure is reproducible."""
    generator = torch.Generator(device="cpu").manual_seed(0)
    vector = torch.randn(matrix.shape[1], generator=generator, dtype=torch.float64).to(matrix.device)
    value = 0.0
    for _ in range(POWER_ITERATIONS):
        product = matrix.T @ (matrix @ vector)
        norm = float(torch.linalg.vector_norm(product))
        if norm == 0.0:
            return 0.0
        vector = product / norm
        if abs(norm - value) <= 1e-12 * norm:
            break
        value = norm
    return math.sqrt(norm)


def skip_reason(tensor: StoredTensor, options: SpectralOptions) -> str | None:
    """Why a tensor of two or more dimensions gets no spectral facts, if it does not."""
    if tensor.dtype not in FLOAT_DTYPES:
        return f"{tensor.dtype} values are not weights"
    outputs = tensor.shape[-1] if tensor.outputs_last else tensor.shape[0]
    if min(outputs, math.prod(tensor.shape) // max(outputs, 1)) < options.min_side:
        return f"smaller side below {options.min_side}: too few eigenvalues to describe"
    return None


@dataclass
class _Matrix:
    """What is measured on a matrix before its eigenvalues: norms, zero rows and columns, the Gram matrix."""

    name: str
    rows: int
    columns: int
    frobenius_squared: float
    zero_rows: int
    zero_columns: int
    gram: torch.Tensor | None  # None above the size cap
    spectral_norm: float | None  # known without eigenvalues only above the size cap


def analyse_spectra(
    tensors: Iterable[StoredTensor], options: SpectralOptions
) -> tuple[list[LayerSpectrum], SpectralSettings]:
    """Spectral facts for every 2-D (or reshaped higher-dimensional) float tensor, in depth order.

    Gram matrices of equal size are solved together in batches of at most GRAM_BATCH_BYTES.
    """
    import torch

    device = torch.device(options.device)
    layers: list[LayerSpectrum] = []
    skipped: dict[str, str] = {}
    pending: list[tuple[_Matrix, torch.Tensor]] = []  # matrices with their Gram matrices, of one size

    def flush() -> None:
        eigenvalues = _eigenvalues(torch.stack([gram for _, gram in pending]), torch).clip(min=0)
        layers.extend(_layer(m, values, options) for (m, _), values in zip(pending, eigenvalues, strict=True))
        pending.clear()

    # Tensors are taken one at a time as they come (a dequantised GGUF tensor exists only while it
    # is measured); the layers are put in depth order at the end.
    for tensor in tensors:
        if len(tensor.shape) < 2:
            continue
        reason = skip_reason(tensor, options)
        if reason:
            skipped[tensor.name] = reason
            continue
        matrix = _measure(tensor, options, device, torch)
        if matrix is None:
            skipped[tensor.name] = OVERFLOW_REASON if tensor.dtype == "F64" else NON_FINITE_REASON
            continue
        gram = matrix.gram
        if gram is None:
            layers.append(_layer(matrix, None, options))
            continue
        full = len(pending) * gram.numel() * gram.element_size() >= GRAM_BATCH_BYTES
        if pending and (full or pending[0][1].shape != gram.shape):
            flush()
        pending.append((matrix, gram))
    if pending:
        flush()
    layers.sort(key=lambda layer: depth_key(layer.name))
    settings = SpectralSettings(
        min_side=options.min_side,
        max_side=options.max_side,
        eigenvalue_floor=options.eigenvalue_floor,
        min_fit_eigenvalues=options.min_fit_eigenvalues,
        skipped=skipped,
    )
    return layers, settings


def _eigenvalues(grams, torch) -> np.ndarray:  # noqa: ANN001 - torch tensors
    """Ascending eigenvalues of a batch of symmetric matrices, in float64.

    On the CPU numpy's LAPACK call takes 0.33 s for MiniLM's 39 Gram matrices where torch's takes
    0.54 s on this machine, so only a GPU batch goes through torch.
    """
    if grams.device.type == "cpu":
        return np.linalg.eigvalsh(grams.numpy())
    return torch.linalg.eigvalsh(grams).cpu().numpy()


def _measure(tensor: StoredTensor, options: SpectralOptions, device, torch) -> _Matrix | None:  # noqa: ANN001
    """Norms and zero rows/columns, and the smaller Gram matrix (float32 product, float64 result);
    None for a matrix holding NaN or ±Inf, which has no spectrum (the eigensolver would not converge).

    The product runs in float32 (float64 for float64 weights): against a float64 product, alpha
    on all-MiniLM-L6-v2 moves by under 1e-5, and the product takes half the time. The Frobenius
    norm is computed first and is finite exactly when every value is (its float64 sum of squares of
    float32 values cannot overflow), so finiteness costs no extra pass over the matrix.
    """
    host = _as_matrix(tensor)
    rows, columns = host.shape
    matrix = torch.from_numpy(host).to(device)
    # Summed over blocks of rows so the float64 copy the norm makes is a block, not the matrix.
    frobenius_squared = sum(
        float(torch.linalg.vector_norm(block, dtype=torch.float64)) ** 2 for block in matrix.split(NORM_BLOCK_ROWS)
    )
    if not math.isfinite(frobenius_squared):
        return None
    zero_rows = int((~matrix.any(dim=1)).sum())
    zero_columns = int((~matrix.any(dim=0)).sum())
    if min(rows, columns) > options.max_side:
        spectral = _spectral_norm_by_power_iteration(matrix.double(), torch)
        return _Matrix(tensor.name, rows, columns, frobenius_squared, zero_rows, zero_columns, None, spectral)
    gram = (matrix.T @ matrix if rows >= columns else matrix @ matrix.T).double()
    return _Matrix(tensor.name, rows, columns, frobenius_squared, zero_rows, zero_columns, gram, None)


def _layer(matrix: _Matrix, eigenvalues: np.ndarray | None, options: SpectralOptions) -> LayerSpectrum:
    if eigenvalues is None:
        spectral = matrix.spectral_norm or 0.0
        fit: PowerLawFit | NotReported = NotReported(
            not_reported=f"smaller side {min(matrix.rows, matrix.columns)} exceeds the size cap "
            f"{options.max_side}; raise `spectral_max_side` to compute eigenvalues"
        )
    else:
        spectral = math.sqrt(float(eigenvalues[-1]))
        fit = fit_power_law(eigenvalues, options)
    return LayerSpectrum(
        name=matrix.name,
        rows=matrix.rows,
        columns=matrix.columns,
        frobenius_norm=math.sqrt(matrix.frobenius_squared),
        spectral_norm=spectral,
        stable_rank=matrix.frobenius_squared / (spectral * spectral) if spectral > 0 else 0.0,
        zero_rows=matrix.zero_rows,
        zero_columns=matrix.zero_columns,
        eigenvalues=None if eigenvalues is None else int(eigenvalues.size),
        fit=fit,
        reading=reading_of(fit),
    )
