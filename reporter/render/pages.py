"""Facts → the generated part of the site: Markdown pages, plots and the published facts JSON."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reporter.diff_result import FactsDiff
from reporter.errors import InputError
from reporter.export import EXPORT_FILES, document_date, render_export, report_url_of
from reporter.facts import FactsRecord
from reporter.files import write_atomically
from reporter.render.environment import make_environment
from reporter.render.plot_cache import PARALLEL_FROM, PlotDrawing
from reporter.templating import render_template

MANIFEST = ".reporter-generated.json"
CATALOG_PAGE = "index.md"
STYLESHEET = "assets/reporter.css"
"""Where the site gets the plugin's stylesheet (shipped in the package), unless the docs folder
holds a file of that name, which then replaces it."""
"""Where the model catalog is generated unless `catalog_page:` says otherwise."""
MODEL_PAGES = (
    "index.md",
    "training.md",
    "data.md",
    "weights.md",
    "fairness.md",
    "explanations.md",
    "privacy.md",
    "documentation.md",
    "transparency.md",
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
    catalog_page: str = CATALOG_PAGE


def start_site(
    records: list[FactsRecord],
    *,
    templates_dir: Path | None = None,
    changes: FactsDiff | None = None,
    plot_cache: Path | None = None,
    parallel_from: int = PARALLEL_FROM,
    site_url: str | None = None,
    undated: datetime.datetime | None = None,
    catalog_page: str = CATALOG_PAGE,
    site_only_files: bool = True,
) -> RenderedSite:
    """Render every page and export now and start drawing the plots that are not cached.

    Without ``site_only_files`` (pages for a builder other than MkDocs, which would read a
    Hugging Face card's `README.md` as the folder's index page) the card is left out and the model
    card says how to export it.

    With ``changes`` (a build with a base), the site gains a Changes page and every changed
    model's card links to it. With ``plot_cache``, plots of unchanged facts are read, not drawn.
    The exports link to the report under ``site_url`` (relative links without it) and are dated
    by the spec's release date, else by ``undated`` (the project's last commit).
    """
    drawing = PlotDrawing(records, cache_dir=plot_cache, parallel_from=parallel_from)
    try:
        env = make_environment(templates_dir)
        files: dict[str, bytes] = {
            catalog_page: render_template(env, "catalog.md.j2", records=records).encode(),
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
                    env,
                    f"model/{page}.j2",
                    facts=facts,
                    plots=drawing.names[facts.slug],
                    changed=facts.slug in changed,
                    hf_card=site_only_files,
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
                if name not in SITE_ONLY:
                    files[f"{folder}/{name}"] = text.encode()
                elif site_only_files:
                    site_only[f"{folder}/{name}"] = text.encode()
    except BaseException:
        drawing.cancel()
        raise
    return RenderedSite(files=files | drawing.ready, plots=drawing, site_only=site_only, catalog_page=catalog_page)


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
        write_generated(docs_dir, rendered.files, pending=rendered.plots.pending, catalog_page=rendered.catalog_page)
    except BaseException:
        rendered.plots.cancel()
        raise
    return rendered.plots


def render_changes(changes: FactsDiff, *, templates_dir: Path | None = None) -> str:
    """The diff as Markdown for a pull-request comment (the Changes page without its title)."""
    return render_template(make_environment(templates_dir), "changes.md.j2", diff=changes, page=False)


CATALOG_PAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.md")


def checked_catalog_page(value: str, config_file: Path) -> str:
    """The plugin's `catalog_page:`, a top-level Markdown page other than the pages the build
    generates beside it (the catalog links to `models/<slug>/` from the top of the site).

    Raises:
        InputError: naming mkdocs.yml, the option and the fix.
    """
    if CATALOG_PAGE_NAME.fullmatch(value) and value not in ("compare.md", "changes.md"):
        return value
    raise InputError(
        f"{config_file}: plugins.reporter.catalog_page: {value!r} is not a page name the catalog can take. "
        "Fix: give a top-level Markdown file name other than compare.md and changes.md, e.g. `models.md`"
    )


def planned_paths(slugs: Iterable[str], *, catalog_page: str, changes: bool) -> list[str]:
    """The files a build generates into the docs folder, known before any model runs (its plots
    aside): what must not already hold a page the user wrote."""
    pages = [catalog_page, "compare.md", *(["changes.md"] if changes else [])]
    per_model = [*MODEL_PAGES, "facts.json", *(name for name in EXPORT_FILES.values() if name not in SITE_ONLY)]
    return pages + [f"models/{slug}/{name}" for slug in slugs for name in per_model]


def refuse_overwriting(
    docs_dir: Path, paths: Iterable[str], *, catalog_page: str, contents: Mapping[str, bytes] | None = None
) -> None:
    """Refuse to generate a file where the docs folder holds one reporter did not write (its
    manifest does not list it): a user's own page is never replaced. A file holding exactly the
    bytes the build would write loses nothing and is taken over.

    Raises:
        InputError: naming each such file, what the build generates there and the fix.
    """
    claimed = _manifest(docs_dir)
    contents = contents or {}
    taken = []
    for relative in sorted(set(paths) - claimed):
        target = docs_dir / relative
        if not (target.exists() or target.is_symlink()):
            continue
        if target.is_file() and not target.is_symlink() and target.read_bytes() == contents.get(relative):
            continue
        taken.append(relative)
    if not taken:
        return
    lines = [
        f"  {docs_dir / relative}: the build generates {_what_is_generated(relative, catalog_page)} there"
        for relative in taken
    ]
    fix = "move or rename your file"
    if catalog_page in taken:
        fix += (
            f" (to keep your own {catalog_page}, set `catalog_page: models.md`, or another top-level page "
            "name, under `- reporter:` in mkdocs.yml)"
        )
    raise InputError(
        f"{docs_dir}: {len(taken)} file(s) reporter did not write are where the build generates its pages; "
        f"it never overwrites a page you wrote:\n" + "\n".join(lines) + f"\nFix: {fix}"
    )


def _what_is_generated(relative: str, catalog_page: str) -> str:
    if relative == catalog_page:
        return "the model catalog"
    named = {"compare.md": "the comparison of models", "changes.md": "the Changes page"}
    if relative in named:
        return named[relative]
    parts = relative.split("/", 2)
    return f"model {parts[1]}'s {parts[2]}" if len(parts) == 3 and parts[0] == "models" else "a generated file"


def _manifest(docs_dir: Path) -> set[str]:
    """The files an earlier build generated into the docs folder."""
    try:
        return set(json.loads((docs_dir / MANIFEST).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return set()


def write_generated(
    docs_dir: Path, files: dict[str, bytes], *, pending: Iterable[str] = (), catalog_page: str = CATALOG_PAGE
) -> list[str]:
    """Write generated files into the docs folder, touching only files whose bytes changed.

    Files generated by an earlier build and no longer produced are removed; ``pending`` files (plots
    still drawing, written later by `write_changed`) are kept; a file reporter did not write is never
    touched: the build is refused before anything is written (:func:`refuse_overwriting`). The
    manifest claims every file before it is written, so a build killed half-way leaves no file the
    next build would take for the user's. Unchanged files keep their timestamps, so `mkdocs serve`
    does not loop. Returns the paths that changed.
    """
    docs_dir.mkdir(parents=True, exist_ok=True)
    previous = _manifest(docs_dir)
    generated = set(files) | set(pending)
    refuse_overwriting(docs_dir, generated, catalog_page=catalog_page, contents=files)
    if not generated <= previous:
        _write_manifest(docs_dir, previous | generated)
    changed = write_changed(docs_dir, files)
    for stale in sorted(previous - generated):
        path = docs_dir / stale
        if path.is_file():
            path.unlink()
            changed.append(stale)
            _remove_empty_parents(path.parent, docs_dir)
    _write_manifest(docs_dir, generated)
    return changed


def _write_manifest(docs_dir: Path, generated: set[str]) -> None:
    manifest_path, manifest = docs_dir / MANIFEST, json.dumps(sorted(generated), indent=1) + "\n"
    if not manifest_path.is_file() or manifest_path.read_text(encoding="utf-8") != manifest:
        write_atomically(manifest_path, manifest.encode())


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
