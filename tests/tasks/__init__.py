"""Tests of the tasks, most of them with fake models (no torch, milliseconds)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reporter.tasks.base import TaskContext


def fake_context(folder: Path, *, slug: str, progress: Callable[[str], None] = lambda text: None) -> TaskContext:
    """What the build gives a measuring task, for a spec in ``folder`` with no data tables: files
    resolved inside the folder, 200 bootstrap resamples, the CPU."""
    return TaskContext(
        spec_path=folder / "model.yaml",
        slug=slug,
        section_field="evaluation",
        evaluation_table=None,
        train_table=None,
        samples=200,
        device="cpu",
        resolve=lambda ref, field: folder / ref.path,
        progress=progress,
        throttled=lambda template: lambda done, total: progress(template.format(done=done, total=total)),
        report_inference=lambda inference: None,
    )
