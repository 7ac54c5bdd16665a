"""The MkDocs plugin: a plain `mkdocs build` or `mkdocs serve` runs the (cached) pipeline first.

The pipeline runs in ``on_pre_build``, before MkDocs gathers the docs folder, so the generated
pages are ordinary files to MkDocs. Unchanged pages are not rewritten, so `mkdocs serve` settles
after one rebuild and never retrains an unchanged model.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import Files
from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page
from pydantic import ValidationError

from reporter.errors import Problem, ReporterError, SpecError
from reporter.facts import FactsRecord
from reporter.lock import build_lock
from reporter.pipeline import BuildSettings
from reporter.project import Project
from reporter.spec import FairnessDefaults

log = logging.getLogger("mkdocs.plugins.reporter")


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
    """Project-wide `min_group_size`, `privacy_threshold`, `ratio_threshold`, `difference_threshold`;
    a model's own `evaluation:` values win."""
    gates = c.ListOfItems(c.Type(str), default=[])
    """Rules `reporter diff` (and the Changes page) apply, as `--fail-on` would: e.g. `fairness-status`."""


class ReporterPlugin(BasePlugin[ReporterPluginConfig]):
    """Generates the model pages into the docs folder before MkDocs reads it."""

    def __init__(self) -> None:
        self.pages_ready = False
        self.records: list[FactsRecord] = []

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
                self.records = generate_pages(
                    project, settings, docs_dir=Path(config.docs_dir), templates_dir=templates_dir
                )
        except ReporterError as exc:
            raise PluginError(f"reporter: {exc}") from exc

    def on_nav(self, nav: Navigation, *, config: MkDocsConfig, files: Files) -> Navigation:
        """Title each model's section with the model's name instead of its folder name."""
        names = {f"models/{r.slug}/index.md": r.card.name for r in self.records}
        for item in _walk(nav.items):
            if isinstance(item, Section):
                index = next((c for c in item.children if isinstance(c, Page) and c.file.src_uri in names), None)
                if index is not None:
                    item.title = html.escape(names[index.file.src_uri])  # themes print titles unescaped
        return nav

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
            quiet=given.quiet if given else False,
        )
        return settings, (root / templates) if templates else None
