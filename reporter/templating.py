"""Rendering one Jinja template with errors that name the template file and line.

Shared by the site's pages (`reporter.render`) and the exports' text bodies (`reporter.export`):
both take the environment `reporter.render.environment.make_environment` builds.
"""

from __future__ import annotations

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
