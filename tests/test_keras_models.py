"""Keras models end to end: the repository's digit CNN and diabetes specs (fewer epochs) trained in
a build, their published `.keras` files loaded back, every image metric equal to scikit-learn's on
the published model's own predictions, the weights bit-identical between two builds, and broken or
hostile Keras files refused with exit status 2 and the previous site intact."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from tests.conftest import REPO, reporter, scaffold_project, tree_digest

pytestmark = pytest.mark.slow
os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

SLUGS = ("digits-keras-cnn", "digits-keras-cnn-published", "digits-keras-cnn-onnx", "diabetes-keras-dense")


def copy_examples(root: Path) -> None:
    for slug in SLUGS:
        text = (REPO / "models" / slug / "model.yaml").read_text()
        text = text.replace("epochs: 8", "epochs: 2").replace("epochs: 60", "epochs: 5")
        (root / "models" / slug).mkdir(parents=True)
        (root / "models" / slug / "model.yaml").write_text(text)


@pytest.fixture(scope="module")
def keras_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = scaffold_project(tmp_path_factory.mktemp("keras") / "project")
    copy_examples(root)
    done = reporter("build", str(root), cwd=root)
    assert done.returncode == 0, done.stderr
    return root


def facts(root: Path, slug: str) -> dict:
    return json.loads((root / "build" / "facts" / f"{slug}.json").read_text())


def evaluation_images() -> tuple[pd.DataFrame, np.ndarray]:
    """The digits evaluation rows exactly as the specs' split picks them (seed 0, a quarter)."""
    import sklearn

    frame = pd.read_csv(Path(sklearn.__file__).parent / "datasets" / "data" / "digits.csv.gz", header=None)
    order = np.random.default_rng(0).permutation(len(frame))
    held_out = np.sort(order[: round(len(frame) * 0.25)])
    rows = frame.iloc[held_out]
    return rows.iloc[:, :64], rows.iloc[:, 64].to_numpy()


def test_image_metrics_equal_scikit_learn_on_the_published_model(keras_project: Path) -> None:
    path = keras_project / "build" / "checkpoints" / "digits-keras-cnn" / "model.keras"
    model = keras.saving.load_model(path)
    pixels, labels = evaluation_images()
    probabilities = model.predict(pixels.to_numpy(np.float32).reshape(-1, 8, 8, 1), verbose=0)
    predicted = probabilities.argmax(axis=1)
    for slug in ("digits-keras-cnn", "digits-keras-cnn-published", "digits-keras-cnn-onnx"):
        [evaluation] = facts(keras_project, slug)["evaluations"]
        assert evaluation["kind"] == "image_classification"
        p = evaluation["performance"]
        assert p["rows"] == len(labels) == 449
        assert p["accuracy"]["value"] == pytest.approx(metrics.accuracy_score(labels, predicted), abs=1e-12)
        assert p["macro_f1"]["value"] == pytest.approx(metrics.f1_score(labels, predicted, average="macro"), abs=1e-9)
        assert p["confusion"] == metrics.confusion_matrix(labels, predicted).tolist()
        assert p["log_loss"]["value"] == pytest.approx(metrics.log_loss(labels, probabilities), abs=1e-6)
        precision = metrics.precision_score(labels, predicted, average=None, zero_division=0)
        assert [c["precision"]["value"] for c in p["per_class"]] == pytest.approx(precision, abs=1e-9)
        images = evaluation["images"]
        assert images["height"] == images["width"] == 8 and images["examples"]
        for example in images["examples"]:
            assert example["pixels"] == pixels.loc[example["row"]].astype(float).tolist()
        assert evaluation["fairness"]["not_reported"].startswith("The images are handwritten digits")


