"""GGUF files: the header parser against gguf's own reader, weight statistics of dequantised
tensors against gguf.quants.dequantize and a float64 numpy reference, quantization and metadata
facts, and malformed files."""

from __future__ import annotations

import struct
from pathlib import Path

import gguf
import numpy as np
import pytest
import torch
from gguf.quants import dequantize, quantize

from reporter.errors import ModelFileError
from reporter.extract import weights as w
from reporter.extract.gguf_file import iter_gguf_tensors, read_gguf_header
from tests.conftest import SMOLLM2
from tests.extract.test_weights import reference

Q = gguf.GGMLQuantizationType


def write_gguf(path: Path, *, license_name: str | None = "mit", alignment: int | None = None) -> dict[str, np.ndarray]:
    """A small GGUF file with quantized and plain tensors, written by gguf's own writer; returns
    each tensor's float values as the file stores them (dequantised)."""
    rng = np.random.default_rng(0)
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("tiny test model")
    writer.add_organization("reporter tests")
    if license_name is not None:
        writer.add_license(license_name)
    writer.add_context_length(128)
    writer.add_block_count(2)
    if alignment is not None:
        writer.add_custom_alignment(alignment)
    writer.add_array("tokenizer.ggml.tokens", ["<s>", "a", "b"])
    values = {
        "blk.0.attn_q.weight": (Q.Q4_1, rng.standard_normal((64, 96)).astype(np.float32)),
        "blk.1.ffn_down.weight": (Q.Q8_0, (rng.standard_normal((96, 64)) * 0.02).astype(np.float32)),
        "token_embd.weight": (Q.Q4_0, rng.standard_normal((300, 288)).astype(np.float32)),
        "output_norm.weight": (Q.F32, (1 + rng.standard_normal(64)).astype(np.float32)),
        "blk.0.attn_norm.weight": (Q.F16, rng.standard_normal(70_000).astype(np.float16)),
    }
    stored = {}
    for name, (kind, array) in values.items():
        if kind in (Q.F32, Q.F16):
            writer.add_tensor(name, array)
            stored[name] = array.astype(np.float32)
        else:
            blocks = quantize(array, kind)
            writer.add_tensor(name, blocks, raw_dtype=kind)
            stored[name] = dequantize(blocks, kind)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return stored


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    path = tmp_path / "tiny.gguf"
    return path, write_gguf(path)


def test_header_matches_gguf_reader(tiny) -> None:
    path, _ = tiny
    header = read_gguf_header(path)
    reader = gguf.GGUFReader(path)
    by_name = {t.name: t for t in reader.tensors}
    assert [t.name for t in header.tensors] == [t.name for t in reader.tensors]
    for tensor in header.tensors:
        theirs = by_name[tensor.name]
        assert tensor.type_name == theirs.tensor_type.name
        assert tensor.shape == tuple(int(d) for d in reversed(theirs.shape))
        assert (tensor.offset, tensor.stored_bytes) == (theirs.data_offset, theirs.n_bytes)
    assert header.metadata["general.name"] == "tiny test model"
    assert header.metadata["general.license"] == "mit" and header.metadata["llama.context_length"] == 128
    assert header.array_lengths == {"tokenizer.ggml.tokens": 3}
    scalars = {k: f.contents() for k, f in reader.fields.items() if not k.startswith("GGUF.") and k in header.metadata}
    assert scalars == header.metadata


def test_dequantised_values_match_gguf(tiny) -> None:
    path, stored = tiny
    decoded = {t.name: t for t in iter_gguf_tensors(path)}
    assert decoded.keys() == stored.keys()
    for name, values in stored.items():
        tensor = decoded[name]
        assert tensor.shape == values.shape
        assert np.array_equal(np.asarray(tensor.data).astype(np.float32).reshape(values.shape), values), name
    assert decoded["blk.0.attn_q.weight"].quantization == "Q4_1"
    assert decoded["blk.0.attn_norm.weight"].dtype == "F16" and decoded["blk.0.attn_norm.weight"].quantization is None


def reference_statistics(values: np.ndarray) -> dict[str, float]:
    """test_weights' float64 reference, plus the small-value fraction."""
    return {
        **reference(torch.from_numpy(np.array(values))),
        "small_fraction": (np.abs(values) < 1e-6).mean(),
    }


def assert_statistics(path: Path, stored: dict[str, np.ndarray]) -> dict:
    facts = w.extract_weights([path], parameter_names=None, trainable_names=None, spec_license="MIT")
    by_name = {t.name: t for t in facts.tensors}
    for name, values in stored.items():
        got = by_name[name]
        for key, value in reference_statistics(values).items():
            assert getattr(got, key) == pytest.approx(value, rel=1e-9, abs=1e-15), (name, key)
        assert sum(got.histogram.counts) == values.size
    return {"facts": facts, "tensors": by_name}


