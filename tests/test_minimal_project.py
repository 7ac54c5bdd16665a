"""A project whose `mkdocs.yml` only names the plugin gets pages laid out as the example site's:
the plugin brings its stylesheet (shipped in the package) and the Markdown extensions its pages
are written for."""

from __future__ import annotations

from pathlib import Path

import pytest

from reporter.mkdocs_config import load_mkdocs_config
from tests.conftest import add_tiny_loaded_model, reporter

MINIMAL = "site_name: Our models\ntheme: {name: material}\nplugins:\n  - search\n  - reporter\n"


def minimal_project(root: Path) -> Path:
    (root / "docs").mkdir(parents=True)
    (root / "mkdocs.yml").write_text(MINIMAL, encoding="utf-8")
    return add_tiny_loaded_model(root)


def test_the_plugin_adds_the_extensions_and_stylesheet_its_pages_need(tmp_path: Path) -> None:
    config = load_mkdocs_config(minimal_project(tmp_path / "project") / "mkdocs.yml")
    config = config.plugins.on_config(config)
    assert {"admonition", "attr_list", "tables", "toc"} <= set(config.markdown_extensions)
    assert list(config.extra_css) == ["assets/reporter.css"]


@pytest.mark.slow
def test_a_minimal_mkdocs_yml_builds_cards_with_the_plugins_layout(tmp_path: Path) -> None:
    root = minimal_project(tmp_path / "project")
    result = reporter("build", str(root), cwd=root)
    assert result.returncode == 0, result.stderr
    card = (root / "site" / "models" / "tiny" / "index.html").read_text()
    assert '<p class="reporter-model-nav">' in card  # attr_list: the class, not the literal text
    assert "{: .reporter-model-nav }" not in card and "{ .reporter-plot }" not in card
    assert 'href="../../assets/reporter.css"' in card
    shipped = Path(__import__("reporter").__file__).parent / "assets" / "reporter.css"
    assert (root / "site" / "assets" / "reporter.css").read_bytes() == shipped.read_bytes()
    weights = (root / "site" / "models" / "tiny" / "weights" / "index.html").read_text()
    assert 'class="reporter-plot"' in weights
