"""Single-pass elementwise statistics of stored tensors, fused into numba kernels.

Several numpy passes over a memory-mapped tensor (widen, isfinite, sum, dot, min, max, compare)
run at about a tenth of the speed the page cache delivers bytes. The kernels here read every
element once:

* 8- and 16-bit types (int8, uint8, bool, int16, float16, bfloat16) are *counted*: one pass adds
  each raw bit pattern to a table of 256 or 65,536 counts. Every statistic then follows from the
  table (each count × value product is exact in float64), including the histogram and the
  small-value fraction. Tensors under 65,536 elements take the numpy path instead: for them the
  table costs more than the data.
* float32 runs one fused loop: finite count, sums about a shift (so near-constant tensors do not
  cancel), min, max, zeros, values below the small threshold, NaN and ±Inf, and a count of each
  value's top 16 bits (its bfloat16 truncation) from which the histogram is drawn.
* Anything else (float64, int32, int64) is rare and small in checkpoints and takes a chunked
  float64 numpy path.

Chunks are merged with Chan's parallel update. The kernels release the GIL, so callers run several
tensors on a thread pool (see :func:`reporter.extract.weights.tensor_statistics`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np

CHUNK_ELEMENTS = 1 << 22

CODE_TABLES = {"BF16", "F16", "I16", "I8", "U8", "BOOL"}


@dataclass(frozen=True)
class Moments:
    """Count, mean and sum of squared deviations of finite values, with extremes and tallies."""

    count: int
    mean: float
    m2: float
    sum_squares: float
    low: float
    high: float
    zeros: int
    small: int
    nans: int
    infs: int

    @staticmethod
    def empty() -> Moments:
        return Moments(0, 0.0, 0.0, 0.0, math.inf, -math.inf, 0, 0, 0, 0)

    def merge(self, other: Moments) -> Moments:
        """Chan et al.'s pairwise combination: exact where a running sum of squares would cancel."""
        total = self.count + other.count
        if total == 0:
            return Moments(0, 0.0, 0.0, 0.0, math.inf, -math.inf, 0, 0, self.nans + other.nans, self.infs + other.infs)
        delta = other.mean - self.mean
        return Moments(
            count=total,
            mean=self.mean + delta * other.count / total,
            m2=self.m2 + other.m2 + delta * delta * self.count * other.count / total,
            sum_squares=self.sum_squares + other.sum_squares,
            low=min(self.low, other.low),
            high=max(self.high, other.high),
            zeros=self.zeros + other.zeros,
            small=self.small + other.small,
            nans=self.nans + other.nans,
            infs=self.infs + other.infs,
        )


@dataclass(frozen=True)
class ElementwiseSummary:
    """What one pass over a tensor yields: its moments and a histogram over [low, high]."""

    moments: Moments
    histogram: list[int]


@numba.njit(nogil=True, cache=True)
def _count_codes(raw: np.ndarray, counts: np.ndarray) -> None:  # pragma: no cover - compiled
    # One table (256 KiB of uint32 for 16-bit codes) stays in L2; interleaved tables measured slower.
    for i in range(raw.size):
        counts[raw[i]] += 1


@numba.njit(nogil=True, cache=True)
def _float32_pass(bits: np.ndarray, small_bits: np.uint32, codes: np.ndarray) -> tuple:  # pragma: no cover - compiled
    """One fused loop over float32 bit patterns; sums are taken about the first finite value.

    Zeros, small values, NaN and infinities are told apart on the bit pattern with the sign bit
    cleared: for non-negative floats the integer order is the value order.
    """
    values = bits.view(np.float32)
    shift = 0.0
    for i in range(bits.size):
        if (bits[i] & np.uint32(0x7F800000)) != np.uint32(0x7F800000):
            shift = np.float64(values[i])
            break
    count = 0
    s1 = 0.0
    s2 = 0.0
    sq = 0.0
    low = np.inf
    high = -np.inf
    zeros = 0
    smalls = 0
    nans = 0
    infs = 0
    for i in range(bits.size):
        b = bits[i]
        codes[b >> 16] += 1
        magnitude = b & np.uint32(0x7FFFFFFF)
        if magnitude >= np.uint32(0x7F800000):
            if magnitude > np.uint32(0x7F800000):
                nans += 1
            else:
                infs += 1
            continue
        x = np.float64(values[i])
        d = x - shift
        s1 += d
        s2 += d * d
        sq += x * x
        count += 1
        low = min(low, x)
        high = max(high, x)
        zeros += magnitude == 0
        smalls += magnitude < small_bits
    return count, s1, s2, sq, low, high, zeros, smalls, nans, infs, shift


