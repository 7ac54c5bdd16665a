"""A model job: one model's resolved spec, inputs and settings in; its facts and checkpoint out.

The job holds no reference to the build's shared state (the cache, the facts folder, the site):
the driver decides which models need computing, hands each a job, and alone writes what comes
back. That is what lets the same job run in the driver, in a local worker process or as a Ray task,
and what keeps a parallel build's facts equal to a sequential one's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from reporter import errors
from reporter.compute import compute_facts
from reporter.progress import LOG_SECONDS, JobProgress, SendEvent, StartedEvent
from reporter.project import Project
from reporter.settings import BuildSettings
from reporter.spec import LoadedSpec


@dataclass(frozen=True)
class ModelJob:
    """Everything one model's facts are computed from; picklable, so it can travel to a worker."""

    project: Project
    loaded: LoadedSpec
    key: str
    device: str
    settings: BuildSettings
    threads: int
    project_commit: str | None
    checkpoint_dir: Path
    epochs: int | None
    inputs: tuple[Path, ...]
    """The files and folders the job reads (spec, data, weights, recipe code): what a worker
    without the project's filesystem is sent."""
    progress_seconds: float = LOG_SECONDS
    """Seconds between the progress lines of a long loop (fewer when the driver writes a log)."""

    @property
    def slug(self) -> str:
        return self.loaded.slug

    @property
    def training(self) -> bool:
        return self.loaded.spec.source.train is not None


@dataclass(frozen=True)
class JobFailure:
    """An error a user can fix, carried back as data: the driver raises it again with the same
    class (so the same exit status) and message as a build in one process would."""

    error_class: str
    message: str

    def raise_again(self) -> None:
        cls = getattr(errors, self.error_class, None)
        if isinstance(cls, type) and issubclass(cls, errors.ReporterError) and cls is not errors.SpecError:
            raise cls(self.message)
        raise (errors.InputError if self.error_class == "SpecError" else errors.ReporterError)(self.message)


@dataclass(frozen=True)
class JobResult:
    """The facts record as JSON (what the cache stores), or why the job could not compute it."""

    slug: str
    facts_json: str | None = None
    failure: JobFailure | None = None


def pin_threads(threads: int) -> None:
    """Fix the compute threads of torch and of numpy's BLAS for the rest of the process.

    A reduction split over more threads adds in another order, so figures can differ in their
    last digits between thread counts; pinning makes a job's figures the same wherever it runs.
    """
    import torch
    from threadpoolctl import threadpool_limits

    os.environ["OMP_NUM_THREADS"] = str(threads)
    torch.set_num_threads(threads)
    threadpool_limits(limits=threads)


def run_model_job(job: ModelJob, send: SendEvent, *, where: str = "") -> JobResult:
    """Compute one model's facts, reporting progress through ``send`` (``where`` names the worker)."""
    pin_threads(job.threads)
    send(StartedEvent(slug=job.slug, training=job.training, epochs=job.epochs, where=where))
    progress = JobProgress(job.slug, epochs=job.epochs, send=send, interval=job.progress_seconds)
    try:
        facts = compute_facts(
            job.project,
            job.loaded,
            device=job.device,
            key=job.key,
            settings=job.settings,
            progress=progress,
            checkpoint_dir=job.checkpoint_dir,
            project_commit=job.project_commit,
        )
    except errors.ReporterError as exc:
        return JobResult(slug=job.slug, failure=JobFailure(error_class=type(exc).__name__, message=str(exc)))
    return JobResult(slug=job.slug, facts_json=facts.to_json())
