"""Images kept as files (a folder of class subfolders, or a CSV of paths with group columns): read
back to the very pixels written, refused with a located error when a file would be misread, and
evaluated end to end by an ONNX classifier whose figures equal scikit-learn's on the same images."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score

from reporter.datasets import read_table
from reporter.errors import DataError
from reporter.spec import DataSource, ImageLayout
from tests.conftest import card_header, evaluation_of, reporter

GREY = ImageLayout(height=8, width=8, channels=1)
COLOUR = ImageLayout(height=4, width=5, channels=3)


def source(**images: str) -> DataSource:
    return DataSource.model_validate(
        {"id": "images", "role": "evaluation", "images": images, "license": "CC0-1.0", "description": "test images"}
    )


def digit_images() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as 8-bit grey images (counts 0–16 times 15) and their digits."""
    digits = load_digits()
    return (digits.images * 15).astype(np.uint8), digits.target


def write_class_folder(folder: Path, images: np.ndarray, labels: np.ndarray) -> None:
    for index, (pixels, label) in enumerate(zip(images, labels, strict=True)):
        (folder / f"digit-{label}").mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels, mode="L").save(folder / f"digit-{label}" / f"{index:04d}.png")


def test_a_class_folder_reads_back_the_pixels_written(tmp_path: Path) -> None:
    images, labels = digit_images()
    write_class_folder(tmp_path / "digits", images[:40], labels[:40])
    (tmp_path / "digits" / ".DS_Store").write_bytes(b"not a class")
    table = read_table(
        source(), tmp_path / "digits", spec_path=tmp_path / "model.yaml", field="data.0", image_layout=GREY
    )
    frame = table.frame.set_index("path")
    for index in range(40):
        row = frame.loc[f"digit-{labels[index]}/{index:04d}.png"]
        assert row["label"] == f"digit-{labels[index]}"
        np.testing.assert_array_equal(
            row[list(table.pixel_columns)].to_numpy(dtype=np.uint8), images[index].reshape(-1)
        )
    assert table.rows_in_file == 40 and list(table.frame["path"]) == sorted(table.frame["path"])


def test_a_csv_of_paths_keeps_its_columns_and_reads_colour_row_by_row(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(6, 4, 5, 3), dtype=np.uint8)
    (tmp_path / "img").mkdir()
    for index, image in enumerate(pixels):
        Image.fromarray(image, mode="RGB").save(tmp_path / "img" / f"{index}.png")
    rows = pd.DataFrame({"file": [f"img/{i}.png" for i in range(6)], "kind": list("abcabc"), "site": list("xxxyyy")})
    rows.to_csv(tmp_path / "images.csv", index=False)
    table = read_table(
        source(path_column="file"),
        tmp_path / "images.csv",
        spec_path=tmp_path / "m.yaml",
        field="data.0",
        image_layout=COLOUR,
    )
    assert list(table.frame.columns[:3]) == ["file", "kind", "site"]
    np.testing.assert_array_equal(table.frame[list(table.pixel_columns)].to_numpy(), pixels.reshape(6, -1))
    listing = hashlib.sha256(hashlib.sha256((tmp_path / "images.csv").read_bytes()).hexdigest().encode() + b"\n")
    for index in range(6):
        image_hash = hashlib.sha256((tmp_path / "img" / f"{index}.png").read_bytes()).hexdigest()
        listing.update(f"img/{index}.png".encode() + b"\0" + image_hash.encode() + b"\n")
    assert table.sha256 == listing.hexdigest()


def refusal(tmp_path: Path, layout: ImageLayout, image: Image.Image | None, path: str = "a.png") -> str:
    """The error reading a one-image CSV whose image is ``image`` (saved as ``a.png``) at ``path``."""
    if image is not None:
        image.save(tmp_path / "a.png")
    pd.DataFrame({"file": [path], "label": ["x"]}).to_csv(tmp_path / "images.csv", index=False)
    with pytest.raises(DataError) as caught:
        read_table(
            source(path_column="file"),
            tmp_path / "images.csv",
            spec_path=tmp_path / "m.yaml",
            field="data.0",
            image_layout=layout,
        )
    return str(caught.value)


@pytest.mark.parametrize(
    ("image", "path", "expected"),
    [
        (Image.new("L", (9, 8)), "a.png", "is 9×8 pixels but evaluation.image states 8×8"),
        (Image.new("RGB", (8, 8), (10, 20, 30)), "a.png", "is in colour but evaluation.image states 1 channel"),
        (Image.new("I;16", (8, 8)), "a.png", "not 8 bits per channel"),
        (Image.new("LA", (8, 8), (0, 100)), "a.png", "partly transparent"),
        (None, "../outside.png", "leads outside"),
        (None, "missing.png", "is not a file"),
    ],
)
def test_images_that_would_be_misread_are_refused(
    tmp_path: Path, image: Image.Image | None, path: str, expected: str
) -> None:
    (tmp_path.parent / "outside.png").write_bytes(b"")
    message = refusal(tmp_path, GREY, image, path)
    assert expected in message and "Fix:" in message and "m.yaml: data.0" in message