def float32_small_bits(small: float) -> np.uint32:
    """Bit pattern of the least float32 >= ``small``: ``|x| < small`` iff ``|x|``'s bits are below it."""
    bound = np.float32(small)
    if float(bound) < small:
        bound = np.nextafter(bound, np.float32(np.inf))
    return np.array([bound], dtype=np.float32).view(np.uint32)[0]


@functools.cache
def code_values(dtype: str) -> np.ndarray:
    """The float64 value of every bit pattern of an 8- or 16-bit storage type."""
    if dtype == "BF16":
        with np.errstate(invalid="ignore"):
            return (np.arange(1 << 16, dtype=np.uint32) << 16).view(np.float32).astype(np.float64)
    if dtype == "F16":
        return np.arange(1 << 16, dtype=np.uint16).view(np.float16).astype(np.float64)
    if dtype == "I16":
        return np.arange(1 << 16, dtype=np.uint16).view(np.int16).astype(np.float64)
    if dtype == "I8":
        return np.arange(256, dtype=np.uint8).view(np.int8).astype(np.float64)
    return np.arange(256, dtype=np.float64)  # U8 and BOOL (stored as 0/1 bytes)


def _over_chunks(work: Callable[[tuple[int, int]], object], size: int) -> list:
    """``work`` applied to consecutive ranges of at most CHUNK_ELEMENTS, so that every float64
    partial sum stays short before the partial moments are merged."""
    return [work((start, min(start + CHUNK_ELEMENTS, size))) for start in range(0, size, CHUNK_ELEMENTS)]


def _count_table(flat: np.ndarray, dtype: str) -> np.ndarray:
    """How many times each raw bit pattern occurs."""
    wide = dtype in {"BF16", "F16", "I16"}
    raw = flat.view(np.uint16 if wide else np.uint8)

    table = _empty_table(1 << (16 if wide else 8), raw.size)
    _over_chunks(lambda bounds: _count_codes(raw[bounds[0] : bounds[1]], table), raw.size)
    return table.astype(np.int64)


def _empty_table(codes: int, elements: int) -> np.ndarray:
    """A count table: uint32 (measured faster: a 16-bit table stays in L2) unless it could overflow."""
    return np.zeros(codes, dtype=np.uint32 if elements < 1 << 32 else np.int64)


def _summary_from_counts(
    counts: np.ndarray, values: np.ndarray, *, small: float, bins: int, nans: int, infs: int
) -> ElementwiseSummary:
    """Exact statistics of a multiset given as (value, count) pairs over finite values."""
    present = counts > 0
    counts, values = counts[present], values[present]
    n = int(counts.sum())
    if n == 0:
        return ElementwiseSummary(Moments(0, 0.0, 0.0, 0.0, math.inf, -math.inf, 0, 0, nans, infs), [])
    weights = counts.astype(np.float64)
    mean = float(np.dot(weights, values)) / n
    moments = Moments(
        count=n,
        mean=mean,
        m2=float(np.dot(weights, (values - mean) ** 2)),
        sum_squares=float(np.dot(weights, values * values)),
        low=float(values.min()),
        high=float(values.max()),
        zeros=int(counts[values == 0].sum()),
        small=int(counts[np.abs(values) < small].sum()),
        nans=nans,
        infs=infs,
    )
    return ElementwiseSummary(moments, histogram_of(values, counts, moments.low, moments.high, bins))


def histogram_range(low: float, high: float) -> tuple[float, float]:
    """The range the bins span: [low, high], widened by 0.5 each side when all values are equal (numpy's rule)."""
    return (low, high) if low < high else (low - 0.5, high + 0.5)


def histogram_of(values: np.ndarray, counts: np.ndarray, low: float, high: float, bins: int) -> list[int]:
    """Counts in ``bins`` equal bins over :func:`histogram_range`, by numpy's own binning rule."""
    hist, _ = np.histogram(values, bins=bins, range=histogram_range(low, high), weights=counts.astype(np.float64))
    return [int(round(h)) for h in hist]


