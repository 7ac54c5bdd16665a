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
from reporter.training_logs.mlflow import read_mlflow
from reporter.training_logs.tensorboard import EVENT_FILE_PATTERN, read_tensorboard
from reporter.training_logs.trainer_state import RESULTS_FILES, read_trainer_state

MAX_LOG_BYTES = 512 * 1024 * 1024
"""A log larger than this is refused before it is read (a Trainer state of a long run is a few MB)."""


class LogImporter(Protocol):
    """Reads one log format: the file, where the spec names it (for messages), its name as written
    in the spec, its digest, and the run the spec chooses (for stores holding several runs)."""

    def __call__(
        self, path: Path, *, where: str, named: str, sha256: str, run: str | None
    ) -> DeclaredTrainingFacts: ...


IMPORTERS: dict[str, LogImporter] = {
    "trainer_state": read_trainer_state,
    "tensorboard": read_tensorboard,
    "mlflow": read_mlflow,
}
"""The log formats a spec may name in `source.load.training_log.format`."""
FOLDER_FILES = {
    "trainer_state": ("trainer_state.json", RESULTS_FILES),
    "tensorboard": (EVENT_FILE_PATTERN,),
    "mlflow": ("**/*",),
}
"""The files of a log folder that are read and digested (in name order), for each format."""
NOT_READ = "artifacts"
"""A folder inside a log folder that holds what the run saved (models, plots), not the log."""


def import_training_log(
    log_format: str, path: Path, *, where: str, named: str, run: str | None = None
) -> DeclaredTrainingFacts:
    """What the training log at ``path`` declares.

    Raises:
        ModelFileError: the file is too large, or the importer finds it truncated or malformed.
    """
    files = _log_files(path, FOLDER_FILES[log_format]) if path.is_dir() else [path]
    size = sum(file.stat().st_size for file in files)
    if size > MAX_LOG_BYTES:
        raise ModelFileError(
            f"{where}: {path} is {size:,} bytes, more than the {MAX_LOG_BYTES:,} a training log may have. "
            "Fix: name the run's own log, not an archive of several runs"
        )
    return IMPORTERS[log_format](path, where=where, named=named, sha256=_digest(path, files), run=run)


def _log_files(folder: Path, patterns: tuple[str, ...]) -> list[Path]:
    """The files of a log folder that make up the log: matching the format's patterns, outside the
    folders where a run keeps its artifacts."""
    found = {file for pattern in patterns for file in folder.glob(pattern) if file.is_file()}
    return sorted(file for file in found if NOT_READ not in file.relative_to(folder).parts[:-1])


def _digest(path: Path, files: list[Path]) -> str:
    """SHA-256 of a log file; of a folder, over each file's path in it and its bytes, in the order read."""
    if not path.is_dir():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative_to(path).as_posix().encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()
