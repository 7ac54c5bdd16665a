"""ONNX files read with `onnx`: initializers described as stored, external data read from beside the
model and refused when it points elsewhere, custom operators refused, a broken file named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reporter.errors import ModelFileError
from reporter.extract.onnx_file import external_files, iter_onnx_tensors, read_onnx_graph
from tests.conftest import card_header

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


TEXT_SPEC = (
    card_header(
        "An ONNX text classifier", "sentiment", "A tiny BERT exported to ONNX, run through its tokenizer folder."
    )
    + """\
source:
  load: {format: onnx, file: {path: bert/model.onnx}, tokenizer: {path: bert}, max_length: 24}
data:
  - {id: rows, role: evaluation, file: {path: rows.csv}, license: CC0-1.0, description: Made-up sentences.}
evaluation:
  label: mood
  positive_label: [pos]
  text_column: sentence
  features: [sentence]
"""
)


def export_bert(folder: Path) -> object:
    """A tiny random BERT classifier saved as transformers saves it, exported beside it to ONNX."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from tests.conftest import save_tiny_bert

    save_tiny_bert(folder, head="sequence", labels=["neg", "pos"])
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    example = AutoTokenizer.from_pretrained(folder)(["ann lives in paris", "hello"], padding=True, return_tensors="pt")

    class Logits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: object, attention_mask: object, token_type_ids: object) -> object:
            return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits

    names = ["input_ids", "attention_mask", "token_type_ids"]
    dims = {0: torch.export.Dim("batch"), 1: torch.export.Dim("sequence", max=64)}
    torch.onnx.export(
        Logits(),
        tuple(example[name] for name in names),
        str(folder / "model.onnx"),
        input_names=names,
        output_names=["logits"],
        dynamic_shapes={name: dims for name in names},
        dynamo=True,
        external_data=False,
    )
    return model


@pytest.mark.slow
def test_an_onnx_text_classifier_equals_its_torch_model_through_the_tokenizer_folder(make_project) -> None:
    import json

    import pandas as pd
    import torch
    from sklearn import metrics
    from transformers import AutoTokenizer

    from tests.conftest import TINY_BERT_WORDS, evaluation_of, reporter

    pytest.importorskip("onnxruntime")
    rng = np.random.default_rng(0)
    sentences = [" ".join(rng.choice(TINY_BERT_WORDS, size=rng.integers(2, 30))) for _ in range(120)]
    moods = rng.choice(["neg", "pos"], size=120)
    rows = pd.DataFrame({"sentence": sentences, "mood": moods}).to_csv(index=False)
    root = make_project({"onnx-text": TEXT_SPEC}, {"models/onnx-text/rows.csv": rows})
    folder = root / "models" / "onnx-text" / "bert"
    model = export_bert(folder)
    done = reporter("build", str(root), cwd=root)
    assert done.returncode == 0, done.stderr[-3000:]
    facts = json.loads((root / "build" / "facts" / "onnx-text.json").read_text())
    tokenizer = AutoTokenizer.from_pretrained(folder)
    with torch.no_grad():
        encoded = tokenizer(sentences, padding=True, truncation=True, max_length=24, return_tensors="pt")
        torch_scores = torch.softmax(model(**encoded).logits.double(), dim=1)[:, 1].numpy()
    truth = (moods == "pos").astype(int)
    performance = evaluation_of(facts)["performance"]
    assert performance["roc_auc"]["value"] == pytest.approx(metrics.roc_auc_score(truth, torch_scores), abs=1e-9)
    assert performance["log_loss"]["value"] == pytest.approx(metrics.log_loss(truth, torch_scores), abs=1e-5)
    assert performance["accuracy"]["value"] == metrics.accuracy_score(truth, torch_scores >= 0.5)
    assert facts["inference"]["labels"] == {"neg": "neg", "pos": "pos"}
    assert "tokenized by bert/" in facts["inference"]["input"] and facts["inference"]["max_length"] == 24


def test_a_tokenizer_folder_is_refused_for_a_format_that_has_its_own() -> None:
    from pydantic import ValidationError

    from reporter.spec import LoadSource

    tokenizer = {"path": "bert"}
    assert LoadSource.model_validate({"format": "onnx", "file": {"path": "m.onnx"}, "tokenizer": tokenizer}).tokenizer
    with pytest.raises(ValidationError, match="tokenizer folder of an ONNX text model; a keras model has its own"):
        LoadSource.model_validate({"format": "keras", "file": {"path": "m.keras"}, "tokenizer": tokenizer})
