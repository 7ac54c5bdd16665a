"""The fused elementwise kernels against a float64 numpy reference, for every stored dtype."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reporter.extract import elementwise as e

SMALL = 1e-3
BINS = 16
LARGE = 70_000  # above the 65,536 elements where the count tables and the float32 kernel take over


def stored(tensor: torch.Tensor) -> tuple[np.ndarray, str]:
    """The raw flat array and safetensors dtype name, as a memory-mapped file would give them."""
    names = {
        torch.float32: "F32",
        torch.float16: "F16",
        torch.bfloat16: "BF16",
        torch.float64: "F64",
        torch.int8: "I8",
        torch.uint8: "U8",
        torch.int16: "I16",
        torch.int32: "I32",
        torch.int64: "I64",
        torch.bool: "BOOL",
    }
    flat = tensor.reshape(-1)
    if tensor.dtype == torch.bfloat16:
        return flat.view(torch.int16).numpy().view(np.uint16), "BF16"
    return flat.numpy(), names[tensor.dtype]


def reference(tensor: torch.Tensor) -> dict[str, float]:
    """Float64 numpy figures; the float32 histogram places values by their bfloat16 truncation."""
    x = tensor.reshape(-1).to(torch.float64).numpy()
    finite = x[np.isfinite(x)]
    placed = finite
    if tensor.dtype == torch.float32 and tensor.numel() >= 1 << 16:
        bits = tensor.reshape(-1).numpy().view(np.uint32)
        truncated = (bits & np.uint32(0xFFFF0000)).view(np.float32).astype(np.float64)
        placed = truncated[np.isfinite(x)]
    histogram = np.histogram(placed, bins=BINS, range=(finite.min(), finite.max()))[0]
    return {
        "count": finite.size,
        "mean": finite.mean(),
        "std": finite.std(),
        "sum_squares": (finite**2).sum(),
        "low": finite.min(),
        "high": finite.max(),
        "zeros": int((x == 0).sum()),
        "small": int((np.abs(finite) < SMALL).sum()),
        "nans": int(np.isnan(x).sum()),
        "infs": int(np.isinf(x).sum()),
        "histogram": histogram.tolist(),
    }


def poisoned(tensor: torch.Tensor) -> torch.Tensor:
    tensor = tensor.clone()
    tensor[5], tensor[17], tensor[-1], tensor[-2] = float("nan"), float("inf"), float("-inf"), float("nan")
    tensor[100:130] = 0
    return tensor


def cases() -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    normal = torch.randn(LARGE, generator=gen)
    cases = {}
    for size in (LARGE, 1000):
        label = "large" if size == LARGE else "small"
        cases[f"f32-{label}"] = poisoned(normal[:size] * 0.02 + 0.5)
        cases[f"f16-{label}"] = poisoned((normal[:size] * 0.02).to(torch.float16))
        cases[f"bf16-{label}"] = poisoned((normal[:size] * 3).to(torch.bfloat16))
        cases[f"i8-{label}"] = torch.randint(-128, 128, (size,), generator=gen, dtype=torch.int8)
        cases[f"u8-{label}"] = torch.randint(0, 256, (size,), generator=gen, dtype=torch.uint8)
        cases[f"i16-{label}"] = torch.randint(-(1 << 15), 1 << 15, (size,), generator=gen, dtype=torch.int16)
        cases[f"bool-{label}"] = torch.rand(size, generator=gen) < 0.3
    cases["f64"] = poisoned(normal * 7)
    cases["i32"] = torch.randint(-1000, 1000, (5000,), generator=gen, dtype=torch.int32)
    cases["i64"] = torch.arange(512)
    cases["near-constant f32"] = torch.full((LARGE,), 1000.0) + torch.randn(LARGE, generator=gen) * 1e-3
    cases["scalar"] = torch.tensor([2.5])
    return cases


@pytest.mark.parametrize("chunk", [e.CHUNK_ELEMENTS, 999])
@pytest.mark.parametrize("name", list(cases()))
def test_every_statistic_matches_the_float64_reference(name: str, chunk: int, monkeypatch) -> None:
    tensor = cases()[name]
    monkeypatch.setattr(e, "CHUNK_ELEMENTS", chunk)  # small chunks: many partial results are merged
    flat, dtype = stored(tensor)
    summary = e.summarise_elements(flat, dtype, small=SMALL, bins=BINS)
    m, ref = summary.moments, reference(tensor)
    assert (m.count, m.zeros, m.small, m.nans, m.infs) == (
        ref["count"],
        ref["zeros"],
        ref["small"],
        ref["nans"],
        ref["infs"],
    )
    assert (m.low, m.high) == (ref["low"], ref["high"])
    assert m.mean == pytest.approx(ref["mean"], rel=1e-9, abs=1e-15)
    assert np.sqrt(m.m2 / m.count) == pytest.approx(ref["std"], rel=1e-9, abs=1e-15)
    assert m.sum_squares == pytest.approx(ref["sum_squares"], rel=1e-9)
    assert summary.histogram == ref["histogram"]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_tensors_without_a_finite_value(dtype: torch.dtype) -> None:
    tensor = torch.full((LARGE,), float("nan"), dtype=dtype)
    tensor[:10] = float("inf")
    flat, name = stored(tensor)
    summary = e.summarise_elements(flat, name, small=SMALL, bins=BINS)
    assert summary.moments.count == 0 and summary.histogram == []
    assert (summary.moments.nans, summary.moments.infs) == (LARGE - 10, 10)


def test_empty_tensor() -> None:
    summary = e.summarise_elements(np.empty(0, dtype=np.float32), "F32", small=SMALL, bins=BINS)
    assert summary.moments.count == 0 and summary.histogram == []


@pytest.mark.parametrize("small", [1e-6, 0.1, 3.0, 1e-45])
def test_small_threshold_agrees_with_a_float64_comparison(small: float) -> None:
    values = torch.tensor([0.0, -0.0, 1e-7, -1e-7, 9.9e-7, 1e-6, 0.1, -0.1, 2.9999, 3.0, 1e-45, 7.0] * 6000)
    flat, dtype = stored(values)
    summary = e.summarise_elements(flat, dtype, small=small, bins=BINS)
    expected = int((np.abs(values.to(torch.float64).numpy()) < small).sum())
    assert summary.moments.small == expected
