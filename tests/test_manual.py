"""The project's documentation site: it builds strictly, and its generated references hold every
spec field (each with a description) and every command-line option."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from reporter.cli import _parser, command_reference
from reporter.spec.reference import section_models, spec_reference
from tests.conftest import REPO


def test_the_documentation_site_builds_strictly(tmp_path: Path) -> None:
    site = tmp_path / "manual"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(REPO / "docs" / "mkdocs.yml"), "-d", str(site)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr
    spec_page = (site / "reference" / "spec.html").read_text()
    assert "allow_pickle" in spec_page and "positive_label" in spec_page
    assert "reporter init" in (site / "reference" / "cli.html").read_text()


def test_the_spec_reference_describes_every_field() -> None:
    page = spec_reference()
    for model in section_models():
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description for the reference"
            assert f"| `{name}` |" in page


def test_the_command_line_reference_names_every_command_and_option() -> None:
    page = command_reference()
    commands = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in commands.choices.items():
        assert f"## reporter {name}" in page
        for action in command._actions:
            for option in action.option_strings:
                assert option in page, f"reporter {name} {option}"