def test_statistics_of_dequantised_values_match_float64_reference(tiny) -> None:
    path, stored = tiny
    found = assert_statistics(path, stored)
    facts, tensors = found["facts"], found["tensors"]
    q41 = tensors["blk.0.attn_q.weight"]
    assert (q41.dtype, q41.bytes) == ("Q4_1", 64 * 96 // 32 * 20)
    assert tensors["blk.0.attn_norm.weight"].dtype == "float16" and tensors["output_norm.weight"].bytes == 64 * 4
    assert facts.parameters_total == sum(v.size for v in stored.values())
    assert facts.bytes_by_dtype["Q8_0"] == 96 * 64 // 32 * 34
    assert {layer.name for layer in facts.layers} >= {"blk.0.attn_q.weight", "blk.1.ffn_down.weight"}


def test_quantization_and_declared_metadata(tiny) -> None:
    path, stored = tiny
    facts = w.extract_weights([path], parameter_names=None, trainable_names=None, spec_license="MIT")
    q = facts.quantization
    by_type = {t.type: t for t in q.types}
    # Block layouts: Q4_1 stores 32 values in 20 bytes, Q8_0 in 34, Q4_0 in 18.
    assert by_type["Q4_1"].bits_per_weight == 5.0 and by_type["Q8_0"].bits_per_weight == 8.5
    assert by_type["Q4_0"].bits_per_weight == 4.5 and by_type["float32"].bits_per_weight == 32.0
    total_bytes = sum(t.bytes for t in q.types)
    assert q.bits_per_weight == pytest.approx(8 * total_bytes / sum(v.size for v in stored.values()))
    assert total_bytes == sum(facts.bytes_by_dtype.values())
    layers = {layer.layer: layer for layer in q.layers}
    assert set(layers) == {"blk.0", "blk.1", "token_embd", "output_norm"}
    assert layers["blk.0"].types == ["float16", "Q4_1"]
    assert layers["blk.0"].elements == 64 * 96 + 70_000
    assert q.format == "GGUF version 3"
    metadata = facts.file_metadata
    assert metadata.license == "mit" and metadata.license_agrees is True
    assert metadata.metadata["general.organization"] == "reporter tests"
    assert metadata.arrays == {"tokenizer.ggml.tokens": 3}


def test_license_disagreement_and_absence(tmp_path: Path) -> None:
    declared = tmp_path / "declared.gguf"
    write_gguf(declared, license_name="cc-by-nc-4.0")
    facts = w.extract_weights([declared], parameter_names=None, trainable_names=None, spec_license="Apache-2.0")
    assert facts.file_metadata.license == "cc-by-nc-4.0" and facts.file_metadata.license_agrees is False
    silent = tmp_path / "silent.gguf"
    write_gguf(silent, license_name=None)
    facts = w.extract_weights([silent], parameter_names=None, trainable_names=None, spec_license="Apache-2.0")
    assert facts.file_metadata.license is None and facts.file_metadata.license_agrees is None


def test_fingerprint_covers_the_stored_blocks(tiny, tmp_path: Path) -> None:
    path, _ = tiny
    first = w.fingerprint_tensors([path])
    other = tmp_path / "other.gguf"
    write_gguf(other, alignment=64)  # same tensors, laid out differently
    assert w.fingerprint_tensors([other]) == first
    changed = bytearray(path.read_bytes())
    tensor = next(t for t in read_gguf_header(path).tensors if t.name == "blk.0.attn_q.weight")
    changed[tensor.offset + 10] ^= 0x01  # one 4-bit code of the first block
    edited = tmp_path / "edited.gguf"
    edited.write_bytes(bytes(changed))
    assert w.fingerprint_tensors([edited]) != first


def tensor_record_position(data: bytes, name: str) -> int:
    """Where the record of tensor ``name`` continues after its name (dimension count, shape, type, offset)."""
    encoded = struct.pack("<Q", len(name)) + name.encode()
    return data.index(encoded) + len(encoded)


def corrupt(path: Path, edit) -> Path:
    data = bytearray(path.read_bytes())
    edit(data)
    bad = path.with_name("bad.gguf")
    bad.write_bytes(bytes(data))
    return bad


def set_offset(name: str, value: int):
    def edit(data: bytearray) -> None:
        at = tensor_record_position(bytes(data), name)
        (dims,) = struct.unpack_from("<I", data, at)
        struct.pack_into("<Q", data, at + 4 + 8 * dims + 4, value)

    return edit


def set_type(name: str, value: int):
    def edit(data: bytearray) -> None:
        at = tensor_record_position(bytes(data), name)
        (dims,) = struct.unpack_from("<I", data, at)
        struct.pack_into("<I", data, at + 4 + 8 * dims, value)

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.__setitem__(slice(0, 4), b"GGUG"), "not a GGUF file"),
        (lambda d: struct.pack_into("<I", d, 4, 99), "GGUF version 99 is not supported"),
        (lambda d: struct.pack_into("<I", d, 4, 0x03000000), "big-endian"),
        (lambda d: struct.pack_into("<Q", d, 16, 1 << 40), "more than a"),
        (lambda d: struct.pack_into("<Q", d, 8, 1 << 50), "more than a"),
        (lambda d: struct.pack_into("<Q", d, 24, 1 << 40), "past the end"),
        (set_offset("output_norm.weight", 8), "not a multiple of the file's alignment"),
        (set_offset("output_norm.weight", 0), "overlap"),
        (set_offset("output_norm.weight", 1 << 32), r"'output_norm.weight' \(F32, shape \[64\]\) needs bytes"),
        (set_type("output_norm.weight", 77), "'output_norm.weight' has unknown type 77"),
        (set_type("output_norm.weight", int(Q.Q8_K)), "not a multiple of its 256-value blocks"),
    ],
)
def test_malformed_files_are_located_errors(tiny, edit, message: str) -> None:
    path, _ = tiny
    bad = corrupt(path, edit)
    with pytest.raises(ModelFileError, match=message) as caught:
        read_gguf_header(bad)
    assert str(bad) in str(caught.value) and "Fix:" in str(caught.value)


