"""Model jobs as tasks on a Ray cluster, for builds one machine cannot finish in time.

The driver connects only when a model needs computing (a build served from the cache never
reaches the cluster), checks that some node can meet each task's CPUs and GPU (a request no node
meets would wait forever), and sends each job's input files by content hash (see `shipping`).
A task whose worker dies is run once more by Ray; a second death is reported naming the model.
A job's bad-input error comes back as data and is raised again in the driver with its own message,
so it exits with status 2 as a local build does. Ctrl-C cancels the tasks still on the cluster.

Ray is an optional extra (`reporter[ray]`), imported only here.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from reporter.errors import InputError, ReporterError
from reporter.executors.shipping import ShippedFile, manifest, rebuild_project, visible_here
from reporter.files import write_atomically
from reporter.jobs import JobFailure, JobResult, ModelJob, run_model_job
from reporter.progress import BuildProgress

WORKER_DEATHS = 2
"""A task's runs before a dead worker is reported: Ray retries it once (`max_retries=1`)."""
NOT_INSTALLED = "Ray is not installed. Fix: pip install 'reporter[ray]' (on the driver and on every node)"

CheckpointFiles = dict[str, bytes]


def run_on_ray_worker(
    job: ModelJob, files: list[ShippedFile], blobs: dict[str, Any], events: Any, shared_filesystem: bool | None
) -> tuple[JobResult, CheckpointFiles]:
    """The Ray task: run the job where its inputs are, write its checkpoint to a scratch folder,
    and send the checkpoint's files back with the result (the driver publishes them)."""
    import ray

    shared = visible_here(files) if shared_filesystem is None else shared_filesystem
    scratch_root = None
    if not shared:
        job, scratch_root = rebuild_project(job, files, fetch=lambda sha: ray.get(blobs[sha]))
    node = ray.get_runtime_context().get_node_id()[:8]
    try:
        with tempfile.TemporaryDirectory(prefix="reporter-checkpoint-") as out:
            result = run_model_job(
                replace(job, checkpoint_dir=Path(out) / job.slug),
                events.put,
                where=f" (Ray node {node}, pid {os.getpid()}{', inputs sent by hash' if scratch_root else ''})",
            )
            folder = Path(out) / job.slug
            checkpoint = {
                p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
            }
    finally:
        if scratch_root is not None:
            shutil.rmtree(scratch_root, ignore_errors=True)
    if result.failure is not None and scratch_root is not None:
        # Name the driver's files in the message, not the worker's scratch copy of them.
        message = result.failure.message.replace(str(scratch_root), str(job.project.root))
        result = replace(result, failure=JobFailure(error_class=result.failure.error_class, message=message))
    return result, checkpoint


class RayExecutor:
    """Runs model jobs as tasks on the Ray cluster at ``address``."""

    def __init__(
        self,
        address: str,
        *,
        threads: int,
        device: str,
        progress: BuildProgress,
        shared_filesystem: bool | None = None,
    ) -> None:
        self.address, self.threads, self.device, self.progress = address, threads, device, progress
        self.shared_filesystem = shared_filesystem  # None: each task checks whether it sees the driver's files
        self.submitted = 0
        self._ray: Any = None
        self._task: Any = None
        self._events: Any = None
        self._blobs: dict[str, Any] = {}
        self._running: dict[Any, ModelJob] = {}
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        """Cancel what is still on the cluster (an error elsewhere, or Ctrl-C), then disconnect."""
        if self._ray is None:
            return
        for ref in self._running:
            self._ray.cancel(ref, force=True)
        self._running.clear()
        self._stop.set()
        if self._listener is not None:
            self._listener.join(timeout=5)
        self._ray.shutdown()
        self._ray = None

    def _connect(self) -> None:
        try:
            import ray
            from ray.util.queue import Queue
        except ImportError:
            raise InputError(f"--ray {self.address}: {NOT_INSTALLED}") from None
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            ray.init(address=self.address, log_to_driver=False, logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise InputError(
                f"--ray {self.address}: cannot connect to a Ray cluster there ({exc}). "
                "Fix: start the cluster with `ray start --head`, and give its address (HOST:PORT)"
            ) from None
        self._ray = ray
        self._task = ray.remote(run_on_ray_worker)
        self._events = Queue(actor_options={"num_cpus": 0})
        self._listener = threading.Thread(target=self._relay_events, name="reporter-ray-progress", daemon=True)
        self._listener.start()

    def _relay_events(self) -> None:
        from ray.util.queue import Empty

        while not self._stop.is_set():
            try:
                self.progress.apply(self._events.get(timeout=0.5))
            except Empty:
                continue
            except Exception:  # the queue's actor is gone: the build is ending
                return

    def _check_resources(self, job: ModelJob, gpus: int) -> None:
        """Some live node must offer the task's CPUs and GPUs, or Ray would leave it pending forever."""
        nodes = [n["Resources"] for n in self._ray.nodes() if n.get("Alive")]
        if not any(r.get("CPU", 0) >= self.threads and r.get("GPU", 0) >= gpus for r in nodes):
            offered = ", ".join(f"{r.get('CPU', 0):g} CPU / {r.get('GPU', 0):g} GPU" for r in nodes) or "no live node"
            raise InputError(
                f"{job.loaded.path}: the model needs {self.threads} CPU and {gpus} GPU on one Ray node "
                f"(device {self.device}), and the cluster at {self.address} offers {offered}. "
                "Fix: use --device cpu or --threads N that a node can meet, or add such a node"
            )

    def submit(self, job: ModelJob) -> None:
        if self._ray is None:
            self._connect()
        gpus = 1 if self.device.startswith("cuda") else 0
        self._check_resources(job, gpus)
        files = manifest(job)
        for shipped in files:
            if shipped.sha256 not in self._blobs:
                self._blobs[shipped.sha256] = self._ray.put(Path(shipped.driver_path).read_bytes())
        ref = self._task.options(
            num_cpus=self.threads, num_gpus=gpus, max_retries=WORKER_DEATHS - 1, retry_exceptions=False
        ).remote(
            job,
            files,
            {f.sha256: self._blobs[f.sha256] for f in files},
            self._events,
            self.shared_filesystem,
        )
        self._running[ref] = job
        self.submitted += 1

    @property
    def outstanding(self) -> int:
        return len(self._running)

    def next_result(self) -> JobResult:
        from ray.exceptions import RayTaskError

        [ready], _ = self._ray.wait(list(self._running), num_returns=1)
        job = self._running.pop(ready)
        try:
            result, checkpoint = self._ray.get(ready)
        except RayTaskError as exc:
            failed = f"{job.loaded.path}: computing this model's facts failed on the Ray cluster"
            raise ReporterError(f"{failed}:\n{exc}") from exc
        except self._ray.exceptions.RayError as exc:
            raise ReporterError(
                f"{job.loaded.path}: the Ray worker computing this model's facts died {WORKER_DEATHS} times "
                f"({type(exc).__name__}). Fix: check the node's memory and logs (`ray logs`), "
                "or run `reporter build --jobs 1` to see the failure locally"
            ) from None
        if result.failure is None:
            _publish_checkpoint(job.checkpoint_dir, checkpoint)
        return result


def _publish_checkpoint(folder: Path, files: CheckpointFiles) -> None:
    """Write a checkpoint the worker sent back where a local job would have written it."""
    if folder.exists():
        shutil.rmtree(folder)  # files of an earlier run must not mix with this one's
    for name, content in files.items():
        write_atomically(folder / name, content)
        (folder / name).chmod(0o644)