def test_onnx_scores_equal_keras_and_its_initializers_are_the_keras_weights(keras_project: Path) -> None:
    """The exported graph run with onnxruntime gives the Keras model's probabilities within 1e-5 and
    the same digits; each initializer is a Keras weight as the exporter lays it out (a convolution
    kernel (kh, kw, in, out) transposed to (out, in, kh, kw), a bias broadcast to (1, 1, 1, out))."""
    import onnxruntime

    from reporter.extract.onnx_file import iter_onnx_tensors

    folder = keras_project / "build" / "checkpoints" / "digits-keras-cnn"
    model = keras.saving.load_model(folder / "model.keras")
    pixels, _ = evaluation_images()
    images = pixels.to_numpy(np.float32).reshape(-1, 8, 8, 1)
    session = onnxruntime.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    from_onnx = session.run(None, {session.get_inputs()[0].name: images})[0]
    from_keras = model.predict(images, verbose=0)
    assert np.abs(from_onnx - from_keras).max() <= 1e-5
    assert np.array_equal(from_onnx.argmax(axis=1), from_keras.argmax(axis=1))
    weights = {f"{layer.name}/{w.name}": np.asarray(w.numpy()) for layer in model.layers for w in layer.weights}
    as_exported = {
        name: np.transpose(value, (3, 2, 0, 1)) if value.ndim == 4 else value for name, value in weights.items()
    }
    stored = [np.asarray(t.data).reshape(t.shape) for t in iter_onnx_tensors(folder / "model.onnx")]
    assert len(stored) == len(as_exported)
    for value in as_exported.values():
        assert any(s.size == value.size and np.array_equal(s.reshape(value.shape), value) for s in stored)
    card = facts(keras_project, "digits-keras-cnn-onnx")
    assert card["architecture"]["config"]["opset"] == 20
    trained = facts(keras_project, "digits-keras-cnn")
    assert card["weights"]["parameters_total"] == trained["weights"]["parameters_total"]
    # The same matrices, outputs × the rest, whichever way the format lays a kernel out.
    [keras_conv], [onnx_conv] = trained["weights"]["layers"], card["weights"]["layers"]
    assert (keras_conv["rows"], keras_conv["columns"]) == (onnx_conv["rows"], onnx_conv["columns"]) == (64, 288)
    assert keras_conv["spectral_norm"] == pytest.approx(onnx_conv["spectral_norm"], rel=1e-5)


def occlusion_by_hand(predict, image: np.ndarray, target: int, side: int) -> np.ndarray:
    """The occlusion map in float64 numpy: for every position of a side × side black square, the
    drop in the target class's probability, averaged over the squares covering each pixel."""
    height, width = image.shape
    base = predict(image[None])[0, target]
    total, covered = np.zeros((height, width)), np.zeros((height, width))
    for top in range(height - side + 1):
        for left in range(width - side + 1):
            hidden = image.copy()
            hidden[top : top + side, left : left + side] = 0.0
            total[top : top + side, left : left + side] += base - predict(hidden[None])[0, target]
            covered[top : top + side, left : left + side] += 1
    return total / covered


def test_occlusion_maps_equal_a_numpy_recomputation(keras_project: Path) -> None:
    model = keras.saving.load_model(keras_project / "build" / "checkpoints" / "digits-keras-cnn" / "model.keras")

    def predict(images: np.ndarray) -> np.ndarray:
        return model.predict(images.reshape(-1, 8, 8, 1).astype(np.float32), verbose=0).astype(np.float64)

    for slug in ("digits-keras-cnn", "digits-keras-cnn-onnx"):
        [evaluation] = facts(keras_project, slug)["evaluations"]
        images = evaluation["images"]
        assert images["occlusion"] == {"window": 2, "stride": 1, "baseline": 0.0}
        classes = evaluation["performance"]["classes"]
        wrong = [e for e in images["examples"] if e["predicted"] != e["label"]][:2]
        for example in [images["examples"][0], *wrong]:
            image = np.asarray(example["pixels"]).reshape(8, 8)
            expected = occlusion_by_hand(predict, image, classes.index(example["predicted"]), side=2)
            assert np.abs(np.asarray(example["occlusion"]).reshape(8, 8) - expected).max() < 1e-5