def test_a_file_that_is_not_an_image_is_named(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    assert "cannot read image" in refusal(tmp_path, GREY, None) and "a.png" in refusal(tmp_path, GREY, None)
    (tmp_path / "digits" / "seven").mkdir(parents=True)
    (tmp_path / "digits" / "seven" / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="notes.txt is not an image file"):
        read_table(source(), tmp_path / "digits", spec_path=tmp_path / "m.yaml", field="data.0", image_layout=GREY)


def logistic_onnx(model: LogisticRegression, path: Path) -> None:
    """The fitted classifier as an ONNX graph: softmax(x · coefᵀ + intercept) on 64 pixels."""
    from onnx import TensorProto, helper, numpy_helper, save

    weights = numpy_helper.from_array(model.coef_.T.astype(np.float32), name="coef")
    bias = numpy_helper.from_array(model.intercept_.astype(np.float32), name="intercept")
    nodes = [
        helper.make_node("MatMul", ["x", "coef"], ["logits"]),
        helper.make_node("Add", ["logits", "intercept"], ["shifted"]),
        helper.make_node("Softmax", ["shifted"], ["y"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "logistic",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 10])],
        [weights, bias],
    )
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="tests"), str(path))


IMAGES_SPEC = (
    card_header(
        "Digits from image files",
        "image classification",
        "A logistic regression on 8×8 digits, exported to ONNX, evaluated on PNG files.",
    )
    + """\
source:
  load: {format: onnx, file: {path: logistic.onnx}}
data:
  - id: images
    role: evaluation
    file: {path: images.csv}
    images: {path_column: file}
    license: CC-BY-4.0
    description: Held-out digits saved as PNG files, with a made-up writer group per image.
evaluation:
  task: image_classification
  label: digit
  sensitive_features: [writer_group]
  min_group_size: 20
  image: {height: 8, width: 8, channels: 1}
"""
)


@pytest.mark.slow
def test_an_onnx_classifier_on_image_files_equals_scikit_learn(make_project) -> None:
    pytest.importorskip("onnxruntime")
    images, labels = digit_images()
    flat = images.reshape(len(images), -1).astype(np.float64)
    model = LogisticRegression(max_iter=500).fit(flat[:1000], labels[:1000])
    held = np.arange(1000, 1300)
    groups = np.where(held % 3 == 0, "g<b>1</b>", "g2")
    rows = pd.DataFrame({"file": [f"png/{i:04d}.png" for i in held], "digit": labels[held], "writer_group": groups})
    root = make_project({"digits-png": IMAGES_SPEC}, {"models/digits-png/images.csv": rows.to_csv(index=False)})
    folder = root / "models" / "digits-png"
    (folder / "png").mkdir()
    for index in held:
        Image.fromarray(images[index], mode="L").save(folder / "png" / f"{index:04d}.png")
    logistic_onnx(model, folder / "logistic.onnx")
    result = reporter("build", str(root), cwd=root)
    assert result.returncode == 0, result.stderr[-3000:]
    facts = json.loads((root / "build" / "facts" / "digits-png.json").read_text())
    overall = evaluation_of(facts, "image_classification")["performance"]
    predicted = model.predict(flat[held])
    assert overall["accuracy"]["value"] == pytest.approx(accuracy_score(labels[held], predicted), abs=1e-12)
    assert overall["macro_f1"]["value"] == pytest.approx(f1_score(labels[held], predicted, average="macro"), abs=1e-12)
    by_group = {
        g["group"]: g for g in evaluation_of(facts, "image_classification")["fairness"]["features"][0]["groups"]
    }
    for group in ("g<b>1</b>", "g2"):
        chosen = groups == group
        assert by_group[group]["accuracy"]["value"] == pytest.approx(
            accuracy_score(labels[held][chosen], predicted[chosen]), abs=1e-12
        )
    data = facts["data"][0]
    assert data["composition"]["modality"] == "image" and "each image's path" in data["measurements"]["sha256_covers"]


def test_images_beside_a_task_that_reads_no_pixels_are_refused_at_their_field(make_project) -> None:
    spec = IMAGES_SPEC.replace("  task: image_classification\n", "  task: multiclass_classification\n").replace(
        "  image: {height: 8, width: 8, channels: 1}\n", ""
    )
    folder_spec = IMAGES_SPEC.replace("images: {path_column: file}", "images: {}\n    format: {separator: ';'}")
    ranged = IMAGES_SPEC.replace("channels: 1}", "channels: 1, pixel_range: [0, 16]}")
    root = make_project({"wrong-task": spec, "folder-format": folder_spec, "ranged": ranged})
    for slug in ("wrong-task", "folder-format", "ranged"):
        (root / "models" / slug / "images.csv").write_text("file,digit\n")
    result = reporter("check", str(root), cwd=root)
    assert result.returncode == 2
    assert "data.0.images" in result.stderr and "whose `image:` layout gives their size" in result.stderr
    assert "data.0.format" in result.stderr and "a folder of class subfolders has no CSV format" in result.stderr
    assert "evaluation.image.pixel_range" in result.stderr and "0 to 255" in result.stderr
