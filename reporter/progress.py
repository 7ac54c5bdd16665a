"""Progress output for long builds: a bar per running model and per epoch on a terminal, lines otherwise.

Plain lines in CI logs are easier to read than redrawn bars, so the output adapts to the stream.
A model job reports through a :class:`JobProgress`, which turns each report into a small picklable
event; the driver's :class:`BuildProgress` prints the events of every job, wherever it runs (in
the driver, in a local worker process, on a Ray worker).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from reporter.facts import EpochFacts


@dataclass(frozen=True)
class StartedEvent:
    """A job began computing a model's facts (cached models never start a job)."""

    slug: str
    training: bool
    epochs: int | None
    where: str


@dataclass(frozen=True)
class EpochEvent:
    """A job finished a training epoch."""

    slug: str
    record: EpochFacts
    epochs: int | None


@dataclass(frozen=True)
class MessageEvent:
    """A line a job wants shown (rows scored, shuffles done)."""

    text: str


ProgressEvent = StartedEvent | EpochEvent | MessageEvent
SendEvent = Callable[[ProgressEvent], None]


TERMINAL_SECONDS = 5.0
"""Seconds between the progress lines of a long loop when the build's output is a terminal."""
LOG_SECONDS = 30.0
"""… and when it is a log (CI): fewer lines, still enough to show the build is moving."""


class JobProgress:
    """What a model job reports while it runs, sent as events to wherever the driver listens."""

    def __init__(self, slug: str, *, epochs: int | None, send: SendEvent, interval: float = LOG_SECONDS) -> None:
        self.slug, self.epochs, self.send, self.interval = slug, epochs, send, interval

    def epoch(self, record: EpochFacts) -> None:
        self.send(EpochEvent(slug=self.slug, record=record, epochs=self.epochs))

    def message(self, text: str) -> None:
        self.send(MessageEvent(text=text))

    def steps(self) -> Callable[[int, int, int], None]:
        """A ``(epoch, done, total)`` callback for the optimiser steps inside an epoch, throttled
        like :meth:`throttled` (one epoch of a fine-tuning can take minutes)."""
        of_total = f"/{self.epochs}" if self.epochs else ""
        reports: dict[int, Callable[[int, int], None]] = {}

        def report(epoch: int, done: int, total: int) -> None:
            if epoch not in reports:
                reports.clear()
                template = f"  {self.slug}: epoch {epoch}{of_total}, step {{done:,}} of {{total:,}}"
                reports[epoch] = self.throttled(template)
            reports[epoch](done, total)

        return report

    def throttled(self, template: str, *, seconds: float | None = None) -> Callable[[int, int], None]:
        """A ``(done, total)`` callback sending ``template`` at most every ``seconds`` (the job's
        interval: a few seconds on a terminal, half a minute in logs) and at the end: fast work
        stays quiet, slow work (a language model, an epoch of fine-tuning) shows it is moving."""
        seconds = self.interval if seconds is None else seconds
        last = time.monotonic()

        def report(done: int, total: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= seconds or (done == total and now - last >= seconds / 10):
                last = now
                self.message(template.format(done=done, total=total))

        return report


class BuildProgress(AbstractContextManager["BuildProgress"]):
    """Reports models built and training epochs, to stderr: one bar per running model."""

    def __init__(self, total_models: int, *, quiet: bool = False) -> None:
        self.console = Console(stderr=True, quiet=quiet, soft_wrap=True)  # long lines stay whole in logs
        self.live = self.console.is_terminal and not quiet
        self.total = total_models
        self.done = 0
        self._seen: set[str] = set()
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
        )
        self._models = self._progress.add_task("models", total=total_models) if self.live else None
        self._running: dict[str, TaskID] = {}

    def __enter__(self) -> BuildProgress:
        if self.live:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live:
            self._progress.stop()

    def model_started(self, slug: str, *, cached: bool, training: bool, epochs: int | None, where: str = "") -> None:
        what = "cached facts" if cached else "training" if training else "loading"
        if slug in self._seen:  # a job run again after its worker died
            what += " again"
        else:
            self._seen.add(slug)
        if self.live:
            if slug in self._running:
                self._progress.remove_task(self._running[slug])
            self._running[slug] = self._progress.add_task(f"  {slug}: {what}{where}", total=epochs or 1)
        else:
            self.console.print(f"[{len(self._seen)}/{self.total}] {slug}: {what}{where}", highlight=False)

    def apply(self, event: ProgressEvent) -> None:
        """Show an event a job sent."""
        if isinstance(event, StartedEvent):
            self.model_started(
                event.slug, cached=False, training=event.training, epochs=event.epochs, where=event.where
            )
            return
        if isinstance(event, MessageEvent):
            self.console.print(event.text, highlight=False)
            return
        record, of_total = event.record, f"/{event.epochs}" if event.epochs else ""
        line = (
            f"  {event.slug}: epoch {record.epoch}{of_total} loss {record.train_loss:.4f} "
            f"val loss {record.validation_loss:.4f}"
        )
        if record.validation_accuracy is not None:
            line += f" val acc {record.validation_accuracy:.4f}"
        if self.live and event.slug in self._running:
            self._progress.update(self._running[event.slug], completed=record.epoch)
        self.console.print(line, highlight=False)

    def model_done(self, slug: str) -> None:
        self.done += 1
        if self.live:
            task = self._running.pop(slug, None)
            if task is not None:
                self._progress.update(task, completed=self._progress.tasks[task].total)
            assert self._models is not None  # live progress always has the models task
            self._progress.update(self._models, completed=self.done)

    def message(self, text: str) -> None:
        self.console.print(text, highlight=False)

    @property
    def interval(self) -> float:
        """Seconds between a job's progress lines inside a long loop: a few on a terminal."""
        return TERMINAL_SECONDS if self.live else LOG_SECONDS
