"""Property-based tests (hypothesis) over corrupted GGUF files: the reader either describes the
file or raises the located error naming it, never anything else, never a warning, and never
allocates what the file cannot hold."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reporter.errors import ModelFileError
from reporter.extract import weights as w
from reporter.extract.gguf_file import read_gguf_header
from tests.extract.test_gguf import write_gguf


@pytest.fixture(scope="session")
def valid_file(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("gguf") / "valid.gguf"
    write_gguf(path)
    return path.read_bytes()


@st.composite
def corruptions(draw: st.DrawFn, size: int, header: int) -> list[tuple[int, int]]:
    """Byte edits, most of them in the header (where lengths, counts, types and offsets live)."""
    positions = st.one_of(st.integers(0, header - 1), st.integers(0, size - 1))
    return draw(st.lists(st.tuples(positions, st.integers(0, 255)), min_size=1, max_size=6))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_corruption_is_described_or_refused_with_the_file_named(valid_file: bytes, tmp_path: Path, data) -> None:
    header_size = read_gguf_header_size(valid_file, tmp_path)
    edits = data.draw(corruptions(len(valid_file), header_size))
    cut = data.draw(st.one_of(st.none(), st.integers(0, len(valid_file))))
    corrupted = bytearray(valid_file)
    for position, value in edits:
        corrupted[position] = value
    path = tmp_path / "corrupted.gguf"
    path.write_bytes(bytes(corrupted[:cut] if cut is not None else corrupted))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            read_gguf_header(path)
            facts = w.extract_weights([path], parameter_names=None, trainable_names=None, spec_license="MIT")
        except ModelFileError as exc:
            assert str(path) in str(exc) and "Fix:" in str(exc)
            return
    assert facts.tensor_count == len(read_gguf_header(path).tensors)


def read_gguf_header_size(data: bytes, tmp_path: Path) -> int:
    path = tmp_path / "size.gguf"
    path.write_bytes(data)
    return read_gguf_header(path).data_start
