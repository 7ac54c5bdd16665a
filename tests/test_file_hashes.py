"""Input files' hashes remembered between builds by their stat signature: a file that did not
change is not read again, and any change to it (even one that keeps its size) is seen."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

import reporter.cache
from reporter.cache import FileHashes


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file whose bytes are read to hash it."""
    seen: list[Path] = []
    real = reporter.cache.sha256_file

    def counting(path: Path) -> str:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(reporter.cache, "sha256_file", counting)
    return seen


def _aged(path: Path, text: str, seconds_ago: int = 60) -> Path:
    """Write ``text`` and date the file back, as a file not written during this build."""
    path.write_text(text, encoding="utf-8")
    past = path.stat().st_mtime_ns - seconds_ago * 10**9
    os.utime(path, ns=(past, past))
    return path


def test_an_unchanged_file_is_not_read_again_by_the_next_build(tmp_path: Path, reads: list[Path]) -> None:
    weights = _aged(tmp_path / "weights.bin", "abc" * 1000)
    memo = tmp_path / "cache" / "file-hashes.json"
    first = FileHashes(memo)
    assert first.path(weights) == hashlib.sha256(weights.read_bytes()).hexdigest()
    first.save()
    assert memo.is_file() and reads == [weights]
    assert FileHashes(memo).path(weights) == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert reads == [weights]  # the second build took the remembered digest


def test_an_edit_that_keeps_the_size_is_seen(tmp_path: Path, reads: list[Path]) -> None:
    data = _aged(tmp_path / "data.csv", "a,b\n1,2\n")
    memo = tmp_path / "file-hashes.json"
    hashes = FileHashes(memo)
    before = hashes.path(data)
    hashes.save()
    _aged(data, "a,b\n3,4\n", seconds_ago=30)  # same size, another modification time
    after = FileHashes(memo).path(data)
    assert after != before and after == hashlib.sha256(b"a,b\n3,4\n").hexdigest()


def test_a_file_written_moments_ago_is_not_remembered(tmp_path: Path, reads: list[Path]) -> None:
    fresh = tmp_path / "fresh.txt"
    fresh.write_text("just written", encoding="utf-8")
    memo = tmp_path / "file-hashes.json"
    hashes = FileHashes(memo)
    hashes.path(fresh)
    hashes.save()
    assert not memo.exists()  # a write within the timestamp granularity could keep its signature
    FileHashes(memo).path(fresh)
    assert reads == [fresh, fresh]


def test_a_folder_hashes_names_and_contents_and_a_corrupt_memo_is_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    _aged(folder / "config.json", "{}")
    _aged(folder / "weights.bin", "w")
    memo = tmp_path / "file-hashes.json"
    memo.write_text("{not json", encoding="utf-8")
    digest = FileHashes(memo).path(folder)
    expected = hashlib.sha256()
    for name in ("config.json", "weights.bin"):
        expected.update(f"{name}\0{hashlib.sha256((folder / name).read_bytes()).hexdigest()}".encode())
    assert digest == expected.hexdigest()
    (folder / "config.json").rename(folder / "config2.json")
    assert FileHashes(memo).path(folder) != digest
