"""Benchmark: building the site for 200 models from their facts, against MkDocs alone.

In one run, on the same 200 generated facts records (variations of a real record), it times:

- the floor: a plain `mkdocs build` of the already rendered Markdown and plots,
- our cold build: render every page from the facts into an empty docs folder and build with the
  reporter plugin, as `reporter build` does (plots draw on worker processes while MkDocs builds),
- our rebuild with nothing changed: the same with every plot in the cache (unchanged files are
  not rewritten).

Each is run `--repeats` times and the median is printed with its ratio to the floor.
Usage: `.venv/bin/python bench/site.py [--models N] [--repeats R]` (the machine otherwise idle).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reporter.facts import FactsRecord  # noqa: E402
from reporter.render.pages import start_site, write_site  # noqa: E402

MKDOCS_YML = """\
site_name: Bench
docs_dir: site_src
use_directory_urls: false
theme: {name: material, font: false}
extra_css: [assets/reporter.css]
markdown_extensions: [admonition, attr_list, tables, {toc: {permalink: true}}]
plugins: [search]
"""
WITH_REPORTER = "reporter.yml"  # the same configuration with the reporter plugin enabled


def generated_records(count: int) -> list[FactsRecord]:
    """`count` distinct records: the test fixture's real record with its names and figures varied."""
    base = json.loads((REPO / "tests" / "fixtures" / "facts" / "adult-income-mlp.json").read_text())
    records = []
    for index in range(count):
        data = json.loads(json.dumps(base))
        data["slug"] = f"model-{index:03d}"
        data["card"]["name"] = f"Benchmark model {index:03d}"
        shift = (index % 17) / 1000
        data["performance"]["accuracy"]["value"] -= shift
        for epoch in data["training"]["history"]:
            epoch["train_loss"] += shift
        records.append(FactsRecord.model_validate(data))
    return records


def build(project: Path) -> float:
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    start = time.perf_counter()
    mkdocs_build(load_config(config_file=str(project / "mkdocs.yml"), site_dir=str(project / "site")))
    return time.perf_counter() - start


def fresh_project(root: Path) -> Path:
    shutil.rmtree(root, ignore_errors=True)
    (root / "site_src" / "assets").mkdir(parents=True)
    (root / "mkdocs.yml").write_text(MKDOCS_YML)
    (root / WITH_REPORTER).write_text(MKDOCS_YML.replace("plugins: [search]", "plugins: [search, reporter]"))
    shutil.copy(REPO / "site_src" / "assets" / "reporter.css", root / "site_src" / "assets" / "reporter.css")
    return root


def render_and_build(project: Path, records: list[FactsRecord]) -> float:
    """What `reporter build` does once the facts exist: render, write, build with the plugin."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    start = time.perf_counter()
    config = load_config(config_file=str(project / WITH_REPORTER), site_dir=str(project / "site"))
    drawing = write_site(project / "site_src", start_site(records, plot_cache=project / "plot-cache"))
    config.plugins["reporter"].use_generated(records, drawing)
    mkdocs_build(config)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import logging

    logging.getLogger("mkdocs").setLevel(logging.ERROR)
    records = generated_records(args.models)
    scratch = Path(tempfile.mkdtemp(prefix="reporter-bench-site-"))
    try:
        floors, colds, rebuilds = [], [], []
        for _ in range(args.repeats):
            cold_project = fresh_project(scratch / "cold")
            colds.append(render_and_build(cold_project, records))
            rebuilds.append(render_and_build(cold_project, records))
            floors.append(build(cold_project))  # the same pre-rendered Markdown, MkDocs only
        floor, cold, rebuild = (statistics.median(x) for x in (floors, colds, rebuilds))
        pages = sum(1 for _ in (scratch / "cold" / "site_src").rglob("*.md"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print(f"\n{args.models} models ({pages} pages), medians of {args.repeats} runs\n")
    print(f"| {'what':<55} | {'seconds':>8} | {'vs floor':>8} |")
    print(f"| {'-' * 55} | {'-' * 8}:| {'-' * 8}:|")
    print(f"| {'floor: mkdocs build of the pre-rendered Markdown':<55} | {floor:8.2f} | {1:7.2f}x |")
    print(f"| {'reporter cold: render pages, build while plots draw':<55} | {cold:8.2f} | {cold / floor:7.2f}x |")
    print(f"| {'reporter rebuild, nothing changed':<55} | {rebuild:8.2f} | {rebuild / floor:7.2f}x |")


if __name__ == "__main__":
    main()
