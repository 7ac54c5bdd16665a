"""ONNX files read with `onnx`: initializers described as stored, external data read from beside the
model and refused when it points elsewhere, custom operators refused, a broken file named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reporter.errors import ModelFileError
from reporter.extract.onnx_file import external_files, iter_onnx_tensors, read_onnx_graph

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

WEIGHT = np.arange(6, dtype=np.float32).reshape(3, 2) / 7


def linear_model(*, domain: str = "", external: str | None = None) -> object:
    """X (batch × 3) @ W (3 × 2), W an initializer (kept in ``external`` when given)."""
    weight = numpy_helper.from_array(WEIGHT, name="linear.weight")
    node = helper.make_node("MatMul", ["x", "linear.weight"], ["y"], domain=domain)
    graph = helper.make_graph(
        [node],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])],
        [weight],
    )
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    model = helper.make_model(graph, opset_imports=opsets, producer_name="tests")
    if external is not None:
        weight = model.graph.initializer[0]
        weight.data_location = TensorProto.EXTERNAL
        for key, value in (("location", external), ("offset", "0"), ("length", str(WEIGHT.nbytes))):
            entry = weight.external_data.add()
            entry.key, entry.value = key, value
        weight.ClearField("raw_data")
    return model


def test_initializers_are_read_as_stored(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    onnx.save(linear_model(), str(path))
    [tensor] = list(iter_onnx_tensors(path))
    assert tensor.name == "linear.weight" and tensor.shape == (3, 2) and tensor.dtype == "F32"
    assert np.array_equal(np.asarray(tensor.data).reshape(3, 2), WEIGHT)
    graph = read_onnx_graph(path)
    assert graph.opset == 17 and graph.inputs == [("x", ["batch", 3])] and graph.exporter_named == 0


def test_external_data_beside_the_model_is_read_and_hashed(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    onnx.save(linear_model(external="model.onnx.data"), str(path))
    (tmp_path / "model.onnx.data").write_bytes(WEIGHT.tobytes())
    [tensor] = list(iter_onnx_tensors(path))
    assert np.array_equal(np.asarray(tensor.data).reshape(3, 2), WEIGHT)
    assert external_files(path) == [(tmp_path / "model.onnx.data").resolve()]


def refused(path: Path) -> str:
    with pytest.raises(ModelFileError) as caught:
        list(iter_onnx_tensors(path))
    message = str(caught.value)
    assert str(path) in message and "Fix:" in message
    return message


def test_external_data_leaving_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.bin").write_bytes(WEIGHT.tobytes())
    folder = tmp_path / "model"
    folder.mkdir()
    path = folder / "model.onnx"
    onnx.save(linear_model(external="../secret.bin"), str(path))
    assert "outside the model's folder" in refused(path)


def test_external_data_shorter_than_declared_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    onnx.save(linear_model(external="model.onnx.data"), str(path))
    (tmp_path / "model.onnx.data").write_bytes(WEIGHT.tobytes()[:10])
    assert "truncated" in refused(path)


def test_a_custom_operator_domain_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    onnx.save(linear_model(domain="com.example.custom"), str(path))
    assert "com.example.custom" in refused(path)


def test_a_file_that_is_not_onnx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"\x08\x07garbage" * 10)
    assert "not a readable ONNX model" in refused(path)


def test_init_writes_an_onnx_spec_from_the_file(tmp_path: Path) -> None:
    import yaml

    from reporter.cli import main

    (tmp_path / "weights").mkdir()
    onnx.save(linear_model(), str(tmp_path / "weights" / "linear.onnx"))
    assert main(["init", str(tmp_path / "weights" / "linear.onnx"), "--project", str(tmp_path)]) == 0
    text = (tmp_path / "models" / "linear" / "model.yaml").read_text()
    assert yaml.safe_load(text)["source"]["load"] == {"format": "onnx", "file": {"path": "../../weights/linear.onnx"}}
