"""Property-based tests (hypothesis) over generated input files, with the bad-input corpus' contract.

safetensors files (valid ones, and ones with corrupted header lengths, offsets, dtypes, shapes and
non-finite values) and evaluation CSV files (mixed types, missing values, duplicated rows and
columns, other encodings): the weight reader and the data reader either succeed or raise the
located error that names the file, never anything else and never a warning; a real build of either
exits 0 or 2 with no traceback, names the file when it refuses it, and leaves the previous site
byte for byte intact.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import shutil
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reporter.cli import main
from reporter.errors import ModelFileError
from reporter.extract.safetensors_file import DTYPES
from reporter.extract.weights import extract_weights
from tests.conftest import LOADED_SPEC, scaffold_project, tiny_checkpoint, tree_digest

STORAGE = {name: np.dtype(storage) for name, (storage, _) in DTYPES.items() if name != "BF16"} | {
    "BF16": np.dtype("<u2")
}
FLOATS = ["F64", "F32", "F16", "BF16"]
SPECIAL = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1e-30, 65504.0, 3.0e38]


@st.composite
def tensors(draw: st.DrawFn) -> tuple[str, list[int], bytes]:
    """One tensor: a dtype, a shape (some matrices large enough for a spectrum) and its bytes,
    with NaN, ±Inf and extreme values mixed into the floats."""
    dtype = draw(st.sampled_from(list(DTYPES)))
    shape = draw(st.sampled_from([[], [0], [5], [3, 4], [24, 21], [2, 3, 4], [21, 30]]))
    count = math.prod(shape)
    if dtype in FLOATS:
        values = np.array(
            draw(st.lists(st.sampled_from(SPECIAL) | st.floats(-100, 100, width=32), min_size=count, max_size=count)),
            dtype=np.float64,
        )
        if dtype == "BF16":
            raw = (values.astype(np.float32).view(np.uint32) >> 16).astype("<u2").tobytes()
        else:
            with np.errstate(over="ignore"):
                raw = values.astype(STORAGE[dtype]).tobytes()
    else:
        raw = draw(st.binary(min_size=count * STORAGE[dtype].itemsize, max_size=count * STORAGE[dtype].itemsize))
        if dtype == "BOOL":
            raw = bytes(b & 1 for b in raw)
    return dtype, shape, raw


CORRUPTIONS = [
    "none",
    "header-length-short",
    "header-length-long",
    "offset-shifted",
    "offsets-swapped",
    "overlap",
    "hole",
    "trailing-bytes",
    "truncated",
    "dtype-unknown",
    "shape-wrong",
    "not-an-object",
]


# Corruptions that leave a valid file in some draws: swapped offsets of an empty tensor, and an
# overlap asked of a file with one tensor. Every other corruption must be refused, every time.
ACCEPTABLE = {"none", "offsets-swapped", "overlap"}


@st.composite
def safetensors_files(draw: st.DrawFn) -> tuple[bytes, str]:
    """The bytes of a safetensors file, valid or corrupted in one way, and how."""
    names = draw(st.lists(st.from_regex(r"[a-z]{1,6}(\.[a-z0-9]{1,4}){0,2}", fullmatch=True), min_size=1, max_size=4))
    header: dict[str, object] = {}
    data = b""
    for name in dict.fromkeys(names):
        dtype, shape, raw = draw(tensors())
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    corruption = draw(st.sampled_from(CORRUPTIONS))
    first = header[next(iter(header))]
    assert isinstance(first, dict)
    if corruption == "offset-shifted":
        # An empty tensor moved within the data is still valid (it covers no byte): move it past the end.
        empty = first["data_offsets"][0] == first["data_offsets"][1]
        shift = draw(st.integers(1, 8)) + (len(data) if empty else 0)
        first["data_offsets"] = [o + shift for o in first["data_offsets"]]
    elif corruption == "offsets-swapped":
        first["data_offsets"] = first["data_offsets"][::-1]
    elif corruption == "overlap" and len(header) > 1:
        second = list(header.values())[1]
        assert isinstance(second, dict)
        second["data_offsets"] = [o - 2 for o in second["data_offsets"]]
    elif corruption == "hole":
        for entry in header.values():
            assert isinstance(entry, dict)
            entry["data_offsets"] = [o + 4 for o in entry["data_offsets"]]
        data = b"\0" * 4 + data
    elif corruption == "trailing-bytes":
        data += b"\0" * draw(st.integers(1, 16))
    elif corruption == "dtype-unknown":
        first["dtype"] = draw(st.sampled_from(["Q4", "f32", "", "U64"]))
    elif corruption == "shape-wrong":
        first["shape"] = draw(st.sampled_from([[-1], [1, 2, 3, 4, 5, 6], ["3"], 7]))
    text = json.dumps(header if corruption != "not-an-object" else list(header)).encode()
    text += b" " * draw(st.integers(0, 8))  # writers pad the header with spaces
    length = len(text)
    if corruption == "header-length-short":
        length -= draw(st.integers(1, min(8, length)))
    elif corruption == "header-length-long":
        length += draw(st.integers(1, 8))
    raw = struct.pack("<Q", length) + text + data
    if corruption == "truncated":
        raw = raw[: draw(st.integers(0, len(raw) - 1))]
    return raw, corruption


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(generated=safetensors_files())
def test_any_safetensors_file_is_summarised_or_refused_with_its_name(tmp_path: Path, generated) -> None:
    raw, corruption = generated
    path = tmp_path / "model.safetensors"
    path.write_bytes(raw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning from numpy or torch would reach the user's terminal
        try:
            facts = extract_weights([path], parameter_names=None, trainable_names=None)
        except ModelFileError as exc:
            assert corruption != "none", f"refused a valid file: {exc}"
            assert str(path) in str(exc) and "Fix:" in str(exc)
            return
    assert corruption in ACCEPTABLE, f"accepted a file with {corruption}"
    for tensor in facts.tensors:
        assert tensor.nan_count + tensor.inf_count <= tensor.numel
    skipped = facts.spectral.skipped
    for layer in facts.layers:
        assert layer.name not in skipped and math.isfinite(layer.spectral_norm)


@st.composite
def evaluation_csvs(draw: st.DrawFn) -> tuple[bytes, str]:
    """An evaluation CSV for a model scored elsewhere (label, score, one sensitive column): cells of
    mixed types and missing values, duplicated rows and header names, in UTF-8 or another encoding."""
    rows = draw(st.integers(0, 60))
    cell = st.one_of(
        st.sampled_from(["", "NA", "?", "nan", "inf", "-1", "0", "1", "0.5", "yes", ">50K", "Ünïcødé", '"q"']),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(-5, 5).map(str),
    )

    def mostly(valid: st.SearchStrategy[str]) -> str:
        """A valid cell nine times in ten, so that some files build and their figures are checked."""
        return draw(cell) if draw(st.integers(0, 9)) == 0 else draw(valid)

    label = st.sampled_from([">50K", "<=50K"])
    score = st.floats(0, 1).map(lambda x: f"{x:.4f}")
    group = st.sampled_from(["Female", "Male", "Ünknown"])
    broken_headers = ["income,score,sex,sex", "income,score,score,sex", "income,sex"]
    header = draw(st.sampled_from(broken_headers)) if draw(st.integers(0, 4)) == 0 else "income,score,sex"
    lines = [header]
    width = header.count(",") + 1
    body = [[mostly(label), mostly(score), mostly(group), mostly(group)][:width] for _ in range(rows)]
    if body and draw(st.booleans()):
        body += body[: draw(st.integers(1, len(body)))]  # duplicated rows
    lines += [",".join(r) for r in body]
    text = "\n".join(lines) + "\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    declared = encoding if draw(st.booleans()) else None  # the spec names the encoding half the time
    return text.encode(encoding, errors="replace"), declared


SCORED_SPEC = (
    LOADED_SPEC
    + """\
