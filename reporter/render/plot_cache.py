"""Plots for many models: cached by content, and drawn on every core when many are missing.

A model's plots depend only on its facts and the plotting code, so they are stored under a hash
of both; a rebuild with unchanged facts reads SVG files instead of running matplotlib.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata
from pathlib import Path

from reporter.facts import FactsRecord
from reporter.files import write_atomically
from reporter.render import plots

PARALLEL_FROM = 4  # below this many models to draw, worker start-up costs more than it saves


def _plot_key(facts: FactsRecord) -> str:
    code = Path(plots.__file__).read_bytes()
    digest = hashlib.sha256(code + metadata.version("matplotlib").encode() + facts.to_json().encode())
    return digest.hexdigest()


def _draw(facts_json: str) -> dict[str, bytes]:
    return plots.model_plots(FactsRecord.model_validate_json(facts_json))


def all_model_plots(records: list[FactsRecord], *, cache_dir: Path | None) -> dict[str, dict[str, bytes]]:
    """Every model's plots by slug, from the cache where possible."""
    result: dict[str, dict[str, bytes]] = {}
    missing: list[tuple[FactsRecord, Path | None]] = []
    for facts in records:
        entry = cache_dir / _plot_key(facts) if cache_dir else None
        cached = _read(entry) if entry else None
        if cached is None:
            missing.append((facts, entry))
        else:
            result[facts.slug] = cached
    workers = min(len(missing), os.cpu_count() or 1)
    if len(missing) >= PARALLEL_FROM and workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            drawn = list(pool.map(_draw, [f.to_json() for f, _ in missing], chunksize=4))
    else:
        drawn = [plots.model_plots(f) for f, _ in missing]
    for (facts, entry), figures in zip(missing, drawn, strict=True):
        result[facts.slug] = figures
        if entry is not None:
            _write(entry, figures)
    return result


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
