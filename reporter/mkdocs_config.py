"""Reading a project's `mkdocs.yml`, where bad settings are bad input like a bad spec.

MkDocs logs each invalid setting and then aborts with a bare "Aborted with a configuration error!"
(exit status 1). reporter collects the logged settings instead and raises one
:class:`~reporter.errors.InputError` naming the file, every setting and its fix (exit status 2).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reporter.errors import InputError

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

CONFIG_DOCS = "https://www.mkdocs.org/user-guide/configuration/"
SETTING_MESSAGE = re.compile(r"^Config value '(?P<name>[^']+)': (?P<message>.*)$", re.DOTALL)
FIXES = {
    "docs_dir": "create that folder, or set `docs_dir:` to the folder holding the site's own pages "
    "(reporter writes the model pages into it; the examples use `docs_dir: site_src`)",
    "site_dir": "set `site_dir:` to a folder outside `docs_dir:` (e.g. `site`)",
}


class _Collected(logging.Handler):
    """Keeps the setting problems MkDocs logs while it validates a configuration."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.problems: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        match = SETTING_MESSAGE.match(record.getMessage())
        if match:
            self.problems.append((match["name"], match["message"].rstrip(".")))


@contextmanager
def _collecting() -> Iterator[_Collected]:
    """Route MkDocs' configuration messages to a collector instead of the terminal."""
    logger = logging.getLogger("mkdocs.config")
    handler, propagate = _Collected(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def config_file_of(root: Path) -> Path:
    """The project's `mkdocs.yml`.

    Raises:
        InputError: the project has none.
    """
    config_file = root / "mkdocs.yml"
    if not config_file.is_file():
        raise InputError(f"{config_file}: not found. Fix: run reporter in a project folder holding mkdocs.yml")
    return config_file


def load_mkdocs_config(config_file: Path, **overrides: str) -> MkDocsConfig:
    """The validated MkDocs configuration (``overrides`` replace settings, as MkDocs' own options do).

    Raises:
        InputError: the file cannot be parsed, or a setting is invalid; every problem is named with
            the setting and its fix.
    """
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, ConfigurationError

    with _collecting() as collected:
        try:
            return load_config(config_file=str(config_file), **overrides)
        except ConfigurationError as exc:
            raise InputError(f"{config_file}: {exc}. Fix: correct the YAML of mkdocs.yml ({CONFIG_DOCS})") from None
        except Abort as exc:
            problems = collected.problems or [("(file)", str(exc))]
    raise InputError(
        "\n".join(
            f"{config_file}: {name}: {message}. Fix: {FIXES.get(name, f'correct `{name}:` ({CONFIG_DOCS})')}"
            for name, message in problems
        )
    )


def reporter_plugin(config: MkDocsConfig, config_file: Path) -> Any:
    """The project's reporter plugin (a `reporter.plugin.ReporterPlugin`, typed loosely so that
    this module stays below the plugin), as its `mkdocs.yml` configures it.

    Raises:
        InputError: `mkdocs.yml` does not enable it.
    """
    plugin = config.plugins.get("reporter")
    if plugin is None:
        raise InputError(f"{config_file}: the `reporter` plugin is not enabled. Fix: add `- reporter` under `plugins:`")
    return plugin
