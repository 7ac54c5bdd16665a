"""Model jobs as tasks on a Ray cluster, for builds one machine cannot finish in time.

The driver connects only when a model needs computing (a build served from the cache never
reaches the cluster), checks that some node can meet each task's CPUs and GPU (a request no node
meets would wait forever), and sends each job's input files by content hash (see `shipping`).
Each task streams the job's progress events back as it runs, then its result. A task whose
worker dies is run once more by Ray; a second death is reported naming the model.
A job's bad-input error comes back as data and is raised again in the driver with its own message,
so it exits with status 2 as a local build does. Ctrl-C cancels the tasks still on the cluster.

Ray is an optional extra (`reporter[ray]`), imported only here.
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from reporter.errors import InputError, ReporterError
from reporter.executors.shipping import ShippedFile, manifest, rebuild_project, visible_here
from reporter.files import write_atomically
from reporter.jobs import JobFailure, JobResult, ModelJob, run_model_job
from reporter.progress import BuildProgress, ProgressEvent, SendEvent

WORKER_DEATHS = 2
"""A task's runs before a dead worker is reported: Ray retries it once (`max_retries=1`)."""
NOT_INSTALLED = "Ray is not installed. Fix: pip install 'reporter[ray]' (on the driver and on every node)"


@dataclass(frozen=True)
class Finished:
    """A task's last item: the job's result and the files of the checkpoint it wrote."""

    result: JobResult
    checkpoint: dict[str, bytes]


def run_on_ray_worker(
    job: ModelJob, files: list[ShippedFile], blobs: dict[str, Any], shared_filesystem: bool | None
) -> Iterator[ProgressEvent | Finished]:
    """The Ray task, a streaming generator: the job's progress events as they happen, then its
    result with the checkpoint's files (the driver publishes them).

    The job runs in a thread of the task so that its events can be yielded while it works; a
    generator needs no actor to carry them (an actor would hold a worker process on its node, and
    Ray would then replace the task workers it counts as surplus, each new one importing torch again).
    """
    events: queue.SimpleQueue[ProgressEvent | None] = queue.SimpleQueue()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["finished"] = _run_here(job, files, blobs, shared_filesystem, events.put)
        except BaseException as exc:  # re-raised in the task below, where Ray reports it
            outcome["error"] = exc
        finally:
            events.put(None)

    thread = threading.Thread(target=work, name=f"reporter-job-{job.slug}")
    thread.start()
    while (event := events.get()) is not None:
        yield event
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    yield outcome["finished"]


def _run_here(
    job: ModelJob, files: list[ShippedFile], blobs: dict[str, Any], shared_filesystem: bool | None, send: SendEvent
) -> Finished:
    """Run the job where its inputs are, writing its checkpoint to a scratch folder."""
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
                send,
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
    return Finished(result=result, checkpoint=checkpoint)


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
        self.capacity = sys.maxsize  # every job at once: the cluster's scheduler places them
        self.shared_filesystem = shared_filesystem  # None: each task checks whether it sees the driver's files
        self._ray: Any = None
        self._task: Any = None
        self._blobs: dict[str, Any] = {}
        self._running: dict[Any, ModelJob] = {}  # each task's stream of events, ending with its result

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        """Cancel what is still on the cluster (an error elsewhere, or Ctrl-C), then disconnect."""
        if self._ray is None:
            return
        for stream in self._running:
            self._ray.cancel(stream, force=True)
        self._running.clear()
        self._ray.shutdown()
        self._ray = None

    def _connect(self) -> None:
        try:
            import ray
        except ImportError:
            raise InputError(f"--ray {self.address}: {NOT_INSTALLED}") from None
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        # Ray's core installs its own SIGTERM handler, which would end the driver without cancelling
        # the tasks; the build's handlers (Ctrl-C and SIGTERM stop the build cleanly) are put back.
        handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            ray.init(address=self.address, log_to_driver=False, logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise InputError(
                f"--ray {self.address}: cannot connect to a Ray cluster there ({exc}). "
                "Fix: start the cluster with `ray start --head`, and give its address (HOST:PORT)"
            ) from None
        finally:
            if threading.current_thread() is threading.main_thread():
                for signum, handler in handlers.items():
                    if handler is not None:
                        signal.signal(signum, handler)
        self._ray = ray
        self._task = ray.remote(run_on_ray_worker)

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
        stream = self._task.options(
            num_cpus=self.threads,
            num_gpus=gpus,
            num_returns="streaming",
            max_retries=WORKER_DEATHS - 1,
            retry_exceptions=False,
        ).remote(job, files, {f.sha256: self._blobs[f.sha256] for f in files}, self.shared_filesystem)
        self._running[stream] = job

    @property
    def outstanding(self) -> int:
        return len(self._running)

    def next_result(self) -> JobResult:
        """Show the tasks' progress events as they come, until one task's result arrives."""
        from ray.exceptions import RayTaskError

        while True:
            [stream], _ = self._ray.wait(list(self._running), num_returns=1)
            job = self._running[stream]
            try:
                item = self._ray.get(next(stream))
            except RayTaskError as exc:
                failed = f"{job.loaded.path}: computing this model's facts failed on the Ray cluster"
                raise ReporterError(f"{failed}:\n{exc}") from exc
            except self._ray.exceptions.RayError as exc:
                raise ReporterError(
                    f"{job.loaded.path}: the Ray worker computing this model's facts died {WORKER_DEATHS} times "
                    f"({type(exc).__name__}). Fix: check the node's memory and logs (`ray logs`), "
                    "or run `reporter build --jobs 1` to see the failure locally"
                ) from None
            if not isinstance(item, Finished):
                self.progress.apply(item)
                continue
            del self._running[stream]
            if item.result.failure is None:
                _publish_checkpoint(job.checkpoint_dir, item.checkpoint)
            return item.result


def _publish_checkpoint(folder: Path, files: dict[str, bytes]) -> None:
    """Write a checkpoint the worker sent back where a local job would have written it."""
    if folder.exists():
        shutil.rmtree(folder)  # files of an earlier run must not mix with this one's
    for name, content in files.items():
        write_atomically(folder / name, content)
        (folder / name).chmod(0o644)
