"""Training logs of runs made elsewhere, imported as the training report of a loaded model.

One importer per log format, behind one small interface (:class:`LogImporter`): it reads the file
a spec names and returns what the log declares, as :class:`~reporter.facts.DeclaredTrainingFacts`.
The log is untrusted input like a model file: its size is checked before it is read, nothing in it
is executed or unpickled, and a truncated or malformed log is an error naming the file, where it
breaks and the fix.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol

from reporter.errors import ModelFileError
from reporter.facts import DeclaredTrainingFacts
from reporter.training_logs.tensorboard import EVENT_FILE_PATTERN, read_tensorboard
from reporter.training_logs.trainer_state import read_trainer_state

MAX_LOG_BYTES = 512 * 1024 * 1024
"""A log larger than this is refused before it is read (a Trainer state of a long run is a few MB)."""


class LogImporter(Protocol):
    """Reads one log format: the file, where the spec names it (for messages) and its name as
    written in the spec."""

    def __call__(self, path: Path, *, where: str, named: str, sha256: str) -> DeclaredTrainingFacts: ...


IMPORTERS: dict[str, LogImporter] = {"trainer_state": read_trainer_state, "tensorboard": read_tensorboard}
"""The log formats a spec may name in `source.load.training_log.format`."""
FOLDER_FILES = {"tensorboard": EVENT_FILE_PATTERN}
"""Formats whose log may be a folder, and the files of it that are read (in name order)."""


def import_training_log(log_format: str, path: Path, *, where: str, named: str) -> DeclaredTrainingFacts:
    """What the training log at ``path`` declares.

    Raises:
        ModelFileError: the file is too large, or the importer finds it truncated or malformed.
    """
    if path.is_dir() and log_format not in FOLDER_FILES:
        raise ModelFileError(f"{where}: {path} is a folder. Fix: name the {log_format} log file itself")
    files = sorted(path.glob(FOLDER_FILES[log_format])) if path.is_dir() else [path]
    size = sum(file.stat().st_size for file in files)
    if size > MAX_LOG_BYTES:
        raise ModelFileError(
            f"{where}: {path} is {size:,} bytes, more than the {MAX_LOG_BYTES:,} a training log may have. "
            "Fix: name the run's own log, not an archive of several runs"
        )
    return IMPORTERS[log_format](path, where=where, named=named, sha256=_digest(path, files))


def _digest(path: Path, files: list[Path]) -> str:
    """SHA-256 of a log file; of a folder, over each file's name and bytes in the order read."""
    if not path.is_dir():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()
