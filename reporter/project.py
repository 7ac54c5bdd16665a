"""Finding a project's model specs and resolving the files they name.

Paths in specs are untrusted: every resolved path must stay inside the project (after following
symlinks) or inside the installed package the spec names.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, replace
from pathlib import Path

from reporter.errors import Problem, SpecError, problem_error
from reporter.formats.declaration import PathKind
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
    problems.extend(_published_problems(specs))
    if problems:
        raise SpecError(problems)
    return specs


def _published_problems(specs: list[LoadedSpec]) -> list[Problem]:
    """A `source.load.published` must name another model of the project that trains in the build."""
    trained = {s.slug for s in specs if s.spec.source.train is not None}
    return [
        Problem(
            file=loaded.path,
            field="source.load.published",
            line=yaml_line(yaml_tree(loaded.path), ("source", "load", "published")),
            message=f"{load.published!r} is not a model of this project trained in the build",
            fix=f"name one of: {', '.join(sorted(trained)) or '(no model here trains)'}",
        )
        for loaded in specs
        if (load := loaded.spec.source.load) is not None
        and load.published is not None
        and load.published not in trained
    ]


def _file_problems(project: Project, files: SpecFiles) -> list[Problem]:
    """Check that every file a spec names exists and is allowed, so `check` catches it early."""
    from reporter.runners.recipes import recipe_problems

    problems: list[Problem] = []
    for named in files.file_refs():
        try:
            resolve_file(project, files.path, named.ref, field=named.field, kind=named.kind)
        except SpecError as exc:
            path = tuple(int(p) if p.isdigit() else p for p in named.field.split("."))
            line = yaml_line(yaml_tree(files.path), path)
            problems.extend(replace(p, line=line) for p in exc.problems)
    if files.source and files.source.train:
        problems.extend(recipe_problems(files.path, files.source.train, task=files.task))
    module = files.source.load.module if files.source and files.source.load else None
    if module and not (files.path.parent / f"{module.split(':')[0]}.py").is_file():
        problems.append(
            Problem(
                file=files.path,
                field="source.load.module",
                line=yaml_line(yaml_tree(files.path), ("source", "load", "module")),
                message=f"module {module.split(':')[0]}.py is not in {files.path.parent}",
                fix="put the file that builds the network in the model folder, or correct the name",
            )
        )
    return problems


def resolve_file(project: Project, spec_path: Path, ref: FileRef, *, field: str, kind: PathKind | None) -> Path:
    """Turn a spec's file reference into a real path, refusing anything outside its root or of the
    wrong kind (a folder where a file is needed, a device or pipe, a file that cannot be read).

    Raises:
        SpecError: the file is missing, escapes the project or package, or is not what the field needs.
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
    wrong = _wrong_kind(target, kind)
    if wrong:
        raise problem_error(
            spec_path,
            f"{ref.describe()!r} is {wrong}, but this field needs {'a folder' if kind == 'folder' else 'a file'}",
            "point the field at " + ("the model folder" if kind == "folder" else "the file itself, not its folder"),
            field=field,
        )
    return target


def _wrong_kind(target: Path, kind: PathKind | None) -> str | None:
    """What the existing ``target`` is, when it is not the kind of object the field needs."""
    if target.is_dir():
        if kind == "file":
            return "a folder"
        return None if os.access(target, os.R_OK | os.X_OK) else "a folder that cannot be read"
    if not target.is_file():
        return "neither a regular file nor a folder (a device, pipe or socket)"
    if kind == "folder":
        return "a file"
    return None if os.access(target, os.R_OK) else "a file that cannot be read"
