"""Model jobs on this machine: one after another in the driver, or side by side in worker processes.

Workers are started with `spawn`, not `fork`: a forked copy of a driver that has already used
torch's thread pools can deadlock. Each worker pins its job's threads, so N workers share the
cores instead of each taking all of them. A worker that dies (out of memory, a crash in native
code) takes the pool down with it; the jobs that were running are tried once more, each alone, and
a job that kills its worker twice is reported by name.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import deque
from concurrent import futures
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from reporter.jobs import JobFailure, JobResult, ModelJob, run_model_job
from reporter.progress import BuildProgress, ProgressEvent, StartedEvent


class InProcessExecutor:
    """Runs each job in the driver itself, in submission order: no start-up cost, and a traceback
    that points at the line that failed."""

    capacity = 1

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
    """Runs up to ``jobs`` model jobs at once in worker processes of this machine.

    A lone job (every other model cached) runs in the driver with the same pinned threads, so its
    figures are those a worker would give, without the workers' start-up.
    """

    def __init__(self, jobs: int, *, threads: int, device: str, progress: BuildProgress) -> None:
        self.jobs, self.threads, self.progress = jobs, threads, progress
        self.capacity = jobs
        self._gpus = jobs if device == "cuda" else 1
        self._context = multiprocessing.get_context("spawn")
        self._events: Any = self._context.Queue()
        self._pool: futures.ProcessPoolExecutor | None = None
        self._queued: list[ModelJob] = []
        self._running: dict[futures.Future[JobResult], ModelJob] = {}
        self._started: set[str] = set()  # jobs a worker has begun (a dead worker's are retried)
        self._finished: list[JobResult] = []  # results collected while recovering from a dead worker
        self._requeued: set[str] = set()  # jobs put back after a pool broke before they had started
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

    def _new_pool(self, *, workers: int | None = None) -> futures.ProcessPoolExecutor:
        return futures.ProcessPoolExecutor(
            max_workers=workers or self.jobs,
            mp_context=self._context,
            initializer=_start_worker,
            initargs=(self._events, self._context.Value("i", 0), self._gpus),
        )

    def submit(self, job: ModelJob) -> None:
        if self._pool is None:
            self._queued.append(job)  # the pool starts when there is more than one job to run
            return
        self._running[self._pool.submit(_run_in_worker, job)] = job

    @property
    def outstanding(self) -> int:
        return len(self._queued) + len(self._running) + len(self._finished)

    def next_result(self) -> JobResult:
        if self._finished:
            return self._finished.pop(0)
        if self._pool is None and len(self._queued) == 1:
            # One model to compute (the rest cached): starting workers would only add their start-up.
            return run_model_job(self._queued.pop(), self.progress.apply)
        if self._pool is None:
            self._pool = self._new_pool()
            queued, self._queued = self._queued, []
            for job in queued:
                self.submit(job)
        while True:
            done, _ = futures.wait(self._running, return_when=futures.FIRST_COMPLETED)
            finished = min(done, key=lambda f: list(self._running).index(f))  # the earliest submitted
            job = self._running.pop(finished)
            try:
                return finished.result()
            except BrokenProcessPool:
                self._recover_from_worker_death(job)
                if self._finished:
                    return self._finished.pop(0)

    def _recover_from_worker_death(self, first: ModelJob) -> None:
        """A worker died, and the pool with it. The jobs that had started run again one at a time,
        each alone in a new worker, so a job that kills its worker again is known for certain and
        reported by name; jobs that had not started go to a new pool."""
        time.sleep(0.2)  # let the progress listener take the dead pool's last events
        broken = [first]
        for future, job in self._running.items():
            if not future.done() or isinstance(future.exception(), BrokenProcessPool):
                broken.append(job)
            elif future.exception() is not None:
                raise future.exception()  # type: ignore[misc]
            else:
                self._finished.append(future.result())
        self._running.clear()
        assert self._pool is not None
        self._pool.shutdown(wait=False, cancel_futures=True)
        # A job whose start never reached the driver (its worker died at once) is a suspect too
        # the second time a pool breaks under it, so no job is requeued forever.
        started = [j for j in broken if j.slug in self._started or j.slug in self._requeued]
        self._requeued.update(j.slug for j in broken if j not in started)
        deaths = []  # after the results that did come back, so the driver caches those first
        for job in started:
            self._started.discard(job.slug)
            with self._new_pool(workers=1) as alone:
                try:
                    self._finished.append(alone.submit(_run_in_worker, job).result())
                except BrokenProcessPool:
                    deaths.append(JobResult(slug=job.slug, failure=JobFailure("ReporterError", _died_twice(job))))
        self._finished.extend(deaths)
        self._pool = self._new_pool()
        for job in (j for j in broken if j not in started):
            self.submit(job)


def _died_twice(job: ModelJob) -> str:
    return (
        f"{job.loaded.path}: the worker process computing this model's facts died twice, the second time "
        "running alone (killed, out of memory, or a crash in native code). "
        "Fix: run `reporter build --jobs 1` to see the failure in the driver, or give the build more memory"
    )
