"""Weight statistics against a float64 numpy reference, and malformed safetensors files."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from reporter.errors import ModelFileError
from reporter.extract import weights as w
from reporter.extract.safetensors_file import iter_tensors, weight_files_in


def reference(values: torch.Tensor) -> dict[str, float]:
    x = values.to(torch.float64).numpy().ravel()
    finite = x[np.isfinite(x)]
    return {
        "mean": finite.mean(),
        "std": finite.std(),
        "min": finite.min(),
        "max": finite.max(),
        "abs_max": np.abs(finite).max(),
        "l2_norm": np.sqrt((finite**2).sum()),
        "zero_fraction": (x == 0).sum() / x.size,
    }


@pytest.fixture
def checkpoint(tmp_path: Path) -> tuple[Path, dict[str, torch.Tensor]]:
    gen = torch.Generator().manual_seed(0)
    with_bad = torch.randn(300, generator=gen)
    with_bad[[3, 50]] = float("nan")
    with_bad[[7]] = float("inf")
    with_bad[[8]] = float("-inf")
    tensors = {
        "f32": torch.randn(257, 33, generator=gen) * 3 + 1,
        "f16": (torch.randn(1000, generator=gen) * 0.02).to(torch.float16),
        "bf16": (torch.randn(64, 65, generator=gen) * 5).to(torch.bfloat16),
        "i8": torch.randint(-128, 127, (500,), generator=gen, dtype=torch.int8),
        "with_bad": with_bad,
        "zeros": torch.zeros(4, 4),
        "empty": torch.zeros(0, 3),
        "scalar": torch.tensor(2.5),
    }
    path = tmp_path / "model.safetensors"
    save_file(tensors, str(path))
    return path, tensors


def test_statistics_match_float64_reference(checkpoint) -> None:
    path, tensors = checkpoint
    facts = {t.name: t for t in (w.summarise_tensor(s, w.WeightOptions()) for s in iter_tensors(path))}
    for name, tensor in tensors.items():
        got = facts[name]
        assert got.shape == list(tensor.shape) and got.numel == tensor.numel()
        assert got.bytes == tensor.numel() * tensor.element_size()
        assert got.dtype == str(tensor.dtype).removeprefix("torch.")
        if tensor.numel() == 0:
            assert got.mean is None and got.zero_fraction is None
            continue
        for key, value in reference(tensor).items():
            assert getattr(got, key) == pytest.approx(value, rel=1e-9, abs=1e-15), (name, key)
    assert facts["with_bad"].nan_count == 2 and facts["with_bad"].inf_count == 2
    assert facts["f32"].nan_count == 0
    assert sum(facts["f32"].histogram.counts) == 257 * 33 and len(facts["f32"].histogram.counts) == 64
    assert facts["empty"].histogram is None and sum(facts["scalar"].histogram.counts) == 1
    assert (facts["scalar"].histogram.low, facts["scalar"].histogram.high) == (2.0, 3.0)  # numpy's rule


def test_totals_fingerprint_and_file_hash(checkpoint) -> None:
    path, tensors = checkpoint
    facts = w.extract_weights([path], parameter_names={"f32", "bf16"}, trainable_names={"f32"})
    assert facts.parameters_total == 257 * 33 + 64 * 65
    assert facts.parameters_trainable == 257 * 33
    assert facts.parameters_frozen == 64 * 65
    assert facts.tensor_count == len(tensors)
    assert facts.files == {"model.safetensors": w.sha256_file(path)}
    again = w.extract_weights([path], parameter_names=None, trainable_names=None)
    assert again.fingerprint == facts.fingerprint
    assert [layer.name for layer in facts.layers] == ["bf16", "f32"]
    assert facts.spectral.skipped == {
        "empty": "smaller side below 20: too few eigenvalues to describe",
        "zeros": "smaller side below 20: too few eigenvalues to describe",
    }
    assert again.bytes_by_dtype["bfloat16"] == 64 * 65 * 2


def test_fingerprint_changes_when_one_value_changes(tmp_path: Path) -> None:
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    tensor = torch.ones(10)
    save_file({"x": tensor}, str(a))
    tensor[3] = 1.0000001
    save_file({"x": tensor}, str(b))
    fa = w.extract_weights([a], parameter_names=None, trainable_names=None).fingerprint
    fb = w.extract_weights([b], parameter_names=None, trainable_names=None).fingerprint
    assert fa != fb


def header_file(tmp_path: Path, header: object, data: bytes = b"", declared: int | None = None) -> Path:
    raw = json.dumps(header).encode()
    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw) if declared is None else declared) + raw + data)
    return path


@pytest.mark.parametrize(
    ("header", "data", "declared", "message"),
    [
        ({}, b"", 1 << 60, "header claims"),
        ({"x": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 8, None, "declares bytes"),
        ({"x": {"dtype": "F32", "shape": [1 << 40], "data_offsets": [0, 1 << 42]}}, b"", None, "declares bytes"),
        ({"x": {"dtype": "Q9", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4, None, "unknown or missing dtype"),
        ({"x": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4, None, "invalid shape"),
        ({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4, None, "declares bytes"),
        ([1, 2], b"", None, "not a JSON object"),
    ],
)
def test_malformed_files_are_rejected_before_any_allocation(tmp_path, header, data, declared, message) -> None:
    path = header_file(tmp_path, header, data, declared)
    with pytest.raises(ModelFileError, match=message) as caught:
        list(iter_tensors(path))
    assert str(path) in str(caught.value)


def test_truncated_and_non_json_files(tmp_path: Path) -> None:
    short = tmp_path / "short.safetensors"
    short.write_bytes(b"\x01\x02")
    with pytest.raises(ModelFileError, match="shorter than 8 bytes"):
        list(iter_tensors(short))
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(struct.pack("<Q", 5) + b"{nope")
    with pytest.raises(ModelFileError, match="not valid JSON"):
        list(iter_tensors(garbage))


def test_sharded_checkpoint_follows_its_index(tmp_path: Path) -> None:
    save_file({"a": torch.ones(3)}, str(tmp_path / "model-00001-of-00002.safetensors"))
    save_file({"b": torch.zeros(2)}, str(tmp_path / "model-00002-of-00002.safetensors"))
    index = {"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    files = weight_files_in(tmp_path)
    facts = w.extract_weights(files, parameter_names=None, trainable_names=None)
    assert [t.name for t in facts.tensors] == ["a", "b"] and len(facts.files) == 2
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"a": "../escape.safetensors"}}))
    with pytest.raises(ModelFileError, match="outside the folder"):
        weight_files_in(tmp_path)
