"""A model job's input files, sent to a worker that may not share the driver's filesystem.

The driver lists every file a job reads with its SHA-256 (a folder contributes each file in it);
the worker uses the driver's own paths when it sees them with the same contents (a shared
filesystem), and otherwise rebuilds the project's layout in a scratch folder from blobs fetched by
hash, each stored once per worker machine however many jobs use it.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reporter.extract.weights import sha256_file
from reporter.files import write_atomically
from reporter.jobs import ModelJob
from reporter.project import Project

BUILD_FOLDER = ".build"
"""Where a rebuilt project keeps the build folder's files (published artifacts other specs load)."""


@dataclass(frozen=True)
class ShippedFile:
    """One input file: where the driver has it, where the job expects it, and its contents' hash."""

    driver_path: str
    relative: str
    sha256: str


def manifest(job: ModelJob) -> list[ShippedFile]:
    """Every file the job reads that lives in the project or its build folder (files of installed
    packages, such as a packaged model, are found on the worker itself)."""
    root = job.project.root.resolve()
    build = job.settings.build_path(job.project).resolve()
    found = {}
    for named in job.inputs:
        for path in sorted(p for p in named.rglob("*") if p.is_file()) if named.is_dir() else [named]:
            resolved = path.resolve()
            if resolved.is_relative_to(build):
                relative = Path(BUILD_FOLDER) / resolved.relative_to(build)
            elif resolved.is_relative_to(root):
                relative = resolved.relative_to(root)
            else:
                continue
            found[relative.as_posix()] = ShippedFile(str(resolved), relative.as_posix(), sha256_file(resolved))
    return [found[name] for name in sorted(found)]


def visible_here(files: list[ShippedFile]) -> bool:
    """The driver's paths exist on this machine with the same contents: a shared filesystem."""
    return all(Path(f.driver_path).is_file() and sha256_file(Path(f.driver_path)) == f.sha256 for f in files)


def rebuild_project(job: ModelJob, files: list[ShippedFile], fetch: Callable[[str], bytes]) -> tuple[ModelJob, Path]:
    """The job pointed at a copy of its inputs under a scratch folder, and that folder.

    Blobs are kept under the worker's temporary folder by hash, so a data file many jobs share
    crosses the network once per worker machine.
    """
    scratch = Path(tempfile.gettempdir()) / "reporter-inputs"
    blobs = scratch / "blobs"
    root = Path(tempfile.mkdtemp(prefix=f"{job.slug}-", dir=_made(scratch / "projects")))
    for shipped in files:
        blob = blobs / shipped.sha256
        if not blob.is_file():
            write_atomically(blob, fetch(shipped.sha256))
        target = root / shipped.relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(blob, target)
        except OSError:
            target.write_bytes(blob.read_bytes())
    project_root = job.project.root.resolve()
    spec_path = root / job.loaded.path.resolve().relative_to(project_root)
    moved = dataclasses.replace(
        job,
        project=Project(root=root),
        loaded=job.loaded.model_copy(update={"path": spec_path}),
        settings=dataclasses.replace(job.settings, build_dir=root / BUILD_FOLDER, facts_dir=None, cache_dir=None),
        inputs=(),
    )
    return moved, root


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder
