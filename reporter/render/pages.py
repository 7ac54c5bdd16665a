"""Facts → the generated part of the site: Markdown pages, plots and the published facts JSON."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from reporter.diff_result import FactsDiff
from reporter.export import EXPORT_FILES, document_date, render_export, report_url_of
from reporter.facts import FactsRecord
from reporter.files import write_atomically
from reporter.render.environment import make_environment
from reporter.render.plot_cache import PARALLEL_FROM, PlotDrawing
from reporter.templating import render_template

MANIFEST = ".reporter-generated.json"
MODEL_PAGES = (
    "index.md",
    "training.md",
    "data.md",
    "weights.md",
    "fairness.md",
    "explanations.md",
    "privacy.md",
    "documentation.md",
)
SITE_ONLY = frozenset({EXPORT_FILES["hf"]})
"""Exports published in the site but kept out of the docs folder: MkDocs would read a `README.md`
there as the folder's index page."""


@dataclass
class RenderedSite:
    """The generated part of the site while its missing plots may still be drawing."""

    files: dict[str, bytes]
    """Every generated file available now (pages, facts, cached plots), by path in the docs folder."""
    plots: PlotDrawing
    """The plots; `plots.pending` are drawn in the background and collected with `plots.wait()`."""
    site_only: dict[str, bytes] = field(default_factory=dict)
    """Files for the site that must not be in the docs folder (the Hugging Face cards), by site path."""


def start_site(
    records: list[FactsRecord],
    *,
    templates_dir: Path | None = None,
    changes: FactsDiff | None = None,
    plot_cache: Path | None = None,
    parallel_from: int = PARALLEL_FROM,
    site_url: str | None = None,
    undated: datetime.datetime | None = None,
) -> RenderedSite:
    """Render every page and export now and start drawing the plots that are not cached.

    With ``changes`` (a build with a base), the site gains a Changes page and every changed
    model's card links to it. With ``plot_cache``, plots of unchanged facts are read, not drawn.
    The exports link to the report under ``site_url`` (relative links without it) and are dated
    by the spec's release date, else by ``undated`` (the project's last commit).
    """
    drawing = PlotDrawing(records, cache_dir=plot_cache, parallel_from=parallel_from)
    try:
        env = make_environment(templates_dir)
        files: dict[str, bytes] = {
            "index.md": render_template(env, "catalog.md.j2", records=records).encode(),
            "compare.md": render_template(env, "compare.md.j2", records=records).encode(),
        }
        site_only: dict[str, bytes] = {}
        changed = set()
        if changes is not None:
            files["changes.md"] = render_template(env, "changes.md.j2", diff=changes, page=True).encode()
            changed = {m.slug for m in changes.models if m.status != "unchanged"}
        for facts in records:
            folder = f"models/{facts.slug}"
            for page in MODEL_PAGES:
                files[f"{folder}/{page}"] = render_template(
                    env, f"model/{page}.j2", facts=facts, plots=drawing.names[facts.slug], changed=facts.slug in changed
                ).encode()
            files[f"{folder}/facts.json"] = facts.to_json().encode()
            for export_format, name in EXPORT_FILES.items():
                text = render_export(
                    facts,
                    export_format,
                    env=env,
                    report_url=report_url_of(facts.slug, site_url),
                    created=document_date(facts, undated=undated),
                )
                (site_only if name in SITE_ONLY else files)[f"{folder}/{name}"] = text.encode()
    except BaseException:
        drawing.cancel()
        raise
    return RenderedSite(files=files | drawing.ready, plots=drawing, site_only=site_only)


def render_site(
    records: list[FactsRecord],
    *,
    templates_dir: Path | None = None,
    changes: FactsDiff | None = None,
    plot_cache: Path | None = None,
) -> dict[str, bytes]:
    """Every generated file of the site, plots drawn, by path relative to the docs folder."""
    rendered = start_site(records, templates_dir=templates_dir, changes=changes, plot_cache=plot_cache)
    return rendered.files | rendered.plots.wait()


def write_site(docs_dir: Path, rendered: RenderedSite) -> PlotDrawing:
    """Write the rendered files into the docs folder; the plots still drawing are returned for the
    plugin to collect (and stopped if writing fails)."""
    try:
        write_generated(docs_dir, rendered.files, pending=rendered.plots.pending)
    except BaseException:
        rendered.plots.cancel()
        raise
    return rendered.plots


def render_changes(changes: FactsDiff, *, templates_dir: Path | None = None) -> str:
    """The diff as Markdown for a pull-request comment (the Changes page without its title)."""
    return render_template(make_environment(templates_dir), "changes.md.j2", diff=changes, page=False)


def write_generated(docs_dir: Path, files: dict[str, bytes], *, pending: Iterable[str] = ()) -> list[str]:
    """Write generated files into the docs folder, touching only files whose bytes changed.

    Files generated by an earlier build and no longer produced are removed; ``pending`` files (plots
    still drawing, written later by `write_changed`) are kept; hand-written files are never touched.
    Unchanged files keep their timestamps, so `mkdocs serve` does not loop. Returns the paths that changed.
    """
    docs_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = docs_dir / MANIFEST
    try:
        previous = set(json.loads(manifest_path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        previous = set()
    generated = set(files) | set(pending)
    changed = write_changed(docs_dir, files)
    for stale in sorted(previous - generated):
        path = docs_dir / stale
        if path.is_file():
            path.unlink()
            changed.append(stale)
            _remove_empty_parents(path.parent, docs_dir)
    manifest = json.dumps(sorted(generated), indent=1) + "\n"
    if not manifest_path.is_file() or manifest_path.read_text(encoding="utf-8") != manifest:
        manifest_path.write_text(manifest, encoding="utf-8")
    return changed


def write_changed(docs_dir: Path, files: dict[str, bytes]) -> list[str]:
    """Write the files whose bytes differ from what the docs folder holds; returns their paths."""
    changed = []
    for relative, data in sorted(files.items()):
        target = docs_dir / relative
        if target.is_file() and target.read_bytes() == data:
            continue
        write_atomically(target, data)
        changed.append(relative)
    return changed


def _remove_empty_parents(folder: Path, stop: Path) -> None:
    while folder != stop and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
