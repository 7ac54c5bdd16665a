"""Model jobs on this machine: one after another in the driver, or side by side in worker processes.

Workers are started with `spawn`, not `fork`: a forked copy of a driver that has already used
torch's thread pools can deadlock. Each worker pins its job's threads, so N workers share the
cores instead of each taking all of them. A worker that dies (out of memory, a crash in native
code) takes the pool down with it; the jobs it was running are tried once more in a new pool, and
a job that kills its worker twice is reported by name.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import deque
from concurrent import futures
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from reporter.errors import ReporterError
from reporter.jobs import JobResult, ModelJob, run_model_job
from reporter.progress import BuildProgress, ProgressEvent, StartedEvent

ATTEMPTS = 2
"""Runs of a job whose worker died before it is reported (the first death may be another job's)."""


class InProcessExecutor:
    """Runs each job in the driver itself, in submission order: no start-up cost, and a traceback
    that points at the line that failed."""

    def __init__(self, *, threads: int, progress: BuildProgress) -> None:
        self.threads, self.progress = threads, progress
        self._queued: deque[ModelJob] = deque()

    def __enter__(self) -> InProcessExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self._queued.clear()

    def submit(self, job: ModelJob) -> None:
        self._queued.append(job)

    @property
    def outstanding(self) -> int:
        return len(self._queued)

    def next_result(self) -> JobResult:
        return run_model_job(self._queued.popleft(), self.progress.apply)


_events: Any = None  # the worker's end of the progress queue, set by `_start_worker`


def _start_worker(events: Any, gpu_counter: Any, gpus: int) -> None:
    """Runs once in each new worker: keep the progress queue, and take a GPU of its own."""
    import os

    global _events
    _events = events
    if gpus > 1:
        with gpu_counter.get_lock():
            index, gpu_counter.value = gpu_counter.value, gpu_counter.value + 1
        os.environ["CUDA_VISIBLE_DEVICES"] = str(index % gpus)


def _run_in_worker(job: ModelJob) -> JobResult:
    return run_model_job(job, _events.put, where=f" (worker process {multiprocessing.current_process().pid})")


class ProcessPoolExecutor:
    """Runs up to ``jobs`` model jobs at once in worker processes of this machine."""

    def __init__(self, jobs: int, *, threads: int, device: str, progress: BuildProgress) -> None:
        self.jobs, self.threads, self.progress = jobs, threads, progress
        self._gpus = jobs if device == "cuda" else 1
        self._context = multiprocessing.get_context("spawn")
        self._events: Any = self._context.Queue()
        self._pool: futures.ProcessPoolExecutor | None = None
        self._running: dict[futures.Future[JobResult], ModelJob] = {}
        self._started: set[str] = set()  # jobs a worker has begun (a dead worker's are retried)
        self._attempts: dict[str, int] = {}
        self._listener = threading.Thread(target=self._relay_events, name="reporter-progress", daemon=True)

    def __enter__(self) -> ProcessPoolExecutor:
        self._listener.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop every worker: after the last result, or at once on an error or Ctrl-C."""
        if self._pool is not None:
            processes = list((getattr(self._pool, "_processes", None) or {}).values())
            self._pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()  # a job still running is abandoned, not waited for
            self._pool = None
        self._events.put(None)
        self._listener.join(timeout=5)

    def _relay_events(self) -> None:
        while (event := self._events.get()) is not None:
            self._show(event)

    def _show(self, event: ProgressEvent) -> None:
        if isinstance(event, StartedEvent):
            self._started.add(event.slug)
        self.progress.apply(event)

    def _new_pool(self) -> futures.ProcessPoolExecutor:
        return futures.ProcessPoolExecutor(
            max_workers=self.jobs,
            mp_context=self._context,
            initializer=_start_worker,
            initargs=(self._events, self._context.Value("i", 0), self._gpus),
        )

    def submit(self, job: ModelJob) -> None:
        if self._pool is None:
            self._pool = self._new_pool()
        self._attempts[job.slug] = self._attempts.get(job.slug, 0) + 1
        self._running[self._pool.submit(_run_in_worker, job)] = job

    @property
    def outstanding(self) -> int:
        return len(self._running)

    def next_result(self) -> JobResult:
        while True:
            done, _ = futures.wait(self._running, return_when=futures.FIRST_COMPLETED)
            finished = min(done, key=lambda f: list(self._running).index(f))  # the earliest submitted
            job = self._running.pop(finished)
            try:
                return finished.result()
            except BrokenProcessPool:
                self._retry_after_worker_death(job)

    def _retry_after_worker_death(self, first: ModelJob) -> None:
        """A worker died: every job not yet finished is resubmitted to a new pool; the jobs that
        had started count an attempt, and one that has used up its attempts is reported."""
        import time

        time.sleep(0.2)  # let the progress listener take the dead pool's last events
        broken = [first, *self._running.values()]
        self._running.clear()
        assert self._pool is not None
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()
        for job in broken:
            if job.slug not in self._started:
                self._attempts[job.slug] -= 1  # was only queued: not its fault
            elif self._attempts[job.slug] >= ATTEMPTS:
                raise ReporterError(
                    f"{job.loaded.path}: the worker process computing this model's facts died "
                    f"{ATTEMPTS} times (killed, out of memory, or a crash in native code). "
                    "Fix: run `reporter build --jobs 1` to see the failure in the driver, or give the build more memory"
                )
            self._started.discard(job.slug)
            self.submit(job)
