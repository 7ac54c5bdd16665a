"""A page the user wrote in the docs folder is never replaced by a generated one: the build (and
`reporter check`) refuse before any model runs, naming the file and the fix, and `catalog_page:`
moves the catalog aside so a project keeps its own home page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reporter.errors import InputError
from reporter.render.pages import MANIFEST, checked_catalog_page, write_generated
from tests.conftest import LOADED_SPEC, reporter, tiny_checkpoint, tree_digest

OWN_INDEX = "# Our team's models\n\nWritten by hand; the catalog is [here](models.md).\n"


def project_with_own_index(make_project) -> Path:  # noqa: ANN001
    root = make_project(
        {"tiny-loaded": LOADED_SPEC}, {"models/tiny-loaded/weights/tiny.safetensors": tiny_checkpoint()}
    )
    (root / "site_src" / "index.md").write_text(OWN_INDEX, encoding="utf-8")
    return root


def test_a_page_of_the_users_where_the_catalog_goes_is_refused_before_any_model_runs(make_project) -> None:
    root = project_with_own_index(make_project)
    pages_before = tree_digest(root / "site_src")
    for command in ("check", "build"):
        result = reporter(command, str(root), cwd=root)
        assert result.returncode == 2, result.stderr
        assert f"{root / 'site_src' / 'index.md'}: the build generates the model catalog there" in result.stderr
        assert "Fix:" in result.stderr and "catalog_page: models.md" in result.stderr
        assert "Traceback" not in result.stderr
    assert tree_digest(root / "site_src") == pages_before
    assert not (root / "build" / "facts").exists()  # refused before the model was loaded
    assert not (root / "site").exists()


@pytest.mark.slow
def test_catalog_page_keeps_the_users_index_and_publishes_the_catalog_beside_it(make_project) -> None:
    root = project_with_own_index(make_project)
    config = root / "mkdocs.yml"
    config.write_text(
        config.read_text().replace(
            "      build_dir: build\n", "      build_dir: build\n      catalog_page: models.md\n"
        )
    )
    assert reporter("check", str(root), cwd=root).returncode == 0
    result = reporter("build", str(root), cwd=root)
    assert result.returncode == 0, result.stderr
    assert (root / "site_src" / "index.md").read_text(encoding="utf-8") == OWN_INDEX
    assert "models.md" in json.loads((root / "site_src" / MANIFEST).read_text())
    assert "index.md" not in json.loads((root / "site_src" / MANIFEST).read_text())
    assert "Our team" in (root / "site" / "index.html").read_text()
    catalog = (root / "site" / "models.html").read_text()  # the project's mkdocs.yml: no directory URLs
    assert "Tiny &lt;b&gt;checkpoint&lt;/b&gt;" in catalog and 'href="models/tiny-loaded/index.html"' in catalog


def test_bad_catalog_page_names_the_option_and_the_fix(tmp_path: Path) -> None:
    assert checked_catalog_page("models.md", tmp_path / "mkdocs.yml") == "models.md"
    for value in ("../index.md", "reports/index.md", "compare.md", "catalog.html", ""):
        with pytest.raises(InputError, match=r"mkdocs.yml: plugins.reporter.catalog_page: .*Fix: "):
            checked_catalog_page(value, tmp_path / "mkdocs.yml")


def test_generated_files_replace_their_own_and_refuse_the_users(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write_generated(docs, {"index.md": b"catalog 1", "models/m/index.md": b"card 1"})
    write_generated(docs, {"index.md": b"catalog 2", "models/m/index.md": b"card 2"})  # its own: replaced
    assert (docs / "index.md").read_bytes() == b"catalog 2"
    (docs / "models" / "m" / "training.md").write_text("my notes")
    (docs / "compare.md").write_bytes(b"same bytes")
    before = tree_digest(docs)
    with pytest.raises(InputError) as refused:
        write_generated(
            docs,
            {"index.md": b"catalog 3", "compare.md": b"same bytes", "models/m/training.md": b"page"},
            pending=["models/m/plot.png"],
        )
    message = str(refused.value)
    assert f"{docs / 'models' / 'm' / 'training.md'}: the build generates model m's training.md there" in message
    assert "compare.md" not in message  # the same bytes lose nothing: taken over
    assert tree_digest(docs) == before  # nothing written, nothing removed
    (docs / "models" / "m" / "training.md").unlink()
    write_generated(docs, {"index.md": b"catalog 3", "compare.md": b"same bytes", "models/m/training.md": b"page"})
    assert json.loads((docs / MANIFEST).read_text()) == ["compare.md", "index.md", "models/m/training.md"]
    assert not (docs / "models" / "m" / "index.md").exists()  # its own file, no longer generated: removed
