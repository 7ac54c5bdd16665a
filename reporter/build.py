"""One build: specs → facts → generated pages → MkDocs site, swapped in only when complete."""

from __future__ import annotations

import datetime
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reporter.extract.provenance import last_commit_time
from reporter.facts import FactsRecord
from reporter.lock import build_lock
from reporter.mkdocs_config import config_file_of, load_mkdocs_config, reporter_plugin
from reporter.pipeline import build_facts
from reporter.project import Project, load_project_specs
from reporter.render.pages import (
    CATALOG_PAGE,
    STYLESHEET,
    planned_paths,
    refuse_overwriting,
    start_site,
    write_changed,
    write_site,
)
from reporter.render.plot_cache import PlotDrawing
from reporter.settings import BuildSettings

DOCS_DIR = "site_src"


def generate_pages(
    project: Project,
    settings: BuildSettings,
    *,
    docs_dir: Path,
    templates_dir: Path | None,
    base: str | None = None,
    gates: list[str] | None = None,
    site_url: str | None = None,
    catalog_page: str = CATALOG_PAGE,
    site_only_files: bool = True,
) -> tuple[list[FactsRecord], PlotDrawing, dict[str, bytes]]:
    """Run the pipeline and write the generated Markdown into the docs folder.

    With ``base`` (a facts folder or git revision) the site also gets a Changes page. Every page
    is rendered in memory before the first file is written, so a failure in any model or template
    leaves the docs folder as it was; a page of the user's where the build generates one refuses the
    build before any model runs. Plots missing from the cache may still be drawing on return:
    the plugin collects them before MkDocs needs their files. Also returned: the files the site
    gets but the docs folder must not hold (`RenderedSite.site_only`).
    """
    specs = load_project_specs(project)
    planned = planned_paths((s.slug for s in specs), catalog_page=catalog_page, changes=base is not None)
    refuse_overwriting(docs_dir, planned, catalog_page=catalog_page)
    records = build_facts(project, specs, settings)
    changes = None
    if base is not None:
        from reporter.diff import diff_facts
        from reporter.revisions import facts_for

        changes = diff_facts(facts_for(project, base, settings), records, rules=gates or [])
    rendered = start_site(
        records,
        templates_dir=templates_dir,
        changes=changes,
        plot_cache=settings.build_path(project) / "plot-cache",
        site_url=site_url,
        undated=project_date(project),
        catalog_page=catalog_page,
        site_only_files=site_only_files,
    )
    return records, write_site(docs_dir, rendered), rendered.site_only


def project_date(project: Project) -> datetime.datetime | None:
    """The date of a build's inputs: SOURCE_DATE_EPOCH when set, else the project's last commit,
    else (outside git) when a spec was last modified; the same inputs always give the same date."""
    stamp = os.environ.get("SOURCE_DATE_EPOCH")
    seconds = int(stamp) if stamp and stamp.isdigit() else last_commit_time(project.root)
    if seconds is None:
        specs = [p.stat().st_mtime for p in project.models_dir.glob("*/model.yaml")]
        seconds = int(max(specs)) if specs else None
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC) if seconds is not None else None


