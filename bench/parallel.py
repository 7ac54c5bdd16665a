"""Benchmark: one build of 8 trained models, sequential against `--jobs 2` and a 2-node Ray cluster.

The 8 models are the example Adult income MLP (`models/adult-income-mlp`: 8 epochs on 29,305 rows,
explanations and the privacy audit included) with seeds 0 to 7. Each configuration computes all
8 models' facts from an empty cache (`build_facts`, the part `--jobs` parallelises; MkDocs itself
is one process and is left out), in one run, medians of ``--repeats``:

- sequential: one job at a time in the driver, with every core (`--jobs 1`, today's default before
  parallel builds);
- `--jobs 2`: two local worker processes, one thread each;
- Ray: two Ray nodes of one CPU each (`ray start`, on this machine), one task per model.

Ray must not run on the machine's network (see `scripts/with-local-ray-cluster.sh`), so the whole
benchmark runs inside that script's private network namespace; it re-runs itself there.
The run checks that the three configurations give the same facts (training time aside) as a
sequential build with one thread.

Usage: `.venv/bin/python bench/parallel.py [--models 8] [--repeats 3]`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def make_project(root: Path, models: int) -> Path:
    """A project of ``models`` copies of the example Adult MLP, seeds 0, 1, ..."""
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    spec = (REPO / "models" / "adult-income-mlp" / "model.yaml").read_text()
    assert "    seed: 0\n" in spec
    for seed in range(models):
        folder = root / "models" / f"adult-income-mlp-seed-{seed}"
        folder.mkdir(parents=True)
        (folder / "model.yaml").write_text(spec.replace("    seed: 0\n", f"    seed: {seed}\n"))
    return root


def timed_build(root: Path, **options: object) -> tuple[float, dict[str, dict]]:
    """Wall seconds of computing every model's facts from an empty cache, and the facts."""
    from reporter.pipeline import build_facts
    from reporter.project import Project, load_project_specs
    from reporter.settings import BuildSettings

    project = Project(root=root)
    shutil.rmtree(root / "build", ignore_errors=True)
    settings = replace(BuildSettings(quiet=True), **options)  # type: ignore[arg-type]
    specs = load_project_specs(project)
    start = time.perf_counter()
    records = build_facts(project, specs, settings)
    seconds = time.perf_counter() - start
    facts = {}
    for record in records:
        data = json.loads(record.to_json())
        data["training"].pop("wall_seconds")
        facts[record.slug] = data
    return seconds, facts


def ray_task_round_trip(repeats: int = 20) -> float:
    """Median seconds for an empty Ray task to go to a worker and back: Ray's own floor per job."""
    import ray

    ray.init(address=os.environ["RAY_ADDRESS"], log_to_driver=False, logging_level="WARNING")
    task = ray.remote(lambda: None)
    ray.get(task.remote())  # the first call starts a worker
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        ray.get(task.remote())
        times.append(time.perf_counter() - start)
    ray.shutdown()
    return statistics.median(times)


def run(models: int, repeats: int) -> None:
    from reporter.executors import usable_cores

    address = os.environ["RAY_ADDRESS"]
    configurations = {
        "sequential (--jobs 1)": {"jobs": 1},
        "--jobs 2": {"jobs": 2},
        "Ray, 2 nodes x 1 CPU": {"ray_address": address},
    }
    with tempfile.TemporaryDirectory(prefix="reporter-bench-parallel-") as scratch:
        root = make_project(Path(scratch), models)
        _, reference = timed_build(root, jobs=1, threads=1)
        seconds: dict[str, list[float]] = {name: [] for name in configurations}
        for _ in range(repeats):
            for name, options in configurations.items():
                took, facts = timed_build(root, **options)
                seconds[name].append(took)
                if "threads" in options or name != "sequential (--jobs 1)":
                    assert facts == reference, f"{name}: facts differ from a one-thread sequential build"
    overhead = ray_task_round_trip()
    base = statistics.median(seconds["sequential (--jobs 1)"])
    jobs2 = statistics.median(seconds["--jobs 2"])
    print(f"{models} example Adult MLPs (seeds 0-{models - 1}), {usable_cores()} cores, medians of {repeats}\n")
    print(f"{'configuration':<24} {'wall s':>8} {'runs':>26} {'speed-up':>9}")
    for name, runs in seconds.items():
        median = statistics.median(runs)
        listed = ", ".join(f"{r:.1f}" for r in runs)
        print(f"{name:<24} {median:>8.1f} {listed:>26} {base / median:>8.2f}x")
    ray = statistics.median(seconds["Ray, 2 nodes x 1 CPU"])
    print(
        f"\nRay against --jobs 2: {ray / jobs2:.2f}x the wall time ({(ray - jobs2) / models:+.2f} s per job); "
        f"an empty Ray task's round trip: {overhead * 1000:.1f} ms"
    )
    print("facts of --jobs 2 and Ray: equal to a one-thread sequential build's (training time aside)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if "RAY_ADDRESS" not in os.environ:  # start the cluster, and run again inside its namespace
        script = REPO / "scripts" / "with-local-ray-cluster.sh"
        command = [sys.executable, __file__, "--models", str(args.models), "--repeats", str(args.repeats)]
        sys.exit(subprocess.run(["bash", str(script), *command], cwd=REPO, check=False).returncode)
    run(args.models, args.repeats)


if __name__ == "__main__":
    main()
