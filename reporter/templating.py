"""Rendering one Jinja template with errors that name the template file and line.

Shared by the site's pages (`reporter.render`) and the exports' text bodies (`reporter.export`):
both take the environment `reporter.render.environment.make_environment` builds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from reporter.errors import TemplateError


def render_template(env: jinja2.Environment, name: str, **context: Any) -> str:
    """Render one template; syntax and runtime errors name the template file and line.

    Raises:
        TemplateError: the template does not parse or refers to something that is not a fact.
    """
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            f"{exc.filename or name}:{exc.lineno}: template syntax error: {exc.message}. Fix: correct the template"
        ) from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(
            f"{_template_location(exc, name)}: {exc.message}. "
            "Fix: use only fields of the facts record (see `reporter schema`)"
        ) from None
    except Exception as exc:  # a template can fail in any filter or test; locate it for the author
        raise TemplateError(
            f"{_template_location(exc, name)}: {type(exc).__name__}: {exc}. Fix: correct the template"
        ) from None


def check_templates(env: jinja2.Environment, folder: Path) -> None:
    """Parse every template of a project's templates folder (what `reporter check` can say of
    them without facts to render: whether they parse).

    Raises:
        TemplateError: the first template that does not parse, with its file and line.
    """
    for path in sorted(folder.rglob("*.j2")):
        try:
            env.parse(path.read_text(encoding="utf-8"), path.name, str(path))
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                f"{path}:{exc.lineno}: template syntax error: {exc.message}. Fix: correct the template"
            ) from None


def _template_location(exc: BaseException, name: str) -> str:
    """The template file and line an error came from, read off the traceback Jinja rewrites."""
    tb = exc.__traceback__
    location = name
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".md.j2", ".j2", ".jinja")):
            location = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return location
