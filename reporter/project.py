"""Finding a project's model specs and resolving the files they name.

Paths in specs are untrusted: every resolved path must stay inside the project (after following
symlinks) or inside the installed package the spec names.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, replace
from pathlib import Path

from reporter.errors import Problem, SpecError, problem_error
from reporter.spec import SPEC_FILENAME, FileRef, LoadedSpec, SpecFiles, load_spec, yaml_line, yaml_tree


@dataclass(frozen=True)
class Project:
    """A reporter project: a folder holding `mkdocs.yml` and `models/`."""

    root: Path

    @property
    def models_dir(self) -> Path:
        """Where model specs live, one folder per model."""
        return self.root / "models"

    def spec_paths(self) -> list[Path]:
        """Every `models/<slug>/model.yaml`, sorted so builds are deterministic."""
        if not self.models_dir.is_dir():
            return []
        return sorted(p / SPEC_FILENAME for p in self.models_dir.iterdir() if (p / SPEC_FILENAME).is_file())


def load_project_specs(project: Project) -> list[LoadedSpec]:
    """Load and validate every spec, collecting all problems before failing.

    Raises:
        SpecError: listing every problem in every spec, including missing files.
    """
    paths = project.spec_paths()
    if not paths:
        raise problem_error(
            project.models_dir,
            "no model specs found",
            f"create models/<slug>/{SPEC_FILENAME} (see the examples in the README)",
        )
    problems: list[Problem] = []
    specs: list[LoadedSpec] = []
    for path in paths:
        try:
            loaded = load_spec(path)
        except SpecError as exc:
            problems.extend(exc.problems)
            problems.extend(_file_problems(project, SpecFiles.salvage(path)))
            continue
        problems.extend(_file_problems(project, SpecFiles.of(loaded)))
        specs.append(loaded)
    if problems:
        raise SpecError(problems)
    return specs


def _file_problems(project: Project, files: SpecFiles) -> list[Problem]:
    """Check that every file a spec names exists and is allowed, so `check` catches it early."""
    from reporter.runners.recipes import recipe_problems

    problems = []
    for field, ref in files.file_refs():
        try:
            resolve_file(project, files.path, ref, field=field)
        except SpecError as exc:
            line = yaml_line(yaml_tree(files.path), tuple(int(p) if p.isdigit() else p for p in field.split(".")))
            problems.extend(replace(p, line=line) for p in exc.problems)
    if files.source and files.source.train:
        problems.extend(recipe_problems(files.path, files.source.train, task=files.task))
    return problems


def resolve_file(project: Project, spec_path: Path, ref: FileRef, *, field: str) -> Path:
    """Turn a spec's file reference into a real path, refusing anything outside its root.

    Raises:
        SpecError: the file is missing, or escapes the project or package.
    """
    if ref.package:
        spec = importlib.util.find_spec(ref.package)
        if spec is None or not spec.submodule_search_locations:
            raise problem_error(
                spec_path,
                f"package {ref.package!r} is not installed",
                f"install it (pip install {ref.package.replace('_', '-')}) or use a project path",
                field=field,
            )
        base = Path(next(iter(spec.submodule_search_locations))).resolve()
    else:
        base = project.root.resolve()
    start = base if ref.package else spec_path.parent.resolve()
    target = (start / ref.path).resolve()
    if not target.is_relative_to(base):
        raise problem_error(
            spec_path,
            f"{ref.describe()!r} resolves to {target}, outside {'the package' if ref.package else 'the project'}",
            "keep files inside the project; symlinks must not point outside it",
            field=field,
        )
    if not target.exists():
        raise problem_error(
            spec_path,
            f"file {ref.describe()!r} does not exist",
            "correct the path (relative to the model folder) or add the file",
            field=field,
        )
    return target
