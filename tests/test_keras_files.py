"""Keras files read without Keras: every weight equals what Keras itself holds (`layer.get_weights()`),
bit for bit, for `.keras` archives and legacy `.h5` files; malformed and hostile files are refused
with the file named and a fix."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from reporter.errors import ModelFileError
from reporter.extract.keras_file import iter_keras_tensors, read_keras_file, variable_names
from reporter.runners.keras_model import refused_layers, write_reproducibly
from tests.conftest import FIXTURES

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
h5py = pytest.importorskip("h5py")


def small_model(name: str = "small") -> object:
    """A network whose weight groups are numbered apart from its layer names (two Dense layers, a
    BatchNormalization without `scale`, a Conv2D without bias), with weights that are not zero."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(3)
    inputs = keras.Input((6, 6, 1))
    x = keras.layers.Conv2D(4, 3, use_bias=False, name="features")(inputs)
    x = keras.layers.BatchNormalization(scale=False)(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(5, activation="relu", name="dense_2")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="dense_1")(x)
    model = keras.Model(inputs, outputs, name=name)
    model.layers[2].moving_mean.assign(np.arange(4, dtype="float32"))  # running statistics that are not defaults
    return model


def keras_weights(model: object) -> dict[str, np.ndarray]:
    """What Keras holds: each layer's `get_weights()`, named `<layer>/<variable>`."""
    return {
        f"{layer.name}/{weight.name}": value
        for layer in model.layers  # type: ignore[attr-defined]
        for weight, value in zip(layer.weights, layer.get_weights(), strict=True)
    }


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_weights_equal_keras_get_weights_bit_for_bit(tmp_path: Path, suffix: str) -> None:
    model = small_model()
    path = tmp_path / f"model{suffix}"
    model.save(path)  # type: ignore[attr-defined]
    expected = keras_weights(model)
    read = {tensor.name: tensor for tensor in iter_keras_tensors(path)}
    assert sorted(read) == sorted(expected)
    for name, value in expected.items():
        tensor = read[name]
        assert tensor.shape == value.shape and tensor.dtype == "F32"
        assert np.array_equal(np.asarray(tensor.data).reshape(tensor.shape), value), name
    assert read_keras_file(path).keras_version == keras.__version__


def test_group_numbering_is_mapped_back_to_layer_names(tmp_path: Path) -> None:
    """`layers/dense` of the weights file holds the layer named `dense_2` (numbered by class, not name)."""
    model = small_model()
    path = tmp_path / "model.keras"
    model.save(path)  # type: ignore[attr-defined]
    with zipfile.ZipFile(path) as archive, h5py.File(io.BytesIO(archive.read("model.weights.h5"))) as h5:
        assert h5["layers/dense/vars"].attrs["name"] == "dense_2"
        assert h5["layers/dense/vars/0"].shape == (64, 5)
    names = {tensor.name: tensor.shape for tensor in iter_keras_tensors(path)}
    assert names["dense_2/kernel"] == (64, 5) and names["dense_1/kernel"] == (5, 3)
    assert "features/bias" not in names and "batch_normalization/gamma" not in names


def test_variable_names_follow_the_layer_configuration() -> None:
    assert variable_names({"class_name": "Dense", "config": {"use_bias": False}}, 1) == ["kernel"]
    assert variable_names({"class_name": "BatchNormalization", "config": {"center": False}}, 3) == [
        "gamma",
        "moving_mean",
        "moving_variance",
    ]
    assert variable_names({"class_name": "SomethingNew", "config": {}}, 2) == ["0", "1"]


def test_reproducible_archive_gives_the_same_bytes(tmp_path: Path) -> None:
    model = small_model()
    first, second = tmp_path / "a.keras", tmp_path / "b.keras"
    for path in (first, second):
        model.save(path)  # type: ignore[attr-defined]
        write_reproducibly(path)
    assert first.read_bytes() == second.read_bytes()
    assert {tensor.name for tensor in iter_keras_tensors(first)} == set(keras_weights(model))


# --- hostile and broken files ------------------------------------------------------------------


def saved(tmp_path: Path) -> Path:
    path = tmp_path / "model.keras"
    small_model().save(path)  # type: ignore[attr-defined]
    return path


def refused(path: Path) -> str:
    with pytest.raises(ModelFileError) as caught:
        list(iter_keras_tensors(path))
    message = str(caught.value)
    assert str(path) in message and "Fix:" in message
    return message


