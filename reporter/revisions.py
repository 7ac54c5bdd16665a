"""The two sides of a diff: a folder of facts written by a build, or a git revision of the project.

A revision is checked out into a temporary git worktree and its facts are computed with the
installed reporter, sharing the project's facts cache, so a model unchanged between the
revisions is never trained twice.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from pydantic import ValidationError

from reporter.errors import InputError
from reporter.facts import FactsRecord
from reporter.pipeline import build_facts
from reporter.project import Project, load_project_specs
from reporter.settings import BuildSettings


def load_facts_dir(folder: Path) -> list[FactsRecord]:
    """Every `<slug>.json` facts record in a folder.

    Raises:
        InputError: a file is not a valid facts record of this schema version.
    """
    records = []
    for path in sorted(folder.glob("*.json")):
        try:
            records.append(FactsRecord.model_validate_json(path.read_text(encoding="utf-8")))
        except (OSError, ValidationError) as exc:
            first = exc.errors()[0] if isinstance(exc, ValidationError) else {"loc": (), "msg": str(exc)}
            where = ".".join(map(str, first["loc"]))
            raise InputError(
                f"{path}: not a valid facts record ({where}: {first['msg']}). "
                "Fix: point at a folder written by `reporter build` with the same schema version"
            ) from None
    return records


def facts_for(project: Project, side: str, settings: BuildSettings) -> list[FactsRecord]:
    """Facts for one side of a diff: a facts folder if `side` is one, else a git revision."""
    folder = Path(side)
    if not folder.is_absolute():
        folder = project.root / folder
    if folder.is_dir():
        return load_facts_dir(folder)
    return facts_at_revision(project, side, settings)


def _git(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(project.root), *args], capture_output=True, text=True, check=False)


def facts_at_revision(project: Project, revision: str, settings: BuildSettings) -> list[FactsRecord]:
    """Build the facts of every model at a git revision, in a temporary worktree.

    Raises:
        InputError: the project is not a git repository or the revision does not exist.
    """
    if _git(project, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").returncode != 0:
        raise InputError(
            f"{revision!r} is neither a facts folder nor a git revision of {project.root}. "
            "Fix: give a folder written by `reporter build` (e.g. build/facts) or a commit, branch or tag"
        )
    scratch = Path(tempfile.mkdtemp(prefix="reporter-revision-"))
    worktree = scratch / "tree"
    try:
        added = _git(project, "worktree", "add", "--detach", "--quiet", str(worktree), revision)
        if added.returncode != 0:
            raise InputError(f"cannot check out {revision!r}: {added.stderr.strip()}. Fix: check the revision")
        relative = project.root.resolve().relative_to(
            Path(_git(project, "rev-parse", "--show-toplevel").stdout.strip())
        )
        side = Project(root=worktree / relative)
        side_settings = BuildSettings(
            device=settings.device,
            use_cache=settings.use_cache,
            build_dir=scratch / "build",
            cache_dir=settings.cache_path(project),
            bootstrap_samples=settings.bootstrap_samples,
            quiet=settings.quiet,
        )
        return build_facts(side, load_project_specs(side), side_settings)
    finally:
        _git(project, "worktree", "remove", "--force", str(worktree))
        shutil.rmtree(scratch, ignore_errors=True)
