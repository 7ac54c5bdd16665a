"""Model jobs side by side on this machine (`--jobs`): the same facts as one after another, the
same errors, and a dead worker retried once, then reported by name."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from reporter.errors import DataError, InputError, ReporterError
from reporter.executors import choose_executor, usable_cores
from reporter.jobs import JobFailure
from reporter.progress import BuildProgress
from reporter.settings import BuildSettings
from tests.conftest import TABULAR_SPEC, reporter, without_machine

SECOND_SPEC = TABULAR_SPEC.replace("name: Test MLP", "name: Test MLP, seed 1").replace("seed: 0", "seed: 1")

DYING_RECIPE = """\
import os
import signal
from pathlib import Path

from reporter.runners.hyperparameters import TabularMlpHyperparameters
from reporter.runners.tabular_mlp import train as train_mlp


def train(context):
    \"\"\"The built-in MLP, after killing its own process `die_times` times (counted in a file).\"\"\"
    deaths = Path(context.hyperparameters.pop("deaths_file"))
    died = int(deaths.read_text()) if deaths.exists() else 0
    if died < context.hyperparameters.pop("die_times"):
        deaths.write_text(str(died + 1))
        os.kill(os.getpid(), signal.SIGKILL)
    context.hyperparameters = TabularMlpHyperparameters.model_validate(context.hyperparameters)
    return train_mlp(context)
"""


def dying_spec(times: int, deaths_file: Path) -> str:
    """A spec whose recipe kills its worker ``times`` times, counting in ``deaths_file`` (outside the
    model folder: a worker sent the inputs by hash works on a copy of that folder)."""
    return TABULAR_SPEC.replace("name: Test MLP", "name: Test MLP that kills its worker").replace(
        "recipe: tabular_mlp\n    seed: 0\n    hyperparameters: {epochs: 2, hidden_sizes: [16]}",
        "recipe: dying:train\n    seed: 0\n    hyperparameters:\n"
        f"      {{epochs: 2, hidden_sizes: [16], die_times: {times}, deaths_file: '{deaths_file}'}}",
    )


SLOW_RECIPE = """\
import os
import time
from pathlib import Path


def train(context):
    \"\"\"Write the worker's pid, then take ten minutes: a job to interrupt.\"\"\"
    Path(context.hyperparameters["pid_file"]).write_text(str(os.getpid()))
    time.sleep(600)
