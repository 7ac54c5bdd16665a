"""The build on a real two-node Ray cluster (`reporter build --ray`), started with `ray start` in a
private network namespace by `scripts/with-local-ray-cluster.sh`; the driver runs in it too.

One cluster serves every scenario (starting one takes about 15 s): the facts equal a local
sequential build's, with the inputs read from the shared filesystem and with them sent by hash;
a cached build never connects; a bad input comes back located with status 2; a task no node can
run is refused before it is submitted; a worker killed mid-job is retried once, then reported by
name; SIGTERM cancels the task. No Ray process listens beyond 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO, TABULAR_SPEC, reporter, scaffold_project
from tests.test_executors import (
    DYING_RECIPE,
    SECOND_SPEC,
    SLOW_RECIPE,
    dying_spec,
    facts_without_timing,
    slow_spec,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare for a private network namespace"),
]
pytest.importorskip("ray")

DRIVER = """\
import json, os, subprocess, sys
from pathlib import Path

work = Path(sys.argv[1])
address = os.environ["RAY_ADDRESS"]


def build(project, *options, no_shared_filesystem=False):
    prelude = (
        "from functools import partialmethod; from reporter.executors import ray_cluster; "
        "ray_cluster.RayExecutor.__init__ = partialmethod(ray_cluster.RayExecutor.__init__, shared_filesystem=False); "
        if no_shared_filesystem else ""
    )
    code = prelude + "import sys; from reporter.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, "build", str(work / project), *options],
        capture_output=True, text=True, timeout=900,
    )
    return {"status": done.returncode, "stderr": done.stderr}


