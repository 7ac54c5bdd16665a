"""MkDocs hooks of reporter's documentation site: the spec and command-line reference pages,
generated from the code at build time so that they cannot drift from what reporter accepts."""

from __future__ import annotations

from typing import Any

from mkdocs.structure.files import File, Files

from reporter.cli import command_reference
from reporter.spec.reference import spec_reference


def on_files(files: Files, config: Any) -> Files:
    """Add the generated reference pages to the site's files."""
    for path, content in (("reference/spec.md", spec_reference()), ("reference/cli.md", command_reference())):
        files.append(File.generated(config, path, content=content))
    return files
