"""Where model jobs run: in the driver, in local worker processes, or as tasks on a Ray cluster.

Every executor takes the same :class:`~reporter.jobs.ModelJob` and gives back the same
:class:`~reporter.jobs.JobResult`; only the driver (the pipeline) touches the cache, the facts
folder and the site. The driver decides which job starts next; the pool or Ray only runs them.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from typing import Protocol

from reporter.errors import InputError
from reporter.jobs import JobResult, ModelJob
from reporter.progress import BuildProgress
from reporter.settings import BuildSettings


class Executor(AbstractContextManager["Executor"], Protocol):
    """Runs model jobs; the driver submits them and collects results as they finish."""

    threads: int
    """Compute threads each job pins (the same for every job of a build, so figures do not
    depend on which models happened to be cached)."""
    capacity: int
    """Jobs that run at once. The driver submits no more than this, so that it chooses which model
    starts next (a model that waited for another's artifact before the small ones queued)."""

    def submit(self, job: ModelJob) -> None: ...

    @property
    def outstanding(self) -> int:
        """Jobs submitted whose result has not been collected yet."""
        ...

    def next_result(self) -> JobResult:
        """The result of a finished job (waiting for one if none has finished)."""
        ...


def usable_cores() -> int:
    """The cores this process may run on (a container's or `taskset`'s limit, not the machine's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def default_jobs(device: str) -> int:
    """One job per two cores on CPU (each with two threads); one per GPU on CUDA (jobs sharing
    a GPU would only queue on it).

    Not one job per core: a job with one thread gives up the intra-op parallelism a transformer
    needs, and a build whose long jobs depend on each other (a fine-tuning, then the spec loading
    its published folder) then runs them one after another on one core each. On this project's
    2-core machine the example build took 287 s with two one-thread jobs, 239 s with two two-thread
    jobs (oversubscribed) and 199 s with one two-thread job; eight independent MLPs were 1.7x
    faster with two one-thread jobs (bench/parallel.py). `--jobs` chooses for the build at hand.
    Today's nine examples, whose two longest jobs no longer depend on each other, are the other
    case: 5 min 20 s with two one-thread jobs against about 9 min with one two-thread job (a
    2-core machine, 2026-12-04), so the project's `mkdocs.yml` pins `jobs: 2` and `threads: 1`.
    """
    if device.startswith("cuda"):
        import torch

        return max(1, torch.cuda.device_count()) if device == "cuda" else 1
    return max(1, usable_cores() // 2)


def choose_executor(settings: BuildSettings, *, device: str, progress: BuildProgress) -> Executor:
    """Ray when an address is given, a local pool for more than one job, else the driver itself.

    Raises:
        InputError: a job count or thread count below one.
    """
    for name, value in (("jobs", settings.jobs), ("threads", settings.threads)):
        if value is not None and value < 1:
            raise InputError(
                f"--{name} {value}: must be at least 1. "
                f"Fix: give a whole number of 1 or more (--{name}, or `{name}:` of the reporter plugin in mkdocs.yml)"
            )
    if settings.ray_address:
        from reporter.executors.ray_cluster import RayExecutor

        return RayExecutor(settings.ray_address, threads=settings.threads or 1, device=device, progress=progress)
    from reporter.executors.local import InProcessExecutor, ProcessPoolExecutor

    jobs = settings.jobs or default_jobs(device)
    # The cores are shared out among the jobs running at once.
    threads = settings.threads or max(1, usable_cores() // jobs)
    if jobs == 1:
        return InProcessExecutor(threads=threads, progress=progress)
    return ProcessPoolExecutor(jobs, threads=threads, device=device, progress=progress)
