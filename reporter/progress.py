"""Progress output for long builds: a bar per model and per epoch on a terminal, lines otherwise.

Plain lines in CI logs are easier to read than redrawn bars, so the output adapts to the stream.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from reporter.facts import EpochFacts


class BuildProgress(AbstractContextManager["BuildProgress"]):
    """Reports models built and training epochs, to stderr."""

    def __init__(self, total_models: int, *, quiet: bool = False) -> None:
        self.console = Console(stderr=True, quiet=quiet)
        self.live = self.console.is_terminal and not quiet
        self.total = total_models
        self.done = 0
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
        )
        self._models = self._progress.add_task("models", total=total_models) if self.live else None
        self._epochs: Any = None

    def __enter__(self) -> BuildProgress:
        if self.live:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live:
            self._progress.stop()

    def model_started(self, slug: str, *, cached: bool, training: bool, epochs: int | None) -> None:
        what = "cached facts" if cached else "training" if training else "loading"
        if self.live:
            self._epochs = self._progress.add_task(f"  {slug}: {what}", total=epochs or 1)
        else:
            self.console.print(f"[{self.done + 1}/{self.total}] {slug}: {what}", highlight=False)

    def epoch(self, slug: str, record: EpochFacts, total: int | None) -> None:
        of_total = f"/{total}" if total else ""
        line = (
            f"  {slug}: epoch {record.epoch}{of_total} loss {record.train_loss:.4f} "
            f"val loss {record.validation_loss:.4f}"
        )
        if record.validation_accuracy is not None:
            line += f" val acc {record.validation_accuracy:.4f}"
        if self.live:
            self._progress.update(self._epochs, completed=record.epoch)
            self._progress.console.print(line, highlight=False)
        else:
            self.console.print(line, highlight=False)

    def model_done(self, slug: str) -> None:
        self.done += 1
        if self.live:
            if self._epochs is not None:
                self._progress.update(self._epochs, completed=self._progress.tasks[self._epochs].total)
            assert self._models is not None  # live progress always has the models task
            self._progress.update(self._models, completed=self.done)

    def message(self, text: str) -> None:
        self.console.print(text, highlight=False)

    def throttled(self, template: str, *, seconds: float = 10.0) -> Callable[[int, int], None]:
        """A ``(done, total)`` callback printing ``template`` at most every ``seconds`` and at the
        end: fast work stays quiet, slow work (a language model) still shows it is moving."""
        last = time.monotonic()

        def report(done: int, total: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= seconds or (done == total and now - last >= seconds / 10):
                last = now
                self.message(template.format(done=done, total=total))

        return report