def build_site(
    project: Project, settings: BuildSettings, *, site_dir: Path | None = None, base: str | None = None
) -> list[FactsRecord]:
    """Generate the pages, then build the MkDocs site into a temporary folder and swap it in.

    The pipeline runs here, outside MkDocs, so its errors keep their exit status; the plugin is
    then told the pages are ready. A failure at any point leaves the previous site in place.
    """
    from mkdocs.commands.build import build

    config_file = config_file_of(project.root)
    target = (site_dir or project.root / "site").resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    waiting = "another reporter build of this project is running; waiting for it to finish"
    with build_lock(settings.build_path(project), on_wait=lambda: print(waiting, file=sys.stderr)):
        _recover_interrupted_swap(target)
        for stale in target.parent.glob(f".{target.name}.building.*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a build that was killed
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.building.", dir=target.parent))
        staging.chmod(0o777 & ~_umask())  # mkdtemp's 0700 would make the published site unreadable
        drawing: PlotDrawing | None = None
        try:
            config = load_mkdocs_config(config_file, site_dir=str(staging))
            plugin = reporter_plugin(config, config_file)
            records, drawing, site_only = _generate_for(project, settings, config, plugin, base=base)
            plugin.use_generated(records, drawing, site_only)
            logging.getLogger("mkdocs").setLevel(logging.WARNING if settings.quiet else logging.INFO)
            with _build_date_of(project):
                build(config)
            _replace_directory(staging, target)
        finally:
            if drawing is not None:
                drawing.cancel()  # a no-op unless the build failed while plots were drawing
            if staging.exists():
                shutil.rmtree(staging)
    return records


def _generate_for(
    project: Project,
    settings: BuildSettings,
    config: Any,
    plugin: Any,
    *,
    base: str | None,
    site_only_files: bool = True,
) -> tuple[list[FactsRecord], PlotDrawing, dict[str, bytes]]:
    """:func:`generate_pages` with the options the project's `mkdocs.yml` gives the plugin."""
    plugin_settings, templates_dir = plugin.settings_for(project.root, given=settings)
    return generate_pages(
        project,
        plugin_settings,
        docs_dir=Path(config.docs_dir),
        templates_dir=templates_dir,
        base=base,
        gates=list(plugin.config.gates),
        site_url=config.site_url,
        catalog_page=plugin.catalog_page_for(project.root),
        site_only_files=site_only_files,
    )


def write_pages(
    project: Project, settings: BuildSettings, *, base: str | None = None
) -> tuple[list[FactsRecord], Path]:
    """`reporter build --pages-only`: every generated page, plot, export and the stylesheet written
    into the docs folder, and no site built, so that a builder which does not run MkDocs plugins
    (Zensical reads `mkdocs.yml`) builds the same site from the docs folder alone.

    Returns the records and the docs folder. The stylesheet is written unless the docs folder
    holds a file of its name (a project's own, which the plugin also lets win).
    """
    config_file = config_file_of(project.root)
    with build_lock(settings.build_path(project)):
        config = load_mkdocs_config(config_file)
        plugin = reporter_plugin(config, config_file)
        records, drawing, _ = _generate_for(project, settings, config, plugin, base=base, site_only_files=False)
        docs_dir = Path(config.docs_dir)
        try:
            write_changed(docs_dir, drawing.wait())
        finally:
            drawing.cancel()
        stylesheet = docs_dir / STYLESHEET
        if not stylesheet.exists():
            write_changed(docs_dir, {STYLESHEET: (Path(__file__).parent / STYLESHEET).read_bytes()})
    return records, docs_dir


@contextmanager
def _build_date_of(project: Project) -> Iterator[None]:
    """Date the site by the project's last commit (unless SOURCE_DATE_EPOCH is set), so the same
    inputs give the same bytes: MkDocs writes the build date into the sitemap."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        yield
        return
    commit_time = last_commit_time(project.root)
    stamp = str(commit_time) if commit_time is not None else ""
    if stamp:
        os.environ["SOURCE_DATE_EPOCH"] = stamp
    try:
        yield
    finally:
        if stamp:
            del os.environ["SOURCE_DATE_EPOCH"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _recover_interrupted_swap(target: Path) -> None:
    """A build killed between the two renames of the swap leaves only the backup: restore it."""
    backup = target.with_name(f".{target.name}.old")
    if backup.exists() and not target.exists():
        os.replace(backup, target)


def _replace_directory(source: Path, target: Path) -> None:
    """Swap a freshly built folder into place; the old one is removed only after the swap."""
    backup = target.with_name(f".{target.name}.old")
    if backup.exists():
        shutil.rmtree(backup)
    if target.exists():
        os.replace(target, backup)
    os.replace(source, target)
    if backup.exists():
        shutil.rmtree(backup)
