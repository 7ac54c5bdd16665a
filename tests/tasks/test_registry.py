"""The task registry: built-in tasks in their fixed order, each record's tasks and figures, and a
task another package declares through the `reporter.tasks` entry-point group."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from reporter.facts import FactsRecord
from reporter.tasks import BUILT_IN, figures_of, registered_tasks, tasks_of
from reporter.tasks._grouped import LabelledRowsTask
from tests.conftest import FIXTURES, REPO

EXAMPLES = sorted((FIXTURES / "facts" / "examples").glob("*.json"))
CLASSIFIER_2_0 = FIXTURES / "facts" / "examples-2.0" / "adult-income-minilm.json"
EXPECTED_TASKS = {
    "adult-hours-mlp": ["regression"],
    "adult-income-minilm": ["binary_classification"],
    "adult-income-mlp": ["binary_classification"],
    "adult-income-mlp-dp": ["binary_classification"],
    "compas-risk-mlp": ["multiclass_classification"],
    "minilm-embeddings": ["sentence_embedding"],
    "smollm2-135m-instruct": ["text_generation"],
    "wnut16-minilm-ner": ["token_classification"],
}


def test_built_in_tasks_come_first_in_their_order() -> None:
    assert [task.name for task in registered_tasks()][: len(BUILT_IN)] == list(BUILT_IN)
    for task in registered_tasks():
        for partial in (task.partial, task.catalog_partial, getattr(task, "fairness_partial", task.partial)):
            assert (REPO / "templates" / partial).is_file(), partial
        assert (task.explanation_metric is None) != (task.not_explained is None)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_each_example_record_carries_its_task_and_its_figures_are_unique(path) -> None:
    facts = FactsRecord.model_validate_json(path.read_text())
    assert [task.name for task in tasks_of(facts)] == EXPECTED_TASKS[path.stem]
    figures = figures_of(facts)
    assert figures and all(f.value == f.value for f in figures)  # no NaN published
    identifiers = [f.unique_identifier() for f in figures]
    assert len(identifiers) == len(set(identifiers)), "a figure identifier is not unique"


def test_a_task_declared_by_another_package_is_found_through_its_entry_point() -> None:
    """The toy task is registered after the built-ins, declares its own section and facts family,
    and a record holding its evaluation is read back through that family (unknown fields refused)."""
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.path.insert(0, {str(FIXTURES / "toy_task_package")!r})
        from pydantic import ValidationError
        from reporter.facts import FactsRecord
        from reporter.tasks import figures_of, measuring_tasks, registered_tasks, tasks_of
        record = json.load(open({str(CLASSIFIER_2_0)!r}))
        interval = {{"value": 0.2, "low": 0.1, "high": 0.3}}
        measured = {{"kind": "average_precision", "average_precision": interval, "rows": 9, "positives": 3}}
        facts = FactsRecord.model_validate({{**record, "evaluations": [*record["evaluations"], measured]}})
        try:
            FactsRecord.model_validate({{**record, "evaluations": [{{**measured, "extra": 1}}]}})
            strict = False
        except ValidationError:
            strict = True
        figures = [[f.metric, f.value, f.low, f.high] for f in figures_of(facts) if f.metric == "average_precision"]
        print(json.dumps({{
            "tasks": [t.name for t in registered_tasks()],
            "measuring": [t.name for t in measuring_tasks()],
            "carried": [t.name for t in tasks_of(facts)],
            "strict": strict,
            "figures": figures,
            "round_trip": FactsRecord.model_validate_json(facts.to_json()) == facts,
        }}))
        """
    )
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO)
    answer = json.loads(found.stdout)
    assert answer["tasks"] == [*BUILT_IN, "average_precision"]
    assert answer["measuring"] == ["token_classification", "sentence_embedding", "text_generation", "average_precision"]
    assert answer["carried"] == ["binary_classification", "average_precision"]
    assert answer["figures"] == [["average_precision", 0.2, 0.1, 0.3]]
    assert answer["strict"] and answer["round_trip"]


def test_a_record_with_an_evaluation_no_installed_task_reads_is_refused() -> None:
    from pydantic import ValidationError

    record = json.loads(CLASSIFIER_2_0.read_text())
    with pytest.raises(ValidationError, match="not written by any installed task"):
        FactsRecord.model_validate({**record, "evaluations": [{"kind": "average_precision", "rows": 9}]})


def test_a_task_names_the_metric_its_models_are_explained_on_and_owns_its_audit_loss() -> None:
    for task in registered_tasks():
        if isinstance(task, LabelledRowsTask):
            if task.explanation_metric is None:  # an image classifier: shuffling a pixel column explains nothing
                assert task.not_explained
            else:
                assert task.importance_metric(["a", "b"]).name == task.explanation_metric
            assert task.membership_loss.by_class == (task.name != "regression")
        else:
            assert task.explanation_metric is None and task.not_explained and task.not_audited


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_overall_figure_is_one_a_diff_compares_and_a_gate_may_name(path) -> None:
    """`reporter diff` compares a task's overall figures by the metrics the task declares; a figure
    published over all the data but missing from the declaration would never be compared."""
    facts = FactsRecord.model_validate_json(path.read_text())
    for task in tasks_of(facts):
        overall = [f.metric for f in task.figures(facts) if f.feature is None]
        assert set(overall) <= set(task.overall_metrics), task.name
        assert bool(overall) == bool(task.overall_metrics), task.name


def test_the_labelled_tasks_declare_every_interval_of_their_performance_facts() -> None:
    from reporter.facts import MulticlassPerformanceFacts, PerformanceFacts, RegressionPerformanceFacts

    tasks = {task.name: task for task in registered_tasks()}
    for name, facts_type in (
        ("binary_classification", PerformanceFacts),
        ("multiclass_classification", MulticlassPerformanceFacts),
        ("regression", RegressionPerformanceFacts),
    ):
        intervals = [
            field
            for field, info in facts_type.model_fields.items()
            if "Interval" in str(info.annotation) and "list" not in str(info.annotation)
        ]
        assert list(tasks[name].overall_metrics) == intervals, name


def test_a_gate_on_a_metric_no_task_publishes_lists_the_ones_that_exist() -> None:
    from reporter.diff import diff_facts
    from reporter.errors import InputError

    with pytest.raises(InputError) as caught:
        diff_facts([], [], rules=["metric:entity_f1:-0.05"])
    assert "entity_f1_conlleval" in str(caught.value) and "perplexity" in str(caught.value)
