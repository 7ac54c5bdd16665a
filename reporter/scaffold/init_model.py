"""`reporter init MODEL [--data CSV]`: write `models/<slug>/model.yaml` for a model on disk.

The model and the data must be where the build may read them: inside the project (named relative to
the spec's folder) or inside an installed Python package (named by package). A spec that exists is
never replaced.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from reporter.errors import InputError
from reporter.scaffold.data_findings import find_columns
from reporter.scaffold.model_findings import find_model
from reporter.scaffold.starter_spec import StarterInputs, starter_spec
from reporter.spec import SPEC_FILENAME
from reporter.spec.placeholders import PLACEHOLDER
from reporter.spec.sections import SLUG_PATTERN


@dataclass(frozen=True)
class StarterWritten:
    """Where the starter spec went and how many values are left to fill in."""

    path: Path
    to_fill: int


def init_model(root: Path, model_path: Path, *, data_path: Path | None, slug: str | None) -> StarterWritten:
    """Write the starter spec of the model at ``model_path`` into the project at ``root``.

    Raises:
        InputError: the model or data cannot be read, lies outside the project and every package,
            the slug is not valid, or the spec exists.
    """
    model = find_model(model_path)
    chosen = slug or slug_of(model.name)
    if not SLUG_PATTERN.match(chosen):
        raise InputError(
            f"--slug {chosen!r} is not a URL-safe slug. Fix: use lowercase letters, digits and dashes (e.g. my-model)"
        )
    folder = root / "models" / chosen
    target = folder / SPEC_FILENAME
    if target.exists():
        raise InputError(f"{target} exists and is never replaced. Fix: choose another name with --slug, or edit it")
    data = None
    if data_path is not None:
        if not data_path.is_file():
            raise InputError(f"--data {data_path}: no such file. Fix: give the evaluation CSV's path")
        data = find_columns(data_path, task=model.task, model_labels=model.labels)
    inputs = StarterInputs(
        model=model,
        model_file=file_reference(model_path, folder, root, what="the model"),
        data=data,
        data_file=file_reference(data_path, folder, root, what="the data") if data_path else None,
    )
    text = starter_spec(inputs)
    folder.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return StarterWritten(path=target, to_fill=text.count(f"{PLACEHOLDER}:"))


def slug_of(name: str) -> str:
    """A model's name as a folder name the site can use in URLs."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "model"


def file_reference(path: Path, spec_folder: Path, root: Path, *, what: str) -> dict[str, str]:
    """How a spec in ``spec_folder`` names ``path``: relative to its folder when inside the project,
    by package when inside an installed one.

    Raises:
        InputError: when ``path`` is in neither, since the build reads nothing else.
    """
    resolved = path.resolve()
    if resolved.is_relative_to(root.resolve()):
        return {"path": Path(os.path.relpath(resolved, spec_folder.resolve())).as_posix()}
    package = _installed_package_holding(resolved)
    if package is not None:
        name, inside = package
        return {"package": name, "path": inside}
    raise InputError(
        f"{path}: {what} lies outside the project ({root}) and outside every installed package, and a build "
        "reads nothing else. Fix: copy it into the project (e.g. under models/) and run `reporter init` on the copy"
    )


def _installed_package_holding(path: Path) -> tuple[str, str] | None:
    """The importable top-level package whose folder holds ``path``, and the path inside it."""
    for entry in sys.path:
        base = Path(entry or ".").resolve()
        if not path.is_relative_to(base) or path == base:
            continue
        top = path.relative_to(base).parts[0]
        spec = importlib.util.find_spec(top) if top.isidentifier() else None
        if spec is not None and spec.submodule_search_locations:
            inside = path.relative_to(base / top).as_posix()
            return top, inside
    return None
