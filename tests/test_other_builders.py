"""Beyond MkDocs 1.x: `reporter build --pages-only` writes everything a site needs into the docs
folder, so that Zensical (which reads `mkdocs.yml` but runs no MkDocs plugin) builds the same
pages; ProperDocs, the MkDocs 1.6 fork, runs the plugin itself."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reporter.cli import main
from tests.conftest import add_tiny_loaded_model, reporter


def init_project(root: Path) -> Path:
    """A project made by `reporter init` holding the small loaded checkpoint of the tests."""
    assert main(["init", "--project", str(root)]) == 0
    return add_tiny_loaded_model(root)


def builder(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip(f"{name} is not installed (scripts/setup.sh --test installs it)")
    return found


@pytest.mark.slow
def test_zensical_builds_the_pages_written_by_pages_only(tmp_path: Path) -> None:
    root = init_project(tmp_path / "project")
    written = reporter("build", "--pages-only", str(root), cwd=root)
    assert written.returncode == 0, written.stderr
    docs = root / "docs"
    assert not (root / "site").exists()
    for name in ("index.md", "models/tiny/index.md", "models/tiny/weights.md", "models/tiny/bom.cdx.json"):
        assert (docs / name).is_file(), name
    assert (docs / "models" / "tiny" / "weights-histograms.svg").is_file()  # plots are drawn into the docs
    shipped = Path(__import__("reporter").__file__).parent / "assets" / "reporter.css"
    assert (docs / "assets" / "reporter.css").read_bytes() == shipped.read_bytes()
    assert not (docs / "models" / "tiny" / "README.md").exists()  # Zensical would read it as the index
    card = (docs / "models" / "tiny" / "index.md").read_text()
    assert "`reporter export tiny --format hf`" in card and "(README.md)" not in card

    built = subprocess.run(
        [builder("zensical"), "build"], cwd=root, capture_output=True, text=True, timeout=600, check=False
    )
    assert built.returncode == 0, built.stdout + built.stderr  # strict: true, so a broken link fails it
    page = (root / "site" / "models" / "tiny" / "index.html").read_text()
    assert "assets/reporter.css" in page and '<p class="reporter-model-nav">' in page
    assert (root / "site" / "models" / "tiny" / "weights-histograms.svg").is_file()


@pytest.mark.slow
def test_properdocs_runs_the_plugin(tmp_path: Path) -> None:
    root = init_project(tmp_path / "project")
    built = subprocess.run(
        [builder("properdocs"), "build"], cwd=root, capture_output=True, text=True, timeout=600, check=False
    )
    assert built.returncode == 0, built.stderr
    site = root / "site"
    assert (site / "models" / "tiny" / "README.md").is_file()  # the Hugging Face card, copied as it is
    assert '<p class="reporter-model-nav">' in (site / "models" / "tiny" / "index.html").read_text()
    assert (site / "assets" / "reporter.css").is_file()


def test_pages_only_builds_no_site_so_takes_no_site_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = init_project(tmp_path / "project")
    assert main(["build", str(root), "--pages-only", "--site-dir", str(tmp_path / "elsewhere")]) == 2
    assert "--pages-only builds none" in capsys.readouterr().err
