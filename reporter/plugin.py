"""The MkDocs plugin: a plain `mkdocs build` or `mkdocs serve` runs the (cached) pipeline first.

`mkdocs serve` (and `reporter serve`) also watch the model specs, recipes and overriding
templates, so editing a spec rebuilds the affected model's pages.

The pipeline runs in ``on_pre_build``, before MkDocs gathers the docs folder, so the generated
pages are ordinary files to MkDocs. Plots missing from the cache draw on worker processes while
MkDocs converts and renders the pages on its one core; they are collected in ``on_post_build``.
Unchanged files are not rewritten, so `mkdocs serve` settles after one rebuild and never retrains
an unchanged model.
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from jinja2 import Environment
from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.livereload import LiveReloadServer
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page
from pydantic import ValidationError

from reporter.errors import InputError, Problem, ReporterError, SpecError
from reporter.facts import FactsRecord
from reporter.lock import build_lock
from reporter.project import Project
from reporter.render.pages import CATALOG_PAGE, STYLESHEET, checked_catalog_page, write_changed
from reporter.render.plot_cache import PlotDrawing
from reporter.settings import BuildSettings
from reporter.spec import FairnessDefaults, GridIntensity

log = logging.getLogger("mkdocs.plugins.reporter")


def project_grid(given: dict | None, config_file: Path) -> GridIntensity | None:
    """The plugin's `grid:` option, validated; a bad value names mkdocs.yml, the field and the fix."""
    if given is None:
        return None
    try:
        return GridIntensity.model_validate(given)
    except ValidationError as exc:
        problems = [
            Problem(
                file=config_file,
                field="plugins.reporter.grid." + ".".join(str(part) for part in error["loc"]),
                message=error["msg"].lower(),
                fix="give grams_co2e_per_kwh (a number in (0, 2000]) and source (where it comes from); "
                "location is optional",
            )
            for error in exc.errors()
        ]
        raise SpecError(problems) from None


def fairness_defaults(given: dict, config_file: Path) -> FairnessDefaults:
    """The plugin's `fairness:` option, validated; a bad value names mkdocs.yml, the field and the fix."""
    try:
        return FairnessDefaults.model_validate(given)
    except ValidationError as exc:
        problems = [
            Problem(
                file=config_file,
                field="plugins.reporter.fairness." + ".".join(str(part) for part in error["loc"]),
                message=error["msg"].lower(),
                fix="use one of min_group_size, privacy_threshold (whole numbers >= 1), "
                "ratio_threshold, difference_threshold (numbers in (0, 1])",
            )
            for error in exc.errors()
        ]
        raise SpecError(problems) from None


def _walk(items: list[Any]) -> Iterator[Any]:
    for item in items:
        yield item
        if isinstance(item, Section):
            yield from _walk(item.children)