def test_layers_weights_and_training_on_the_cards(keras_project: Path) -> None:
    trained = facts(keras_project, "digits-keras-cnn")
    layers = trained["architecture"]["layers"]
    assert [layer["layer_class"] for layer in layers][3:] == [
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
    ]
    assert layers[2]["output_shape"] == "(None, 28, 28, 1)" and layers[3]["parameters"] == 320
    assert trained["weights"]["parameters_total"] == sum(layer["parameters"] for layer in layers) == 34826
    assert len(trained["training"]["history"]) == 2
    assert trained["training"]["hyperparameters"]["layers"][3] == "Conv2D(filters=32, kernel_size=3, activation=relu)"
    loaded = facts(keras_project, "digits-keras-cnn-published")
    assert loaded["weights"]["fingerprint"] == trained["weights"]["fingerprint"]
    assert loaded["architecture"]["layers"] == layers
    regression = facts(keras_project, "diabetes-keras-dense")
    assert regression["weights"]["parameters_trainable"] == 31  # Dense 1→10 and 10→1; Normalization's 3 are not
    assert [g["group"] for g in regression["evaluations"][0]["fairness"]["features"][0]["groups"]] == ["1", "2"]
    page = (keras_project / "site" / "models" / "digits-keras-cnn" / "index.html").read_text()
    assert "example-images.svg" in page and "occlusion-maps.svg" in page and "no fairness claim is made" in page