def interrupted():
    \"\"\"SIGTERM to a build whose job runs on the cluster: the task's worker must stop too.\"\"\"
    import signal, time
    pid_file = work / "slow-pid"
    build = subprocess.Popen(
        [sys.executable, "-m", "reporter.cli", "build", str(work / "slow"), "--ray", address],
        stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 300
    while not pid_file.exists() and time.monotonic() < deadline and build.poll() is None:
        time.sleep(0.2)
    started = pid_file.exists()
    time.sleep(0.5)
    build.send_signal(signal.SIGTERM)
    _, stderr = build.communicate(timeout=60)
    worker = int(pid_file.read_text()) if started else -1
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and Path(f"/proc/{worker}").exists():
        time.sleep(0.2)
    return {"status": build.returncode, "stderr": stderr, "started": started,
            "stopped": not Path(f"/proc/{worker}").exists()}


runs = {
    "shared": build("good", "--ray", address, "--threads", "1", "--facts-dir", str(work / "ray-shared")),
    "cached": build("good", "--ray", "127.0.0.1:1", "--facts-dir", str(work / "ray-cached")),
    "sent": build(
        "good", "--no-cache", "--ray", address, "--threads", "1", "--facts-dir", str(work / "ray-sent"),
        no_shared_filesystem=True,
    ),
    "bad": build("bad", "--ray", address),
    "too_big": build("good", "--no-cache", "--ray", address, "--threads", "4"),
    "dies": build("dies", "--ray", address, "--threads", "1"),
    "interrupted": interrupted(),
}
(work / "runs.json").write_text(json.dumps(runs))
"""


def make(root: Path, specs: dict[str, str], files: dict[str, str] | None = None) -> Path:
    scaffold_project(root)
    for slug, text in specs.items():
        (root / "models" / slug).mkdir()
        (root / "models" / slug / "model.yaml").write_text(textwrap.dedent(text))
    for relative, content in (files or {}).items():
        (root / relative).write_text(content)
    return root


@pytest.fixture(scope="session")
def cluster_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict]]:
    work = tmp_path_factory.mktemp("ray")
    make(
        work / "good",
        {"test-mlp": TABULAR_SPEC, "test-mlp-seed-1": SECOND_SPEC, "test-mlp-dying": dying_spec(1, work / "deaths-1")},
        {"models/test-mlp-dying/dying.py": DYING_RECIPE},
    )
    make(work / "bad", {"test-mlp": TABULAR_SPEC, "zz-broken": TABULAR_SPEC.replace("label: income", "label: nope")})
    make(
        work / "dies",
        {"test-mlp-dying": dying_spec(5, work / "deaths-5")},
        {"models/test-mlp-dying/dying.py": DYING_RECIPE},
    )
    make(work / "slow", {"test-mlp-slow": slow_spec(work / "slow-pid")}, {"models/test-mlp-slow/slow.py": SLOW_RECIPE})
    (work / "driver.py").write_text(DRIVER)
    done = subprocess.run(
        [
            "bash",
            str(REPO / "scripts" / "with-local-ray-cluster.sh"),
            sys.executable,
            str(work / "driver.py"),
            str(work),
        ],
        cwd=work,
        env={
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}:/usr/sbin",
            "RAY": str(Path(sys.executable).parent / "ray"),
            "RAY_SOCKETS_FILE": str(work / "sockets.txt"),
        },
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return work, json.loads((work / "runs.json").read_text())


def test_facts_on_the_cluster_equal_a_local_sequential_build(cluster_runs) -> None:
    work, runs = cluster_runs
    assert runs["shared"]["status"] == 0, runs["shared"]["stderr"]
    assert runs["sent"]["status"] == 0, runs["sent"]["stderr"]
    # Ray retried test-mlp-dying's task after its worker died (deaths-1); a retried task's stream
    # resumes after the items already delivered, so its start is not shown twice.
    assert runs["shared"]["stderr"].count("(Ray node") == 3
    assert runs["sent"]["stderr"].count("inputs sent by hash") == 3  # no shared filesystem used
    local = work / "local"
    shutil.copytree(work / "good", local, ignore=shutil.ignore_patterns("build", "site"))
    sequential = reporter("build", "--jobs", "1", "--threads", "1", "--facts-dir", str(work / "seq"), cwd=local)
    assert sequential.returncode == 0, sequential.stderr
    expected = facts_without_timing(work / "seq")
    assert facts_without_timing(work / "ray-shared") == expected
    assert facts_without_timing(work / "ray-sent") == expected
    # The checkpoint a Ray worker wrote came back to the driver's build folder, byte for byte.
    for slug in expected:
        assert (work / "good" / "build" / "checkpoints" / slug / "model.safetensors").read_bytes() == (
            local / "build" / "checkpoints" / slug / "model.safetensors"
        ).read_bytes()


def test_a_cached_build_never_reaches_the_cluster(cluster_runs) -> None:
    work, runs = cluster_runs
    assert runs["cached"]["status"] == 0, runs["cached"]["stderr"]  # 127.0.0.1:1 has no cluster at all
    assert runs["cached"]["stderr"].count("cached facts") == 3


def test_a_bad_input_on_a_worker_is_located_with_status_2(cluster_runs) -> None:
    work, runs = cluster_runs
    local = reporter("build", "--jobs", "1", cwd=work / "bad")
    assert runs["bad"]["status"] == local.returncode == 2
    errors = [line for line in runs["bad"]["stderr"].splitlines() if line.startswith("error:")]
    assert errors == [line for line in local.stderr.splitlines() if line.startswith("error:")]
    assert "bad/models/zz-broken/model.yaml: evaluation.label" in errors[0]


def test_a_task_no_node_can_run_is_refused_before_it_is_submitted(cluster_runs) -> None:
    _, runs = cluster_runs
    too_big = runs["too_big"]
    assert too_big["status"] == 2, too_big["stderr"]
    assert "the model needs 4 CPU and 0 GPU on one Ray node" in too_big["stderr"]
    assert "offers 1 CPU / 0 GPU, 1 CPU / 0 GPU" in too_big["stderr"] and "Fix:" in too_big["stderr"]
    assert "(Ray node" not in too_big["stderr"]  # nothing ran


def test_a_killed_worker_is_retried_once_then_reported_by_name(cluster_runs) -> None:
    work, runs = cluster_runs
    assert (work / "deaths-1").read_text() == "1"  # died once, then passed on the retry
    assert runs["dies"]["status"] == 1
    assert (
        "test-mlp-dying/model.yaml: the Ray worker computing this model's facts died 2 times" in runs["dies"]["stderr"]
    )
    assert (work / "deaths-5").read_text() == "2"


def test_sigterm_cancels_the_task_on_the_cluster(cluster_runs) -> None:
    _, runs = cluster_runs
    interrupted = runs["interrupted"]
    assert interrupted["started"], interrupted["stderr"]
    assert interrupted["status"] == 1 and "interrupted; the previous site is unchanged" in interrupted["stderr"]
    assert interrupted["stopped"], "the Ray worker running the slow job outlived the build"


def test_ray_listens_on_loopback_only(cluster_runs) -> None:
    work, _ = cluster_runs
    sockets = (work / "sockets.txt").read_text().split()[::2]
    assert sockets, "no socket recorded"
    addresses = {entry.rsplit(":", 1)[0] for entry in sockets}
    assert addresses <= {"127.0.0.1", "::ffff:127.0.0.1", "::1"}, addresses
