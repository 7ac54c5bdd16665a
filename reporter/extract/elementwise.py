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
    zeros = np.int64(0)
    smalls = np.int64(0)
    nans = np.int64(0)
    infs = np.int64(0)
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
        zeros += np.int64(magnitude == np.uint32(0))  # adding the bool itself compiles to a loop about
        smalls += np.int64(magnitude < small_bits)  # 1.8x slower (1.6 vs 2.9 GB/s on one core here)
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
    return table


def _empty_table(codes: int, elements: int) -> np.ndarray:
    """A count table: uint32 (measured faster: a 16-bit table stays in L2) unless it could overflow."""
    return np.zeros(codes, dtype=np.uint32 if elements < 1 << 32 else np.int64)


@numba.njit(nogil=True, cache=True, inline="always")
def _add(total: float, compensation: float, term: float) -> tuple[float, float]:  # pragma: no cover - compiled
    """Neumaier's compensated addition: the running sum and the rounding error it has lost so far."""
    updated = total + term
    if abs(total) >= abs(term):
        compensation += (total - updated) + term
    else:
        compensation += (term - updated) + total
    return updated, compensation


@numba.njit(nogil=True, cache=True)
def _table_moments(counts: np.ndarray, values: np.ndarray, small: float) -> tuple:  # pragma: no cover - compiled
    """Moments of the finite values of a (value, count) table, with compensated sums.

    Each count × value product is exact in float64 (values have at most 16 significant bits), so
    compensated summation leaves little more than the final rounding.
    """
    n = np.int64(0)
    total, total_c, squares, squares_c = 0.0, 0.0, 0.0, 0.0
    low, high = np.inf, -np.inf
    zeros, smalls, nans, infs = np.int64(0), np.int64(0), np.int64(0), np.int64(0)
    for code in range(counts.size):
        c = np.int64(counts[code])
        v = values[code]
        if c == 0:
            continue
        if np.isnan(v):
            nans += c
        elif np.isinf(v):
            infs += c
        else:
            n += c
            total, total_c = _add(total, total_c, c * v)
            squares, squares_c = _add(squares, squares_c, c * v * v)
            low = min(low, v)
            high = max(high, v)
            zeros += c if v == 0 else np.int64(0)
            smalls += c if abs(v) < small else np.int64(0)
    mean = (total + total_c) / n if n else 0.0
    m2, m2_c = 0.0, 0.0
    for code in range(counts.size):
        c = np.int64(counts[code])
        v = values[code]
        if c != 0 and np.isfinite(v):
            m2, m2_c = _add(m2, m2_c, c * (v - mean) ** 2)
    return n, mean, m2 + m2_c, squares + squares_c, low, high, zeros, smalls, nans, infs


@numba.njit(nogil=True, cache=True)
def _table_histogram(counts: np.ndarray, values: np.ndarray, edges: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Counts per bin of the finite table values, by numpy's rule for equal bins (np.histogram):
    index from ((x - first) / (last - first)) * bins, then corrected against the edges."""
    bins = edges.size - 1
    first = edges[0]
    last = edges[bins]
    width = last - first
    histogram = np.zeros(bins, dtype=np.int64)
    for code in range(counts.size):
        c = counts[code]
        x = values[code]
        if c == 0 or not (x >= first and x <= last):
            continue
        index = int(((x - first) / width) * bins)
        if index == bins:
            index -= 1
        if x < edges[index]:
            index -= 1
        if index != bins - 1 and x >= edges[index + 1]:
            index += 1
        histogram[index] += c
    return histogram


def _summary_from_table(counts: np.ndarray, values: np.ndarray, *, small: float, bins: int) -> ElementwiseSummary:
    """Exact statistics of a multiset given as a count per value (NaN and infinite values tallied)."""
    n, mean, m2, squares, low, high, zeros, smalls, nans, infs = _table_moments(counts, values, small)
    moments = Moments(n, mean, m2, squares, low, high, zeros, smalls, nans, infs)
    if n == 0:
        return ElementwiseSummary(moments, [])
    return ElementwiseSummary(moments, histogram_of(values, counts, low, high, bins))


def histogram_range(low: float, high: float, bins: int) -> tuple[float, float]:
    """The range the bins span: [low, high], widened by 0.5 each side when all values are equal (numpy's rule).

    Values so large that ``bins`` equal bins between them are not distinct floats (an int64 tensor
    holding one value near 2**56, say) get a range widened symmetrically until they are; numpy
    itself refuses such a range ("Too many bins for data range").
    """
    start, stop = (low, high) if low < high else (low - 0.5, high + 0.5)
    edges = np.linspace(start, stop, bins + 1)
    if np.all(edges[1:] > edges[:-1]):
        return start, stop
    half = bins * float(np.spacing(max(abs(start), abs(stop))))
    return low - half, high + half


def histogram_of(values: np.ndarray, counts: np.ndarray, low: float, high: float, bins: int) -> list[int]:
    """Counts in ``bins`` equal bins over :func:`histogram_range` (non-finite values ignored)."""
    start, stop = histogram_range(low, high, bins)
    edges = np.linspace(start, stop, bins + 1, endpoint=True)
    return _table_histogram(counts, values, edges).tolist()


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
    return ElementwiseSummary(moments, histogram_of(code_values("BF16"), codes, moments.low, moments.high, bins))


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
            values[np.isfinite(values)], bins=bins, range=histogram_range(moments.low, moments.high, bins)
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
        return _summary_from_table(_count_table(flat, dtype), code_values(dtype), small=small, bins=bins)
    if dtype == "F32" and flat.size >= 1 << 16:
        return _summarise_float32(flat, small=small, bins=bins)
    return _summarise_numpy(flat, dtype, small=small, bins=bins)