def _split_table(dtype: str, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Finite (counts, values) and the NaN and infinity tallies of a code table."""
    values = code_values(dtype)
    finite = np.isfinite(values)
    nans = int(counts[np.isnan(values)].sum())
    infs = int(counts[np.isinf(values)].sum())
    return counts[finite], values[finite], nans, infs


def _summarise_float32(flat: np.ndarray, *, small: float, bins: int) -> ElementwiseSummary:
    bits = flat.view(np.uint32)
    small_bits = float32_small_bits(small)

    codes = _empty_table(1 << 16, bits.size)

    def run(bounds: tuple[int, int]) -> Moments:
        count, s1, s2, sq, low, high, zeros, smalls, nans, infs, shift = _float32_pass(
            bits[bounds[0] : bounds[1]], small_bits, codes
        )
        mean = shift + s1 / count if count else 0.0
        m2 = max(s2 - s1 * s1 / count, 0.0) if count else 0.0
        return Moments(count, mean, m2, sq, low, high, zeros, smalls, nans, infs)

    moments = Moments.empty()
    for part in _over_chunks(run, bits.size):
        moments = moments.merge(part)
    if moments.count == 0:
        return ElementwiseSummary(moments, [])
    finite_codes, truncated, _, _ = _split_table("BF16", codes.astype(np.int64))
    return ElementwiseSummary(moments, histogram_of(truncated, finite_codes, moments.low, moments.high, bins))


def widen(chunk: np.ndarray, dtype: str) -> np.ndarray:
    """Stored values as float64, exactly (bfloat16 arrives as raw uint16)."""
    if dtype == "BF16":
        return (chunk.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return chunk.astype(np.float64)


def _summarise_numpy(flat: np.ndarray, dtype: str, *, small: float, bins: int) -> ElementwiseSummary:
    """Chunked float64 numpy path for small tensors and the wide integer and float64 types."""
    moments = Moments.empty()
    for start in range(0, flat.size, CHUNK_ELEMENTS):
        stop = start + CHUNK_ELEMENTS
        values = widen(np.asarray(flat[start:stop]), dtype)
        finite = np.isfinite(values)
        nans = int(np.isnan(values).sum())
        infs = int((~finite).sum()) - nans
        values = values[finite]
        if values.size == 0:
            moments = moments.merge(Moments(0, 0.0, 0.0, 0.0, math.inf, -math.inf, 0, 0, nans, infs))
            continue
        mean = float(values.mean())
        part = Moments(
            count=int(values.size),
            mean=mean,
            m2=float(((values - mean) ** 2).sum()),
            sum_squares=float(np.dot(values, values)),
            low=float(values.min()),
            high=float(values.max()),
            zeros=int((values == 0).sum()),
            small=int((np.abs(values) < small).sum()),
            nans=nans,
            infs=infs,
        )
        moments = moments.merge(part)
    if moments.count == 0:
        return ElementwiseSummary(moments, [])
    histogram = np.zeros(bins, dtype=np.int64)
    for start in range(0, flat.size, CHUNK_ELEMENTS):
        stop = start + CHUNK_ELEMENTS
        values = widen(np.asarray(flat[start:stop]), dtype)
        histogram += np.histogram(
            values[np.isfinite(values)], bins=bins, range=histogram_range(moments.low, moments.high)
        )[0]
    return ElementwiseSummary(moments, [int(h) for h in histogram])


def summarise_elements(flat: np.ndarray, dtype: str, *, small: float, bins: int) -> ElementwiseSummary:
    """Statistics of one tensor's stored values (a flat array in its storage dtype).

    Args:
        flat: the raw values; bfloat16 arrives as uint16 bit patterns.
        dtype: the safetensors dtype name (``F32``, ``BF16``, ...).
        small: values with ``|x| < small`` are counted as small.
        bins: number of equal histogram bins between the finite minimum and maximum.
    """
    if dtype in CODE_TABLES and flat.size >= 1 << 16:
        counts, values, nans, infs = _split_table(dtype, _count_table(flat, dtype))
        return _summary_from_counts(counts, values, small=small, bins=bins, nans=nans, infs=infs)
    if dtype == "F32" and flat.size >= 1 << 16:
        return _summarise_float32(flat, small=small, bins=bins)
    return _summarise_numpy(flat, dtype, small=small, bins=bins)
