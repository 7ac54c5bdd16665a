"""Reading one spec file: YAML, then validation, then the cross-section rules, with every problem
turned into a :class:`~reporter.errors.Problem` naming the file, the line, the field and the fix."""

from __future__ import annotations

import difflib
import logging
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from reporter.errors import Problem, SpecError, problem_error
from reporter.spec.evaluation import (
    MOVED_TO,
    PLUGIN_TAG,
    SECTIONS_BY_TASK,
    MovedSpelling,
    added_task_section,
    move_earlier_spellings,
)
from reporter.spec.model import LoadedSpec, ModelSpec
from reporter.spec.placeholders import placeholder_problems
from reporter.spec.rules import cross_field_problems
from reporter.spec.sections import SLUG_PATTERN
from reporter.spec.yaml_source import StrictSafeLoader, yaml_line

log = logging.getLogger("mkdocs.plugins.reporter")
"""Notices about a spec that still builds (earlier spellings): MkDocs shows them as warnings, so
`mkdocs build --strict` stops on them, and `reporter check` prints them."""


def load_spec(path: Path) -> LoadedSpec:
    """Read and validate one spec file.

    Raises:
        SpecError: with one problem per mistake, each naming file, line, field and fix.
    """
    slug = path.parent.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise problem_error(path, f"cannot read the spec ({exc})", "save it as UTF-8 text") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=StrictSafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise problem_error(path, f"YAML syntax error: {reason}", "correct the YAML at that line", line=line) from None
    problems: list[Problem] = []
    if not SLUG_PATTERN.match(slug):
        problems.append(
            Problem(
                file=path,
                message=f"the folder name {slug!r} is not a URL-safe slug",
                fix="rename the folder to lowercase letters, digits and dashes (e.g. 'my-model')",
            )
        )
    if data is None:
        raise SpecError([*problems, Problem(path, "the spec is empty", "start from an example in models/")])
    if not isinstance(data, dict):
        raise SpecError([*problems, Problem(path, "the spec must be a mapping of fields", "write `name: ...`")])
    data, moved = move_earlier_spellings(data)
    for notice in moved:
        _notify_moved(path, root, notice)
    unfilled = placeholder_problems(path, root, data)
    if unfilled:  # validated once filled: a placeholder in a number or a flag would only confuse
        raise SpecError([*problems, *unfilled])
    try:
        spec = ModelSpec.model_validate(data)
    except ValidationError as exc:
        problems.extend(validation_problems(path, root, exc, model=ModelSpec))
    else:
        problems.extend(cross_field_problems(path, root, spec))
    if problems:
        raise SpecError(problems)
    return LoadedSpec(slug=slug, path=path, spec=spec)


def _notify_moved(path: Path, root: yaml.Node | None, moved: MovedSpelling) -> None:
    line = yaml_line(root, (moved.old,))
    log.warning(
        "%s%s: `%s:` is an earlier spelling and is read as %s. Fix: move it there; it will stop being read "
        "in a future release",
        path,
        f":{line}" if line else "",
        moved.old,
        moved.new,
    )


def validation_problems(
    path: Path,
    root: yaml.Node | None,
    exc: ValidationError,
    *,
    model: type[BaseModel],
    prefix: tuple[str, ...] = (),
) -> list[Problem]:
    """Turn pydantic errors for ``model`` (found at ``prefix`` in the YAML) into problems."""
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        context = error.get("ctx")
        if isinstance(context, dict) and isinstance(context.get("field"), str):
            loc = (*loc, context["field"])  # the union's tag: the mistake is in the field that chooses it
        written = _written_path(root, prefix + loc)
        problems.append(
            Problem(
                file=path,
                field=".".join(str(p) for p in written) or None,
                line=yaml_line(root, written),
                message=_clean_message(error["msg"]),
                fix=_fix_for(error, loc, model),
            )
        )
    return problems


def _written_path(root: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """A validation location as the spec's author wrote it: without the task tag the evaluation
    union adds, and without the list index when `evaluation:` is written as one mapping."""
    if len(loc) < 2 or loc[0] != "evaluation" or not isinstance(loc[1], int):
        return loc
    rest = loc[3:] if len(loc) > 2 and loc[2] in SECTIONS_BY_TASK else loc[2:]
    if len(loc) > 2 and loc[2] == PLUGIN_TAG:  # the tag, then (unless the task is unknown) the task's name
        rest = loc[4:] if len(loc) > 3 and added_task_section(str(loc[3])) else loc[3:]
    section = root.value if isinstance(root, yaml.MappingNode) else []
    as_mapping = any(k.value == "evaluation" and isinstance(v, yaml.MappingNode) for k, v in section)
    return ("evaluation", *rest) if as_mapping else ("evaluation", loc[1], *rest)


def _clean_message(message: str) -> str:
    return message.removeprefix("Value error, ")


TYPE_FIXES = {
    "int_parsing": "write a whole number, e.g. 8",
    "int_type": "write a whole number, e.g. 8",
    "int_from_float": "write a whole number, e.g. 8",
    "float_parsing": "write a number, e.g. 0.001",
    "float_type": "write a number, e.g. 0.001",
    "bool_parsing": "write true or false",
    "bool_type": "write true or false",
    "string_type": "write text (quote it if YAML reads it as something else)",
    "list_type": "write a list, e.g. [a, b] or one '- item' per line",
    "dict_type": "write a mapping of `key: value` lines",
    "model_type": "write a mapping of `key: value` lines",
}


def _fix_for(error: Any, loc: tuple[Any, ...], model: type[BaseModel]) -> str:
    kind = error["type"]
    context = error.get("ctx")
    if isinstance(context, dict) and isinstance(context.get("fix"), str):
        return str(context["fix"])  # a validator that knows the fix says it (PydanticCustomError)
    if kind == "extra_forbidden" and len(loc) == 1 and str(loc[0]) in MOVED_TO:
        return f"`{loc[0]}:` now belongs under {MOVED_TO[str(loc[0])]}"
    if kind == "extra_forbidden":
        name = str(loc[-1])
        allowed = _allowed_fields(model, loc[:-1])
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        return f"{hint}remove `{name}` or use one of: {', '.join(sorted(allowed))}"
    if kind == "missing":
        described = _field_description(model, loc) or "see the documentation's spec reference"
        return f"add `{loc[-1]}:` ({described})"
    if kind == "literal_error":
        return f"write one of {error['ctx']['expected']}"
    if kind in TYPE_FIXES:
        return TYPE_FIXES[kind]
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return "write a value of the type the message names"
    if kind == "string_pattern_mismatch":
        return "use lowercase letters, digits, '-' and '_' only"
    return "change the value as the message says"


def _section_model(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """Follow a validation location through the spec models to the section it points into."""
    model: type[BaseModel] | None = root
    after_plugin_tag = False
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        if after_plugin_tag:  # a task another package adds: its name follows the tag
            model, after_plugin_tag = added_task_section(str(part)), False
            continue
        if str(part) in SECTIONS_BY_TASK or str(part) == PLUGIN_TAG:  # the evaluation union's tag
            model = SECTIONS_BY_TASK.get(str(part), model)
            after_plugin_tag = str(part) == PLUGIN_TAG
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        model = _model_in(field.annotation)
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _allowed_fields(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    model = _section_model(root, loc)
    return list(model.model_fields) if model else []


def _field_description(root: type[BaseModel], loc: tuple[Any, ...]) -> str | None:
    model = _section_model(root, loc[:-1])
    if model is None or str(loc[-1]) not in model.model_fields:
        return None
    return model.model_fields[str(loc[-1])].description
