"""The `reporter` command: build, check, schema.

Exit status: 0 success, 1 internal failure (or a gate), 2 bad input. Errors a user can fix are
printed as messages, never as tracebacks.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reporter import __version__
from reporter.errors import InputError, ReporterError

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reporter", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"reporter {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="train or load every model, then build the site")
    build.add_argument("project_dir", nargs="?", default=".", type=Path)
    build.add_argument("--site-dir", type=Path, help="where to write the site (default: PROJECT/site)")
    build.add_argument("--facts-dir", type=Path, help="where to write facts JSON (default: PROJECT/build/facts)")
    build.add_argument("--device", help="auto (default), cpu or cuda[:N]")
    build.add_argument("--no-cache", action="store_true", help="recompute every model's facts")
    build.add_argument("--quiet", action="store_true", help="print errors only")

    check = commands.add_parser("check", help="validate the model specs without training")
    check.add_argument("project_dir", nargs="?", default=".", type=Path)

    commands.add_parser("schema", help="print the JSON Schema of the facts record")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ReporterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("interrupted; the previous site is unchanged", file=sys.stderr)
        return EXIT_FAILURE


def _run(args: argparse.Namespace) -> int:
    if args.command == "schema":
        from reporter.facts import facts_json_schema

        sys.stdout.write(facts_json_schema())
        return EXIT_OK

    from reporter.project import Project, load_project_specs

    project = Project(root=args.project_dir.resolve())
    if args.command == "check":
        specs = load_project_specs(project)
        print(f"{len(specs)} spec(s) valid: {', '.join(s.slug for s in specs)}")
        return EXIT_OK

    from mkdocs.exceptions import Abort, BuildError

    from reporter.build import build_site
    from reporter.pipeline import BuildSettings

    settings = BuildSettings(
        device=args.device,
        use_cache=not args.no_cache,
        facts_dir=args.facts_dir,
        quiet=args.quiet,
    )
    try:
        records = build_site(project, settings, site_dir=args.site_dir)
    except (Abort, BuildError) as exc:
        raise ReporterError(f"mkdocs build failed: {exc}") from None
    if not args.quiet:
        site = (args.site_dir or project.root / "site").resolve()
        print(f"built {len(records)} model report(s) into {site}")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
