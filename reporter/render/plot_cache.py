"""Plots for many models: cached by content, and drawn on worker processes while MkDocs works.

A model's plots depend only on its facts and the plotting code, so they are stored under a hash
of both; a rebuild with unchanged facts reads SVG files instead of running matplotlib. Drawing is
CPU-bound and MkDocs builds on one core, so when many plots are missing they are drawn on every
core in the background: the caller writes the pages, lets MkDocs convert them, and collects the
plots only when the site needs their files.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from importlib import metadata
from pathlib import Path

from reporter.facts import FactsRecord
from reporter.files import write_atomically
from reporter.render import plots

PARALLEL_FROM = 4  # below this many models to draw, worker start-up costs more than it saves


def plot_path(slug: str, name: str) -> str:
    """Where a model's plot goes, relative to the docs folder (next to the model's pages)."""
    return f"models/{slug}/{name}"


class PlotDrawing:
    """Every model's plots: the cached ones at once, the others drawn now or in the background."""

    def __init__(self, records: list[FactsRecord], *, cache_dir: Path | None, parallel_from: int = PARALLEL_FROM):
        self.names = {facts.slug: sorted(plots.plot_plan(facts)) for facts in records}
        """Plot file names by model slug, known before any plot is drawn."""
        self.ready: dict[str, bytes] = {}
        """Plots available now, by path relative to the docs folder."""
        missing: list[tuple[FactsRecord, Path | None]] = []
        code = _plotting_code_hash()
        for facts in records:
            entry = cache_dir / _plot_key(code, facts) if cache_dir else None
            cached = _read(entry) if entry else None
            if cached is None:
                missing.append((facts, entry))
            else:
                self.ready.update({plot_path(facts.slug, name): svg for name, svg in cached.items()})
        self._pool: ProcessPoolExecutor | None = None
        self._drawing: list[tuple[FactsRecord, Path | None, Future[dict[str, bytes]]]] = []
        workers = min(len(missing), os.cpu_count() or 1)
        if len(missing) >= parallel_from and workers > 1:
            self._pool = ProcessPoolExecutor(max_workers=workers, initializer=_start_worker, initargs=(os.getpid(),))
            self._drawing = [(facts, entry, self._pool.submit(_draw, facts.to_json())) for facts, entry in missing]
        else:
            for facts, entry in missing:
                self._store(facts, entry, plots.model_plots(facts), self.ready)

    @property
    def pending(self) -> list[str]:
        """Paths of the plots still being drawn in the background."""
        return [plot_path(facts.slug, name) for facts, _, _ in self._drawing for name in self.names[facts.slug]]

    def wait(self, progress: Callable[[int, int], None] | None = None) -> dict[str, bytes]:
        """The plots drawn in the background, by path, once all are done (and stored in the cache).

        ``progress(done, total)`` is told each model whose plots are in, in the order submitted.
        """
        drawn: dict[str, bytes] = {}
        try:
            for done, (facts, entry, future) in enumerate(self._drawing, start=1):
                self._store(facts, entry, future.result(), drawn)
                if progress is not None:
                    progress(done, len(self._drawing))
        finally:
            self.cancel()
        self._drawing = []
        return drawn

    def cancel(self) -> None:
        """Stop the workers (a build that failed no longer needs its plots)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _store(self, facts: FactsRecord, entry: Path | None, figures: dict[str, bytes], into: dict[str, bytes]) -> None:
        into.update({plot_path(facts.slug, name): svg for name, svg in figures.items()})
        if entry is not None:
            _write(entry, figures)


def _start_worker(parent: int) -> None:
    """Ready a worker process for drawing.

    The worker exits when the build that started it is killed: a worker waiting for work would
    otherwise wait forever, as the queue it reads from never closes (the workers share its ends).
    matplotlib's import-time objects are moved out of the garbage collector's view (`gc.freeze`):
    drawing makes many short-lived cycles, and every full collection would walk those objects again.
    """
    from matplotlib.backends import backend_svg  # noqa: F401 - imported here to be frozen with the rest
    from matplotlib.figure import Figure  # noqa: F401

    gc.collect()
    gc.freeze()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exit-with-build").start()


def _plotting_code_hash() -> hashlib._Hash:
    """The hash of what every model's plots depend on besides its facts: read once per build."""
    return hashlib.sha256(Path(plots.__file__).read_bytes() + metadata.version("matplotlib").encode())


def _plot_key(code: hashlib._Hash, facts: FactsRecord) -> str:
    digest = code.copy()
    digest.update(facts.to_json().encode())
    return digest.hexdigest()


def _draw(facts_json: str) -> dict[str, bytes]:
    return plots.model_plots(FactsRecord.model_validate_json(facts_json))


def _read(entry: Path) -> dict[str, bytes] | None:
    try:
        names = json.loads((entry / "index.json").read_text(encoding="utf-8"))
        return {name: (entry / name).read_bytes() for name in names}
    except (OSError, ValueError):
        return None


def _write(entry: Path, figures: dict[str, bytes]) -> None:
    for name, svg in figures.items():
        write_atomically(entry / name, svg)
    write_atomically(entry / "index.json", json.dumps(sorted(figures)).encode())  # last: marks it complete