def test_verify_reproduces_the_loaded_card(keras_project: Path) -> None:
    done = reporter(
        "verify",
        "models/digits-keras-cnn-published/model.yaml",
        "site/models/digits-keras-cnn-published/facts.json",
        cwd=keras_project,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "reproduced" in done.stdout + done.stderr


def test_two_builds_publish_the_same_keras_file(keras_project: Path, tmp_path: Path) -> None:
    again = scaffold_project(tmp_path / "again")
    copy_examples(again)
    for slug in SLUGS[1:]:
        shutil.rmtree(again / "models" / slug)
    done = reporter("build", str(again), cwd=again)
    assert done.returncode == 0, done.stderr
    first, second = (
        hashlib.sha256((root / "build" / "checkpoints" / "digits-keras-cnn" / "model.keras").read_bytes()).hexdigest()
        for root in (keras_project, again)
    )
    assert first == second


LOADED = """\
name: A Keras file from elsewhere
version: "1"
task: image classification
description: Loaded from a file.
owners: [{name: tests}]
license: MIT
intended_uses: [tests]
out_of_scope_uses: [everything else]
limitations: [none]
source:
  load: {format: keras, file: {path: weights/model.keras}}
"""


ONNX_LOADED = LOADED.replace(
    "format: keras, file: {path: weights/model.keras}", "format: onnx, file: {path: weights/model.onnx}"
)


def test_an_onnx_file_with_a_custom_operator_exits_2_and_leaves_the_site(keras_project: Path, tmp_path: Path) -> None:
    import onnx

    root = scaffold_project(tmp_path / "custom")
    shutil.copytree(keras_project / "site", root / "site")
    before = tree_digest(root / "site")
    graph = onnx.load(str(keras_project / "build" / "checkpoints" / "digits-keras-cnn" / "model.onnx"))
    graph.graph.node[0].domain = "com.example.custom"
    target = root / "models" / "elsewhere" / "weights" / "model.onnx"
    target.parent.mkdir(parents=True)
    onnx.save(graph, str(target))
    (root / "models" / "elsewhere" / "model.yaml").write_text(ONNX_LOADED)
    done = reporter("build", str(root), cwd=root)
    assert done.returncode == 2, done.stderr
    assert "model.onnx" in done.stderr and "com.example.custom" in done.stderr and "Fix:" in done.stderr
    assert tree_digest(root / "site") == before


@pytest.mark.parametrize("damage", ["truncated", "traversal", "lambda"])
def test_broken_keras_files_exit_2_and_leave_the_site(keras_project: Path, tmp_path: Path, damage: str) -> None:
    root = scaffold_project(tmp_path / "broken")
    shutil.copytree(keras_project / "site", root / "site")
    before = tree_digest(root / "site")
    target = root / "models" / "elsewhere" / "weights" / "model.keras"
    target.parent.mkdir(parents=True)
    (root / "models" / "elsewhere" / "model.yaml").write_text(LOADED)
    shutil.copy(keras_project / "build" / "checkpoints" / "digits-keras-cnn" / "model.keras", target)
    if damage == "truncated":
        target.write_bytes(target.read_bytes()[:5000])
    elif damage == "traversal":
        import zipfile

        with zipfile.ZipFile(target, "a") as archive:
            archive.writestr("../outside.txt", b"x")
    else:
        keras.backend.clear_session()
        inputs = keras.Input((3,))
        keras.Model(inputs, keras.layers.Lambda(lambda x: x + 1)(inputs)).save(target)
    done = reporter("build", str(root), cwd=root)
    assert done.returncode == 2, done.stderr
    assert "model.keras" in done.stderr and "Fix:" in done.stderr
    assert tree_digest(root / "site") == before


CUSTOM_LAYERS = '''
import keras


class Scale(keras.layers.Layer):
    """Multiplies its inputs by one learned factor per feature."""

    def build(self, input_shape):
        self.factor = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="factor")

    def call(self, inputs):
        return inputs * self.factor


def custom_objects():
    return {"Scale": Scale}
'''

CUSTOM_SPEC = (
    LOADED.replace(
        "  load: {format: keras, file: {path: weights/model.keras}}",
        "  load: {format: keras, file: {path: weights/model.keras}, module: 'layers:custom_objects'}",
    )
    + """\
data:
  - {id: rows, role: evaluation, file: {path: rows.csv}, license: CC0-1.0, description: Random rows.}
evaluation:
  task: multiclass_classification
  label: kind
"""
)


def test_a_custom_layer_loads_only_from_trusted_code_the_spec_names(tmp_path: Path) -> None:
    import importlib.util

    root = scaffold_project(tmp_path / "custom")
    folder = root / "models" / "custom"
    (folder / "weights").mkdir(parents=True)
    (folder / "layers.py").write_text(CUSTOM_LAYERS)
    spec = importlib.util.spec_from_file_location("custom_layers_for_test", folder / "layers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(module.Scale()(inputs)))
    model.layers[1].set_weights([np.array([2.0, -1.0, 0.5, 3.0], dtype=np.float32)])
    model.save(folder / "weights" / "model.keras")
    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 4)).astype(np.float32)
    kinds = np.array(["a", "b", "c"])[rng.integers(0, 3, size=200)]
    rows = pd.DataFrame(features, columns=["x0", "x1", "x2", "x3"]).assign(kind=kinds)
    rows.to_csv(folder / "rows.csv", index=False)
    (folder / "model.yaml").write_text(CUSTOM_SPEC.replace(", module: 'layers:custom_objects'", ""))
    refused = reporter("build", str(root), cwd=root)
    assert refused.returncode == 2 and "scale (Scale, from custom_layers_for_test)" in refused.stderr
    assert "source.load.module" in refused.stderr and "Fix:" in refused.stderr
    (folder / "model.yaml").write_text(CUSTOM_SPEC)
    done = reporter("build", str(root), cwd=root)
    assert done.returncode == 0, done.stderr
    performance = facts(root, "custom")["evaluations"][0]["performance"]
    predicted = np.array(["a", "b", "c"])[model.predict(features, verbose=0).argmax(axis=1)]
    assert performance["accuracy"]["value"] == pytest.approx(metrics.accuracy_score(kinds, predicted), abs=1e-12)
    assert performance["macro_f1"]["value"] == pytest.approx(
        metrics.f1_score(kinds, predicted, average="macro"), abs=1e-12
    )