def test_truncated_file_names_the_tensor_cut_off(tiny, tmp_path: Path) -> None:
    path, _ = tiny
    data = path.read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(data[: len(data) - 100])
    with pytest.raises(ModelFileError, match=r"GGUF tensor '[^']+' .* needs bytes .* but the file has"):
        read_gguf_header(cut)
    cut.write_bytes(data[:300])
    with pytest.raises(ModelFileError, match="past the end"):
        read_gguf_header(cut)
    cut.write_bytes(data[:40])
    with pytest.raises(ModelFileError, match="7 metadata keys and 5 tensors, more than a 40-byte file can hold"):
        read_gguf_header(cut)
    cut.write_bytes(b"GGUF")
    with pytest.raises(ModelFileError, match="shorter than"):
        read_gguf_header(cut)


@pytest.mark.slow
def test_packaged_smollm2_file_against_gguf() -> None:
    """The example's real file: every tensor record as gguf reads it, and the statistics of one
    tensor of each stored type against gguf.quants.dequantize in float64."""
    header = read_gguf_header(SMOLLM2)
    reader = gguf.GGUFReader(SMOLLM2)
    theirs = {t.name: t for t in reader.tensors}
    assert len(header.tensors) == 272 == len(theirs)
    for tensor in header.tensors:
        assert (tensor.type_name, tensor.offset, tensor.stored_bytes) == (
            theirs[tensor.name].tensor_type.name,
            theirs[tensor.name].data_offset,
            theirs[tensor.name].n_bytes,
        )
    assert header.metadata["general.license"] == "apache-2.0" and header.metadata["llama.context_length"] == 8192
    chosen = ["token_embd.weight", "blk.0.ffn_down.weight", "blk.0.attn_norm.weight"]
    wanted = {name: dequantize(theirs[name].data, theirs[name].tensor_type) for name in chosen}
    options = w.WeightOptions()
    decoded = {t.name: t for t in iter_gguf_tensors(SMOLLM2) if t.name in chosen}
    for name, values in wanted.items():
        got = w.summarise_tensor(decoded[name], options)
        for key, value in reference_statistics(values).items():
            assert getattr(got, key) == pytest.approx(value, rel=1e-9, abs=1e-15), (name, key)
    assert w.summarise_tensor(decoded["token_embd.weight"], options).dtype == "Q8_0"


def test_a_non_finite_block_scale_gives_counted_nan_and_inf(tiny, tmp_path: Path) -> None:
    import warnings

    path, stored = tiny
    tensor = next(t for t in read_gguf_header(path).tensors if t.name == "blk.1.ffn_down.weight")  # Q8_0
    data = bytearray(path.read_bytes())
    data[tensor.offset : tensor.offset + 2] = np.array([np.inf], dtype=np.float16).tobytes()  # first block's scale
    bad = tmp_path / "inf-scale.gguf"
    bad.write_bytes(bytes(data))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        facts = w.extract_weights([bad], parameter_names=None, trainable_names=None, spec_license="MIT")
    got = next(t for t in facts.tensors if t.name == "blk.1.ffn_down.weight")
    codes = np.frombuffer(bytes(data[tensor.offset + 2 : tensor.offset + 34]), dtype=np.int8)
    assert got.nan_count == int((codes == 0).sum()) and got.inf_count == int((codes != 0).sum())
    assert "blk.1.ffn_down.weight" in facts.spectral.skipped  # a matrix with non-finite values has no spectrum
