"""The spec reference page, generated from the pydantic models that validate specs.

Written from the models themselves (field names, types, defaults, descriptions), the reference
cannot drift from what `reporter check` accepts. The documentation site's build calls
:func:`spec_reference` (see `docs/hooks.py`).
"""

from __future__ import annotations

import inspect
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from reporter.spec.model import ModelSpec


def spec_reference() -> str:
    """The Markdown of the reference: one section per section type of the spec, in the order a
    reader meets them from the top of `model.yaml`."""
    lines = [
        "# Spec reference",
        "",
        "Every field of `models/<slug>/model.yaml`, generated from the models `reporter check` validates "
        "with. A field without a default is required (where its section is given).",
        "",
    ]
    for model in section_models():
        lines += _section(model)
    return "\n".join(lines) + "\n"


def section_models() -> list[type[BaseModel]]:
    """Every model reachable from :class:`ModelSpec`, breadth first."""
    found: list[type[BaseModel]] = [ModelSpec]
    for model in found:
        for field in model.model_fields.values():
            for nested in _models_in(field.annotation):
                if nested not in found:
                    found.append(nested)
    return found


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for argument in typing.get_args(annotation) for model in _models_in(argument)]


def _section(model: type[BaseModel]) -> list[str]:
    title = "The spec (top level)" if model is ModelSpec else model.__name__
    lines = [f"## {title}", "", inspect.cleandoc(model.__doc__ or ""), ""]
    lines += ["| Field | Type | Default | Meaning |", "| --- | --- | --- | --- |"]
    for name, field in model.model_fields.items():
        lines.append(f"| `{name}` | {_type(field.annotation)} | {_default(field)} | {_cell(field.description or '')} |")
    return [*lines, ""]


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if value is None:
        return "none"
    if isinstance(value, BaseModel):
        return "its defaults"
    if value in ([], {}):
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value!r}`" if not isinstance(value, str) else f"`{value}`"


def _type(annotation: Any) -> str:
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type(arguments[0])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(dict.fromkeys(_type(a) for a in arguments if a is not type(None)))
    if origin is typing.Literal:
        return " or ".join(f"`{a}`" for a in arguments)
    if origin is list:
        return f"list of {_type(arguments[0])}"
    if origin is dict:
        return f"mapping of {_type(arguments[0])} to {_type(arguments[1])}"
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return {str: "text", int: "integer", float: "number", bool: "true or false", Any: "any"}.get(
        annotation, getattr(annotation, "__name__", str(annotation))
    )


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