def test_truncated_archive_is_refused(tmp_path: Path) -> None:
    path = saved(tmp_path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert "truncated or corrupt" in refused(path)


def test_member_outside_the_archive_is_refused(tmp_path: Path) -> None:
    path = saved(tmp_path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("../../escape.txt", b"x")
    assert "outside the archive" in refused(path)


def test_external_link_is_refused(tmp_path: Path) -> None:
    model = small_model()
    path = tmp_path / "model.h5"
    model.save(path)  # type: ignore[attr-defined]
    with h5py.File(path, "a") as h5:
        h5["model_weights/elsewhere"] = h5py.ExternalLink("/etc/passwd", "/data")
    assert "external link" in refused(path)


def test_virtual_dataset_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.h5"
    small_model().save(path)  # type: ignore[attr-defined]
    with h5py.File(path, "a") as h5:
        layout = h5py.VirtualLayout(shape=(4,), dtype="f4")
        layout[:] = h5py.VirtualSource(str(tmp_path / "other.h5"), "data", shape=(4,))
        h5.create_virtual_dataset("model_weights/virtual", layout)
    assert "virtual dataset" in refused(path)


def test_weight_shape_disagreeing_with_the_configuration_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.h5"
    small_model().save(path)  # type: ignore[attr-defined]
    with h5py.File(path, "a") as h5:
        config = json.loads(h5.attrs["model_config"])
        dense = next(layer for layer in config["config"]["layers"] if layer["config"]["name"] == "dense_1")
        dense["config"]["units"] = 4
        h5.attrs["model_config"] = json.dumps(config)
    assert "configured with 4 units" in refused(path)


def test_a_lambda_layer_is_found_before_keras_loads_anything(tmp_path: Path) -> None:
    keras.backend.clear_session()
    inputs = keras.Input((3,))
    outputs = keras.layers.Lambda(lambda x: x * 2)(inputs)
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, outputs).save(path)
    config = read_keras_file(path).config
    assert any("Lambda" in found for found in refused_layers(config))
    assert refused_layers(read_keras_file(saved(tmp_path)).config) == []


# --- files TensorFlow wrote (tests/fixtures/keras/write_tf_fixtures.py) --------------------------

TF_WRITTEN = FIXTURES / "keras"


@pytest.mark.parametrize("writer", ["keras3_tensorflow", "tf_keras2"])
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_tensorflow_written_files_are_read_bit_for_bit_and_run_on_torch(writer: str, suffix: str) -> None:
    """What TensorFlow's Keras 3 and tf-keras (Keras 2) wrote: every weight equals the writer's
    `get_weights()` bit for bit, read without Keras; Keras on the PyTorch backend loads the file in
    safe mode and predicts what TensorFlow predicted, except a tf-keras `.keras` archive, whose
    model class (`tf_keras.src.engine.functional`) Keras 3 does not know: the `format: keras`
    loader reports that with the file named, and the weights are still described."""
    path = TF_WRITTEN / f"{writer}{suffix}"
    expected = dict(np.load(TF_WRITTEN / f"{writer}.expected.npz"))
    inputs, predictions = expected.pop("input"), expected.pop("predictions")
    read = {tensor.name: np.asarray(tensor.data).reshape(tensor.shape) for tensor in iter_keras_tensors(path)}
    assert sorted(read) == sorted(expected)
    for name, value in expected.items():
        assert read[name].dtype == value.dtype and np.array_equal(read[name], value), name
    if (writer, suffix) == ("tf_keras2", ".keras"):
        with pytest.raises(TypeError, match="Functional"):
            keras.saving.load_model(path, compile=False, safe_mode=True)
        return
    model = keras.saving.load_model(path, compile=False, safe_mode=True)
    assert np.abs(model.predict(inputs, verbose=0) - predictions).max() < 1e-5


def test_init_writes_a_keras_spec_from_the_file(tmp_path: Path) -> None:
    import yaml

    from reporter.cli import main

    (tmp_path / "weights").mkdir()
    small_model("small_net").save(tmp_path / "weights" / "net.keras")  # type: ignore[attr-defined]
    assert main(["init", str(tmp_path / "weights" / "net.keras"), "--project", str(tmp_path)]) == 0
    spec = yaml.safe_load((tmp_path / "models" / "small-net" / "model.yaml").read_text())
    assert spec["source"]["load"] == {"format": "keras", "file": {"path": "../../weights/net.keras"}}