"""


def slow_spec(pid_file: Path) -> str:
    return TABULAR_SPEC.replace("name: Test MLP", "name: Test MLP that takes ten minutes").replace(
        "recipe: tabular_mlp\n    seed: 0\n    hyperparameters: {epochs: 2, hidden_sizes: [16]}",
        f"recipe: slow:train\n    seed: 0\n    hyperparameters: {{pid_file: '{pid_file}'}}",
    )


def interrupt_build(command: list[str], *, cwd: Path, pid_file: Path) -> tuple[int, str, bool]:
    """Start a build, send it SIGTERM once the slow job runs, and say whether that job's process
    was stopped with it: (exit status, stderr, stopped)."""
    build = subprocess.Popen(command, cwd=cwd, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not pid_file.exists() and time.monotonic() < deadline and build.poll() is None:
        time.sleep(0.2)
    assert pid_file.exists(), "the slow job never started"
    time.sleep(0.5)
    build.send_signal(signal.SIGTERM)
    _, stderr = build.communicate(timeout=60)
    worker = int(pid_file.read_text())
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and Path(f"/proc/{worker}").exists():
        time.sleep(0.2)
    return build.returncode, stderr, not Path(f"/proc/{worker}").exists()


def facts_without_timing(folder: Path) -> dict[str, dict]:
    """Each model's facts without what the machine decides (times, energy): measured, not
    computed, so different between any two runs."""
    return {path.stem: without_machine(json.loads(path.read_text())) for path in sorted(folder.glob("*.json"))}


@pytest.mark.slow
def test_parallel_build_gives_the_sequential_facts_and_shows_each_worker(make_project, tmp_path: Path) -> None:
    root = make_project({"test-mlp": TABULAR_SPEC, "test-mlp-seed-1": SECOND_SPEC})
    sequential = reporter("build", "--jobs", "1", "--threads", "1", "--facts-dir", str(tmp_path / "seq"), cwd=root)
    assert sequential.returncode == 0, sequential.stderr
    parallel = reporter(
        "build", "--no-cache", "--jobs", "2", "--threads", "1", "--facts-dir", str(tmp_path / "par"), cwd=root
    )
    assert parallel.returncode == 0, parallel.stderr
    assert parallel.stderr.count("(worker process") == 2  # each running model is shown, with its worker
    assert "test-mlp: epoch 2/2" in parallel.stderr and "test-mlp-seed-1: epoch 2/2" in parallel.stderr
    assert sorted(p.name for p in (tmp_path / "par").iterdir()) == ["test-mlp-seed-1.json", "test-mlp.json"]
    assert facts_without_timing(tmp_path / "par") == facts_without_timing(tmp_path / "seq")
    rebuilt = reporter("build", "--jobs", "2", cwd=root)
    assert rebuilt.stderr.count("cached facts") == 2 and "worker process" not in rebuilt.stderr


@pytest.mark.slow
def test_a_bad_input_in_a_worker_gives_the_located_error_and_status_2(make_project) -> None:
    broken = TABULAR_SPEC.replace("label: income", "label: no-such-column")
    root = make_project({"test-mlp": TABULAR_SPEC, "zz-broken": broken})
    alone = reporter("build", "--jobs", "1", cwd=root)
    side_by_side = reporter("build", "--no-cache", "--jobs", "2", cwd=root)
    assert alone.returncode == side_by_side.returncode == 2
    error = [line for line in alone.stderr.splitlines() if line.startswith("error:")]
    assert error and "zz-broken/model.yaml" in error[0] and "no-such-column" in error[0]
    assert error == [line for line in side_by_side.stderr.splitlines() if line.startswith("error:")]
    assert "zz-broken: training (worker process" in side_by_side.stderr  # raised in a worker, not the driver
    assert not (root / "site").exists()


def build_beside_a_dying_model(make_project, deaths_file: Path, *, times: int) -> tuple[Path, Any]:
    """`--jobs 2` on a healthy MLP and one whose recipe kills its worker ``times`` times."""
    root = make_project(
        {"test-mlp": TABULAR_SPEC, "test-mlp-dying": dying_spec(times, deaths_file)},
        files={"models/test-mlp-dying/dying.py": DYING_RECIPE},
    )
    return root, reporter("build", "--jobs", "2", "--threads", "1", cwd=root)


@pytest.mark.slow
def test_a_worker_killed_mid_job_is_retried_once(make_project, tmp_path: Path) -> None:
    root, result = build_beside_a_dying_model(make_project, tmp_path / "deaths.txt", times=1)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "deaths.txt").read_text() == "1"
    assert "test-mlp-dying: training again (worker process" in result.stderr
    facts = facts_without_timing(root / "build" / "facts")
    assert facts["test-mlp-dying"]["evaluations"] == facts["test-mlp"]["evaluations"]  # same model, same seed


@pytest.mark.slow
def test_a_job_that_kills_its_worker_twice_is_reported_by_name(make_project, tmp_path: Path) -> None:
    root, result = build_beside_a_dying_model(make_project, tmp_path / "deaths.txt", times=5)
    assert result.returncode == 1
    assert "test-mlp-dying/model.yaml: the worker process computing this model's facts died twice" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "deaths.txt").read_text() == "2"
    assert (root / "build" / "cache" / "test-mlp").is_dir()  # the healthy model's work is kept


@pytest.mark.slow
def test_sigterm_stops_the_workers_and_leaves_no_site(make_project, tmp_path: Path) -> None:
    root = make_project(
        {"test-mlp": TABULAR_SPEC, "test-mlp-slow": slow_spec(tmp_path / "pid")},
        files={"models/test-mlp-slow/slow.py": SLOW_RECIPE},
    )
    status, stderr, stopped = interrupt_build(
        [sys.executable, "-m", "reporter.cli", "build", "--jobs", "2"], cwd=root, pid_file=tmp_path / "pid"
    )
    assert status == 1 and "interrupted; the previous site is unchanged" in stderr
    assert stopped, "the worker running the slow job outlived the build"
    assert not (root / "site").exists()


def test_job_failures_come_back_with_their_class_and_message() -> None:
    with pytest.raises(DataError, match="^models/x/model.yaml: data.0.file: gone$"):
        JobFailure(error_class="DataError", message="models/x/model.yaml: data.0.file: gone").raise_again()
    with pytest.raises(InputError, match="a: b") as caught:  # SpecError holds problems, not text
        JobFailure(error_class="SpecError", message="a: b").raise_again()
    assert type(caught.value) is InputError
    with pytest.raises(ReporterError, match="odd") as unknown:
        JobFailure(error_class="NotAnError", message="odd").raise_again()
    assert type(unknown.value) is ReporterError


def test_jobs_share_the_cores_and_bad_counts_are_refused() -> None:
    with BuildProgress(1, quiet=True) as progress:
        one = choose_executor(BuildSettings(jobs=1), device="cpu", progress=progress)
        two = choose_executor(BuildSettings(jobs=2), device="cpu", progress=progress)
        pinned = choose_executor(BuildSettings(jobs=2, threads=3), device="cpu", progress=progress)
        default = choose_executor(BuildSettings(), device="cpu", progress=progress)
        assert one.threads == usable_cores() and two.threads == max(1, usable_cores() // 2) and pinned.threads == 3
        assert default.threads == min(2, usable_cores())  # one job per two cores
        for bad in (BuildSettings(jobs=0), BuildSettings(threads=-1)):
            with pytest.raises(InputError, match="must be at least 1"):
                choose_executor(bad, device="cpu", progress=progress)


def test_cli_refuses_zero_jobs_with_status_2(make_project) -> None:
    root = make_project({"test-mlp": TABULAR_SPEC})
    result = reporter("build", "--jobs", "0", cwd=root)
    assert result.returncode == 2 and "--jobs 0: must be at least 1" in result.stderr


def test_plugin_on_ray_without_an_address_names_the_setting(make_project, monkeypatch) -> None:
    root = make_project({"test-mlp": TABULAR_SPEC})
    config = root / "mkdocs.yml"
    config.write_text(config.read_text().replace("      device: auto\n", "      device: auto\n      executor: ray\n"))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    result = reporter("build", cwd=root)
    assert result.returncode == 2
    assert "plugins.reporter.executor: `ray` needs the cluster's address. Fix: export RAY_ADDRESS" in result.stderr


def test_a_job_sent_by_hash_finds_every_input_in_its_copy_of_the_project(make_project, tmp_path: Path) -> None:
    """What a Ray node without the driver's filesystem gets: the spec, its recipe code and the
    published folder another model left in the build folder, at the same places in a scratch copy."""
    import dataclasses

    from reporter.compute import load_path
    from reporter.executors.shipping import manifest, rebuild_project
    from reporter.extract.weights import sha256_file
    from reporter.jobs import ModelJob
    from reporter.project import Project, load_project_specs
    from tests.conftest import PUBLISHED_SPEC, TEXT_SPEC

    root = make_project(
        {"test-minilm": TEXT_SPEC, "test-minilm-published": PUBLISHED_SPEC},
        files={
            "build/checkpoints/test-minilm/config.json": "{}",
            "build/checkpoints/test-minilm/model.safetensors": "weights",
        },
    )
    project, settings = Project(root=root), BuildSettings(build_dir=root / "build")
    loaded = next(s for s in load_project_specs(project) if s.slug == "test-minilm-published")
    artifact = load_path(project, loaded, settings)
    job = ModelJob(
        project=project,
        loaded=loaded,
        key="k",
        device="cpu",
        settings=settings,
        threads=1,
        project_commit=None,
        checkpoint_dir=root / "build" / "checkpoints" / loaded.slug,
        epochs=None,
        inputs=(loaded.path, artifact),
    )
    files = manifest(job)
    assert [f.relative for f in files] == [
        ".build/checkpoints/test-minilm/config.json",
        ".build/checkpoints/test-minilm/model.safetensors",
        "models/test-minilm-published/model.yaml",
    ]
    blobs = {f.sha256: Path(f.driver_path).read_bytes() for f in files}
    moved, scratch = rebuild_project(job, files, fetch=blobs.__getitem__)
    try:
        assert (
            moved.project.root == scratch and moved.loaded.path == scratch / "models/test-minilm-published/model.yaml"
        )
        shipped = load_path(moved.project, moved.loaded, moved.settings)
        assert shipped == scratch / ".build" / "checkpoints" / "test-minilm"
        for name in ("config.json", "model.safetensors"):
            assert sha256_file(shipped / name) == sha256_file(artifact / name)
        assert dataclasses.replace(moved, project=project, loaded=loaded, settings=settings, inputs=job.inputs) == job
    finally:
        shutil.rmtree(scratch)


def test_each_local_worker_takes_its_own_gpu(monkeypatch) -> None:
    import multiprocessing

    from reporter.executors import local

    counter = multiprocessing.get_context("spawn").Value("i", 0)
    seen = []
    for _ in range(3):
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
        local._start_worker(None, counter, 2)
        seen.append(os.environ["CUDA_VISIBLE_DEVICES"])
    assert seen == ["0", "1", "0"]
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    local._start_worker(None, counter, 1)  # one GPU (or CPU): every worker sees what the driver sees
    assert "CUDA_VISIBLE_DEVICES" not in os.environ