def _log_plot_progress(done: int, total: int) -> None:
    """About ten lines for a long wait: a line per tenth of the models whose plots were drawing."""
    if done == total or done % max(1, total // 10) == 0:
        log.info("reporter: plots drawn for %d of %d models", done, total)


class ReporterPluginConfig(Config):
    """Options under `plugins: - reporter:` in mkdocs.yml."""

    build_dir = c.Type(str, default="build")
    """Folder for the facts cache and checkpoints, relative to mkdocs.yml."""
    facts_dir = c.Optional(c.Type(str))
    """Where each build writes `<slug>.json` (default: `<build_dir>/facts`)."""
    templates_dir = c.Optional(c.Type(str))
    """A folder of templates overriding the built-in ones, file by file."""
    device = c.Type(str, default="auto")
    """`auto` (CUDA when present, else CPU), `cpu` or `cuda[:N]`."""
    cache = c.Type(bool, default=True)
    """Reuse facts whose inputs did not change."""
    bootstrap_samples = c.Type(int, default=1000)
    """Bootstrap replicates for every interval."""
    small_threshold = c.Type(float, default=1e-6)
    """A weight with |x| below this counts towards its tensor's small-value fraction."""
    spectral_max_side = c.Type(int, default=4096)
    """Largest smaller side of a weight matrix whose eigenvalues (and alpha) are computed."""
    fairness = c.Type(dict, default={})
    grid = c.Optional(c.Type(dict))
    """The grid carbon intensity of the machines the project builds on (`grams_co2e_per_kwh`, `source`,
    optional `location`), for every spec that declares no `compute.grid` of its own."""
    """Project-wide `min_group_size`, `privacy_threshold`, `ratio_threshold`, `difference_threshold`;
    a model's own `evaluation:` values win."""
    jobs = c.Optional(c.Type(int))
    """Models computed side by side on this machine (default: one per two cores, or one per GPU)."""
    threads = c.Optional(c.Type(int))
    """Compute threads of each model job (default: the cores shared out among the jobs; 1 on Ray)."""
    executor = c.Choice(("local", "ray"), default="local")
    """`ray` runs the model jobs on the Ray cluster at `RAY_ADDRESS` (needs `reporter[ray]`)."""
    catalog_page = c.Type(str, default=CATALOG_PAGE)
    """The top-level page the model catalog is generated as (`index.md`; another name, e.g.
    `models.md`, leaves `index.md` to a page of your own)."""
    gates = c.ListOfItems(c.Type(str), default=[])
    """Rules `reporter diff` (and the Changes page) apply, as `--fail-on` would: e.g. `fairness-status`."""


PAGE_EXTENSIONS = ("admonition", "attr_list", "tables", "toc")
"""The Markdown extensions the generated pages are written for: call-outs, the classes on the
model navigation and plots, tables, and heading anchors."""


class CopiedAsIs(File):
    """A generated file MkDocs copies byte for byte even when it ends in `.md`: a Hugging Face card
    is the model folder's `README.md`, which MkDocs would otherwise render as the folder's index."""

    def is_documentation_page(self) -> bool:
        return False


class ReporterPlugin(BasePlugin[ReporterPluginConfig]):
    """Generates the model pages into the docs folder before MkDocs reads it, and the plots while
    MkDocs builds (see `on_files`, `on_env`, `on_post_build`)."""

    def __init__(self) -> None:
        self.pages_ready = False
        self.records: list[FactsRecord] = []
        self.drawing: PlotDrawing | None = None
        self.site_only: dict[str, bytes] = {}

    def use_generated(self, records: list[FactsRecord], drawing: PlotDrawing, site_only: dict[str, bytes]) -> None:
        """Pages generated by `reporter build` itself: the next build uses them instead of running
        the pipeline again."""
        self.pages_ready, self.records, self.drawing, self.site_only = True, records, drawing, site_only

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        """What the generated pages need from the site, whatever the project's `mkdocs.yml` says:
        their Markdown extensions and the plugin's stylesheet, so a minimal configuration
        (`plugins: [search, reporter]`) shows the pages as the example site does."""
        for extension in PAGE_EXTENSIONS:
            if extension not in config.markdown_extensions:
                config.markdown_extensions.append(extension)
        if STYLESHEET not in config.extra_css:
            config.extra_css.append(STYLESHEET)
        if config.theme.name != "material":
            log.info(
                "reporter: the pages are laid out for the Material theme (`theme: {name: material}`); "
                "with theme %r they work, and look plainer",
                config.theme.name,
            )
        return config

    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        from reporter.build import generate_pages

        if self.pages_ready:  # `reporter build` already ran the pipeline for this build
            self.pages_ready = False
            return
        root = Path(config.config_file_path).resolve().parent
        project = Project(root=root)
        try:
            settings, templates_dir = self.settings_for(root)
            with build_lock(settings.build_path(project)):
                self.records, self.drawing, self.site_only = generate_pages(
                    project,
                    settings,
                    docs_dir=Path(config.docs_dir),
                    templates_dir=templates_dir,
                    site_url=config.site_url,
                    catalog_page=self.catalog_page_for(root),
                )
        except ReporterError as exc:
            raise PluginError(f"reporter: {exc}") from exc

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        """Plots still drawing are files of the site already, so links to them resolve; the
        Hugging Face cards are added as they are, not as pages."""
        for path in self.drawing.pending if self.drawing else []:
            if files.get_file_from_path(path) is None:
                files.append(File(path, config.docs_dir, config.site_dir, config.use_directory_urls))
        for path, content in sorted(self.site_only.items()):
            files.append(CopiedAsIs.generated(config, path, content=content))
        if files.get_file_from_path(STYLESHEET) is None:
            stylesheet = Path(__file__).parent / STYLESHEET
            files.append(File.generated(config, STYLESHEET, abs_src_path=str(stylesheet)))
        return files

    def on_nav(self, nav: Navigation, *, config: MkDocsConfig, files: Files) -> Navigation:
        """Title each model's section with the model's name instead of its folder name."""
        names = {f"models/{r.slug}/index.md": r.card.name for r in self.records}
        for item in _walk(nav.items):
            if isinstance(item, Section):
                index = next((c for c in item.children if isinstance(c, Page) and c.file.src_uri in names), None)
                if index is not None:
                    item.title = html.escape(names[index.file.src_uri])  # themes print titles unescaped
        return nav

    def on_env(self, env: Environment, *, config: MkDocsConfig, files: Files) -> Environment:
        """MkDocs copies static files next; plots still drawing are copied by `on_post_build` instead,
        so MkDocs renders every page on one core while the plots draw on the others."""
        for path in self.drawing.pending if self.drawing else []:
            file = files.get_file_from_path(path)
            if file is not None:
                files.remove(file)
        return env

    @event_priority(100)  # before other plugins' post-build steps, which may read every file of the site
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        """Collect the plots drawn in the background into the docs folder and the site."""
        if self.drawing is None:
            return
        drawing, self.drawing = self.drawing, None
        drawn = drawing.wait(progress=_log_plot_progress)
        write_changed(Path(config.docs_dir), drawn)
        for path in sorted(drawn):
            File(path, config.docs_dir, config.site_dir, config.use_directory_urls).copy_file()

    def on_serve(
        self, server: LiveReloadServer, *, config: MkDocsConfig, builder: Callable[..., None]
    ) -> LiveReloadServer:
        """Rebuild when what the pages are made from changes, not only the docs folder: the specs
        and recipes under `models/` and the overriding templates."""
        root = Path(config.config_file_path).resolve().parent
        templates = self.config.templates_dir
        for folder in (Project(root=root).models_dir, root / templates if templates else None):
            if folder is not None and folder.is_dir():
                server.watch(str(folder))
        return server

    def on_build_error(self, *, error: Exception) -> None:
        self._stop_drawing()

    def on_shutdown(self) -> None:
        """`mkdocs serve` stopping (Ctrl-C, possibly mid-rebuild): MkDocs reports no build error
        for an interrupt, so plot workers still drawing are stopped here."""
        self._stop_drawing()

    def _stop_drawing(self) -> None:
        if self.drawing is not None:
            self.drawing.cancel()
            self.drawing = None

    def _ray_address(self) -> str | None:
        """`RAY_ADDRESS` when the plugin is set to run on Ray (Ray's own variable, as `ray` uses it)."""
        if self.config.executor != "ray":
            return None
        address = os.environ.get("RAY_ADDRESS")
        if not address:
            raise InputError(
                "mkdocs.yml: plugins.reporter.executor: `ray` needs the cluster's address. "
                "Fix: export RAY_ADDRESS=HOST:PORT, or set `executor: local`"
            )
        return address

    def catalog_page_for(self, root: Path) -> str:
        """The page the catalog is generated as, checked.

        Raises:
            InputError: `catalog_page:` is not a top-level page name.
        """
        return checked_catalog_page(self.config.catalog_page, root / "mkdocs.yml")

    def settings_for(self, root: Path, *, given: BuildSettings | None = None) -> tuple[BuildSettings, Path | None]:
        """Build settings from the plugin config, overridden by command-line options when given."""
        templates = self.config.templates_dir
        settings = BuildSettings(
            device=(given.device if given and given.device else self.config.device),
            use_cache=self.config.cache and (given.use_cache if given else True),
            build_dir=(given.build_dir if given and given.build_dir else root / self.config.build_dir),
            facts_dir=(
                given.facts_dir
                if given and given.facts_dir
                else (root / self.config.facts_dir)
                if self.config.facts_dir
                else None
            ),
            bootstrap_samples=self.config.bootstrap_samples,
            small_threshold=self.config.small_threshold,
            spectral_max_side=self.config.spectral_max_side,
            fairness_defaults=fairness_defaults(self.config.fairness, root / "mkdocs.yml"),
            grid=project_grid(self.config.grid, root / "mkdocs.yml"),
            quiet=given.quiet if given else False,
            jobs=given.jobs if given and given.jobs is not None else self.config.jobs,
            threads=given.threads if given and given.threads is not None else self.config.threads,
            ray_address=given.ray_address if given and given.ray_address else self._ray_address(),
        )
        return settings, (root / templates) if templates else None
