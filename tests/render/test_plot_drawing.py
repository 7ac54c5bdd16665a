"""Plots drawn on worker processes while MkDocs builds: the same bytes as drawing them in place,
collected into the docs folder and the site, cached for the next build."""

from __future__ import annotations

import json

from reporter.facts import FactsRecord
from reporter.render.pages import MANIFEST, start_site, write_site
from reporter.render.plot_cache import PlotDrawing, plot_path
from reporter.render.plots import model_plots
from tests.conftest import FIXTURES

MKDOCS_YML = """\
site_name: Drawing
docs_dir: site_src
theme: {name: material, font: false}
markdown_extensions: [admonition, attr_list, tables]
plugins: [search, reporter]
"""


def two_records() -> list[FactsRecord]:
    base = json.loads((FIXTURES / "facts" / "adult-income-mlp.json").read_text())
    records = []
    for index in range(2):
        base["slug"] = f"model-{index}"
        base["performance"]["accuracy"]["value"] -= 0.01 * index
        records.append(FactsRecord.model_validate(base))
    return records


def test_plots_drawn_in_the_background_match_plots_drawn_in_place(tmp_path) -> None:
    records = two_records()
    expected = {plot_path(r.slug, name): svg for r in records for name, svg in model_plots(r).items()}

    drawing = PlotDrawing(records, cache_dir=tmp_path / "cache", parallel_from=1)
    assert drawing.ready == {} and sorted(drawing.pending) == sorted(expected)
    assert drawing.wait() == expected
    assert drawing.pending == []

    cached = PlotDrawing(records, cache_dir=tmp_path / "cache", parallel_from=1)
    assert cached.pending == [] and cached.ready == expected


def test_cancelling_stops_the_workers(tmp_path) -> None:
    drawing = PlotDrawing(two_records(), cache_dir=None, parallel_from=1)
    drawing.cancel()
    drawing.cancel()  # idempotent: a failed build may cancel twice
    assert drawing._pool is None


def test_a_strict_build_links_and_publishes_plots_still_drawing_when_mkdocs_starts(tmp_path, caplog) -> None:
    """As `reporter build` runs it: the pages are written, MkDocs builds while the plots draw."""
    import logging

    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    records = two_records()
    (tmp_path / "mkdocs.yml").write_text(MKDOCS_YML)
    (tmp_path / "site_src").mkdir()
    config = load_config(config_file=str(tmp_path / "mkdocs.yml"), site_dir=str(tmp_path / "site"), strict=True)
    rendered = start_site(records, parallel_from=1)
    drawing = write_site(tmp_path / "site_src", rendered)
    pending = drawing.pending
    assert pending and not any((tmp_path / "site_src" / path).exists() for path in pending)
    manifest = json.loads((tmp_path / "site_src" / MANIFEST).read_text())
    assert set(pending) <= set(manifest)  # a plot still drawing is a generated file, not a stale one

    config.plugins["reporter"].use_generated(records, drawing, rendered.site_only)
    with caplog.at_level(logging.INFO, logger="mkdocs.plugins.reporter"):
        build(config)  # strict: a card linking to a plot MkDocs does not know would abort the build
    assert "reporter: plots drawn for 2 of 2 models" in caplog.messages

    for record in records:
        for name, svg in model_plots(record).items():
            path = plot_path(record.slug, name)
            assert (tmp_path / "site_src" / path).read_bytes() == svg, path
            assert (tmp_path / "site" / path).read_bytes() == svg, path
    card = (tmp_path / "site" / "models" / "model-1" / "fairness" / "index.html").read_text()
    assert '<img alt="' in card and "../fairness-0.svg" in card


def test_workers_exit_when_the_build_is_killed(tmp_path) -> None:
    """A killed build (SIGKILL: no clean-up runs) leaves no plot worker behind."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import sys, time\n"
        "from tests.render.test_plot_drawing import two_records\n"
        "from reporter.render.plot_cache import PlotDrawing\n"
        "drawing = PlotDrawing(two_records(), cache_dir=None, parallel_from=1)\n"
        "print(*drawing._pool._processes, flush=True)\n"
        "time.sleep(60)\n"
    )
    build = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    workers = [int(pid) for pid in build.stdout.readline().split()]
    assert workers
    os.kill(build.pid, signal.SIGKILL)
    build.wait()
    deadline = time.monotonic() + 60  # the workers finish the model in hand first
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (reaped by init once it exits)."""
    try:
        status = open(f"/proc/{pid}/status").read()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


def test_every_example_record_has_a_plot_plan_that_reads_only_its_tasks_group_fields() -> None:
    """Each task's group record has only its own fields: a regression group has no calibration,
    so the plan must not ask for one (the plan builds no drawing: milliseconds)."""
    from reporter.render.plots import plot_plan

    for path in sorted((FIXTURES / "facts" / "examples").glob("*.json")):
        record = FactsRecord.model_validate_json(path.read_text())
        plan = plot_plan(record)
        calibrated = [name for name in plan if name.endswith("-calibration.svg")]
        assert bool(calibrated) == (record.labelled_kind in ("binary_classification", "multiclass_classification"))
