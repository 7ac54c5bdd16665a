"""Interrupted, repeated and concurrent builds: the previous site survives, the cache stays usable,
corrupt cache entries are rebuilt, and the same inputs give the same bytes."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from tests.conftest import LOADED_SPEC, TABULAR_SPEC, reporter, tree_digest, without_machine

pytestmark = pytest.mark.slow

SPEC = TABULAR_SPEC.replace("epochs: 2", "epochs: 3")


@pytest.fixture
def project(make_project) -> Path:
    root = make_project({"mlp": SPEC})
    result = reporter("build", str(root), cwd=root)
    assert result.returncode == 0, result.stderr
    return root


def start_build(root: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "reporter.cli", "build", str(root), *extra],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("delay", [0.3, 1.5, 3.0, 4.5, 6.0])
def test_sigkill_at_any_moment_leaves_the_previous_site_and_a_usable_cache(project: Path, delay: float) -> None:
    before = tree_digest(project / "site")
    spec = project / "models" / "mlp" / "model.yaml"
    spec.write_text(SPEC.replace("hidden_sizes: [16]", "hidden_sizes: [12]"))  # forces retraining
    process = start_build(project, "--quiet")
    time.sleep(delay)
    os.kill(process.pid, signal.SIGKILL)  # harmless if it already finished
    process.wait()
    after = tree_digest(project / "site")
    result = reporter("build", str(project), cwd=project)
    assert result.returncode == 0, result.stderr
    final = tree_digest(project / "site")
    # Either the swap had not happened (the previous site) or it had (the complete new site).
    assert after in (before, final), f"killed after {delay}s: the site is neither the old nor the new one"
    assert before != final
    assert not list(project.glob(".site.*")), "staging folders left behind"


def test_corrupt_cache_entries_are_rebuilt_not_trusted(project: Path) -> None:
    [entry] = list((project / "build" / "cache" / "mlp").glob("*.json"))
    data = json.loads(entry.read_text())
    data["facts"] = data["facts"].replace('"accuracy"', '"accuracy" ', 1)  # same facts, checksum now wrong
    entry.write_text(json.dumps(data))
    result = reporter("build", str(project), cwd=project)
    assert result.returncode == 0 and "mlp: training" in result.stderr
    entry.write_text("{not json")
    result = reporter("build", str(project), cwd=project)
    assert result.returncode == 0 and "mlp: training" in result.stderr
    result = reporter("build", str(project), cwd=project)
    assert "mlp: cached facts" in result.stderr


def test_concurrent_builds_wait_for_each_other(project: Path) -> None:
    spec = project / "models" / "mlp" / "model.yaml"
    spec.write_text(SPEC.replace("hidden_sizes: [16]", "hidden_sizes: [8]"))
    first = start_build(project)
    _wait_until_locked(project / "build" / ".lock", first)
    second = start_build(project)
    out_first, out_second = first.communicate(timeout=600), second.communicate(timeout=600)
    assert first.returncode == 0 and second.returncode == 0, (out_first, out_second)
    assert "waiting for it to finish" in out_second[1]
    assert "mlp: cached facts" in out_second[1]  # the second build reused what the first computed


def _wait_until_locked(lock: Path, build: subprocess.Popen[str]) -> None:
    """Until ``build`` holds the project's build lock (however slowly it starts on a busy machine)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and build.poll() is None:
        if lock.exists():
            with lock.open("rb") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return
                fcntl.flock(handle, fcntl.LOCK_UN)
        time.sleep(0.05)
    raise AssertionError("the first build never took the lock")


def test_retraining_from_scratch_gives_the_same_facts_but_wall_time(project: Path) -> None:
    facts_path = project / "build" / "facts" / "mlp.json"
    first = json.loads(facts_path.read_text())
    result = reporter("build", str(project), "--no-cache", cwd=project)
    assert result.returncode == 0 and "mlp: training" in result.stderr
    second = json.loads(facts_path.read_text())
    assert without_machine(first) == without_machine(second)


def test_a_checkpoint_holding_nan_and_inf_gets_a_complete_report(make_project) -> None:
    weight = torch.randn(48, 32, generator=torch.Generator().manual_seed(0))
    weight[3, 5], weight[7, 7] = float("nan"), float("-inf")
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"broken-{os.getpid()}.safetensors"
    save_file({"layer.weight": weight, "layer.bias": torch.tensor([float("nan"), 1.0])}, str(path))
    root = make_project({"broken": LOADED_SPEC}, {"models/broken/weights/tiny.safetensors": path.read_bytes()})
    path.unlink()
    result = reporter("build", str(root), cwd=root)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    page = (root / "site_src" / "models" / "broken" / "weights.md").read_text()
    assert "Non-finite weights" in page and "`layer.weight` holds 1 NaN and 1 infinite values" in page
    assert "`layer.weight` (holds NaN or infinite values" in page
