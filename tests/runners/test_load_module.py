"""A safetensors checkpoint of the user's own architecture: loaded strictly into the network the
spec's `module:` builds and evaluated like a trained model; its metrics equal scikit-learn's on
the same predictions, computed here without reporter."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from sklearn.metrics import accuracy_score, roc_auc_score

from tests.conftest import evaluation_of, read_adult, reporter

pytestmark = pytest.mark.slow

BUILDER = """
import numpy as np
import torch

from reporter.runners.recipes import LoadedModule

MEANS, SCALES = np.array([38.6, 40.4]), np.array([13.6, 12.3])


class Logistic(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x)).squeeze(1)


def build():
    module = Logistic()

    def predict_scores(frame):
        x = (frame[["age", "hours-per-week"]].to_numpy(dtype=np.float64) - MEANS) / SCALES
        device = next(module.parameters()).device
        return module(torch.tensor(x, dtype=torch.float32, device=device)).double().cpu().numpy()

    return LoadedModule(module=module, predict_scores=predict_scores, architecture={"inputs": 2})
"""

SPEC = """\
name: Own logistic regression
version: "1"
task: binary classification of census records
description: A two-input logistic regression saved as safetensors, with its builder.
owners: [{name: tests}]
license: MIT
intended_uses: [tests]
out_of_scope_uses: [everything else]
limitations: [two inputs]
source:
  load: {format: safetensors, file: {path: weights.safetensors}, module: "arch:build"}
data:
  - {id: eval, role: evaluation, file: {path: eval.csv}, license: CC BY 4.0, description: Adult rows.}
evaluation:
  label: income
  positive_label: [">50K"]
  features: [age, hours-per-week, sex]
  sensitive_features: [sex]
"""


def weights(path: Path, names: tuple[str, str] = ("linear.weight", "linear.bias")) -> None:
    save_file({names[0]: torch.tensor([[1.1, 0.7]]), names[1]: torch.tensor([-1.3])}, str(path))


@pytest.fixture
def project(make_project) -> Path:
    rows = read_adult("adult.data").sample(800, random_state=5)
    root = make_project({"own": SPEC}, {"models/own/arch.py": BUILDER, "models/own/eval.csv": rows.to_csv(index=False)})
    weights(root / "models" / "own" / "weights.safetensors")
    return root


def test_own_architecture_is_loaded_and_evaluated_like_a_trained_model(project: Path) -> None:
    result = reporter("build", str(project), cwd=project)
    assert result.returncode == 0, result.stderr
    facts = json.loads((project / "build" / "facts" / "own.json").read_text())
    rows = read_adult("adult.data").sample(800, random_state=5)
    x = (rows[["age", "hours-per-week"]].to_numpy(dtype=np.float64) - [38.6, 40.4]) / [13.6, 12.3]
    scores = 1 / (1 + np.exp(-(x @ np.array([1.1, 0.7]) - 1.3)))
    labels = (rows["income"] == ">50K").to_numpy()
    performance = evaluation_of(facts)["performance"]
    assert performance["roc_auc"]["value"] == pytest.approx(roc_auc_score(labels, scores), abs=1e-6)
    assert performance["accuracy"]["value"] == pytest.approx(accuracy_score(labels, scores >= 0.5), abs=1e-12)
    assert evaluation_of(facts)["fairness"]["features"][0]["feature"] == "sex"
    assert facts["architecture"]["module_class"] == "Logistic" and facts["weights"]["parameters_total"] == 3
    assert facts["inference"]["rows"] == 800 and facts["inference"]["batch_size"] is None


@pytest.mark.parametrize(
    ("names", "phrase"),
    [
        (("linear.weight", "bias"), "missing: linear.bias; unexpected: bias"),
        (("w", "linear.bias"), "missing: linear.weight"),
    ],
)
def test_tensors_that_do_not_fit_the_network_are_named(project: Path, names, phrase: str) -> None:
    checkpoint = project / "models" / "own" / "weights.safetensors"
    weights(checkpoint, names)
    result = reporter("build", str(project), cwd=project)
    assert result.returncode == 2, result.stderr
    assert phrase in result.stderr and str(checkpoint) in result.stderr and "Fix:" in result.stderr
    assert "Traceback" not in result.stderr


def pickled_project(project: Path, *, allow_pickle: bool) -> Path:
    """The same network's weights as `torch.save(state_dict)` writes them, under `format: pytorch`."""
    folder = project / "models" / "own"
    torch.save({"linear.weight": torch.tensor([[1.1, 0.7]]), "linear.bias": torch.tensor([-1.3])}, folder / "model.pt")
    spec = SPEC.replace(
        "format: safetensors, file: {path: weights.safetensors}", "format: pytorch, file: {path: model.pt}"
    )
    (folder / "model.yaml").write_text(spec + ("allow_pickle: true\n" if allow_pickle else ""), encoding="utf-8")
    return project


def test_a_pytorch_state_dict_gives_the_facts_of_the_same_weights_as_safetensors(project: Path) -> None:
    """The oracle is the safetensors build of the same tensors: every figure and tensor equal."""
    assert reporter("build", str(project), cwd=project).returncode == 0
    expected = json.loads((project / "build" / "facts" / "own.json").read_text())
    result = reporter("build", str(pickled_project(project, allow_pickle=True)), cwd=project)
    assert result.returncode == 0, result.stderr
    facts = json.loads((project / "build" / "facts" / "own.json").read_text())
    assert evaluation_of(facts) == evaluation_of(expected)
    tensors = {t["name"]: t for t in facts["weights"]["tensors"]}
    assert tensors == {t["name"]: t for t in expected["weights"]["tensors"]}
    assert facts["architecture"]["module_class"] == "Logistic"


def test_a_pytorch_pickle_is_refused_without_allow_pickle_and_names_the_conversion(project: Path) -> None:
    result = reporter("build", str(pickled_project(project, allow_pickle=False)), cwd=project)
    assert result.returncode == 2, result.stderr
    assert "model.pt is a pickle" in result.stderr and "safetensors.torch.save_file" in result.stderr
    assert "allow_pickle: true" in result.stderr and "Traceback" not in result.stderr
    assert not (project / "build" / "facts" / "own.json").exists()


def test_a_pt_file_under_format_safetensors_is_refused_at_check_time(project: Path) -> None:
    spec = project / "models" / "own" / "model.yaml"
    spec.write_text(spec.read_text().replace("file: {path: weights.safetensors}", "file: {path: model.pt}"))
    result = reporter("check", str(project), cwd=project)
    assert result.returncode == 2, result.stderr
    assert "source.load" in result.stderr and "`file: model.pt` is not a .safetensors file" in result.stderr
    assert "Fix: use `format: pytorch` (a pickle: it also needs `allow_pickle: true`)" in result.stderr