data:
  - {id: eval, role: evaluation, file: {path: eval.csv}, license: CC0-1.0, description: Generated rows.}
evaluation:
  label: income
  positive_label: [">50K"]
  scores_column: score
  sensitive_features: [sex]
  min_group_size: 2
  privacy_threshold: 1
"""
)


@pytest.fixture(scope="session")
def built_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with one model scored from an evaluation file, built once (few replicates: speed)."""
    root = scaffold_project(tmp_path_factory.mktemp("generated") / "project")
    config = (root / "mkdocs.yml").read_text()
    (root / "mkdocs.yml").write_text(config.replace("bootstrap_samples: 1000", "bootstrap_samples: 20"))
    model = root / "models" / "scored"
    (model / "weights").mkdir(parents=True)
    (model / "weights" / "tiny.safetensors").write_bytes(tiny_checkpoint())
    (model / "model.yaml").write_text(SCORED_SPEC)
    rows = ["income,score,sex"] + [f"{'>50K' if i % 3 else '<=50K'},{i / 40:.3f},{'FM'[i % 2]}" for i in range(40)]
    (model / "eval.csv").write_text("\n".join(rows) + "\n")
    assert _build(root)[0] == 0
    return root


def _build(root: Path) -> tuple[int, str]:
    """`reporter build` in this process (a subprocess per example would take minutes)."""
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
        status = main(["build", str(root), "--quiet"])
    return status, errors.getvalue()


def _copy(built_project: Path, tmp_path: Path) -> Path:
    """A fresh copy of the built project for one example (hypothesis reuses ``tmp_path``)."""
    root = tmp_path / "project"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(built_project, root)
    return root


def _contract(root: Path, culprit: Path) -> None:
    site, pages = tree_digest(root / "site"), tree_digest(root / "site_src")
    try:
        status, errors = _build(root)
    except Exception as exc:  # the contract is that nothing escapes main()
        raise AssertionError(f"{type(exc).__name__} escaped the command: {exc}") from exc
    assert status in (0, 2), errors
    assert "Traceback" not in errors
    if status == 2:
        assert str(culprit) in errors and "Fix:" in errors, errors
        assert tree_digest(root / "site") == site and tree_digest(root / "site_src") == pages


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(generated=evaluation_csvs())
def test_any_evaluation_file_builds_or_is_refused_with_its_name(built_project: Path, tmp_path: Path, generated) -> None:
    raw, declared = generated
    root = _copy(built_project, tmp_path)
    culprit = root / "models" / "scored" / "eval.csv"
    culprit.write_bytes(raw)
    if declared:
        spec = root / "models" / "scored" / "model.yaml"
        spec.write_text(
            spec.read_text().replace(
                "file: {path: eval.csv}", f"file: {{path: eval.csv}}, format: {{encoding: {declared}}}"
            )
        )
    _contract(root, culprit)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(generated=safetensors_files())
def test_any_checkpoint_builds_or_is_refused_with_its_name(built_project: Path, tmp_path: Path, generated) -> None:
    raw, _ = generated
    root = _copy(built_project, tmp_path)
    culprit = root / "models" / "scored" / "weights" / "tiny.safetensors"
    culprit.write_bytes(raw)
    _contract(root, culprit)
