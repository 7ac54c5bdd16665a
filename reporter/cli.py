"""The `reporter` command: init, build, check, diff, export, fetch, schema, serve, verify.

Exit status: 0 success, 1 internal failure (or a gate), 2 bad input. Errors a user can fix are
printed as messages, never as tracebacks.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reporter import __version__
from reporter.errors import InputError, ReporterError
from reporter.interrupt import stop_on_signals
from reporter.mkdocs_config import config_file_of, load_mkdocs_config, reporter_plugin
from reporter.project import Project

if TYPE_CHECKING:
    from reporter.settings import BuildSettings
    from reporter.spec import LoadedSpec

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    from reporter.export import EXPORT_FILES  # the formats `reporter export` offers

    parser = argparse.ArgumentParser(prog="reporter", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"reporter {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    _add_init(commands)
    _add_build(commands)

    diff = commands.add_parser("diff", help="what changed in the published figures between two builds")
    diff.add_argument("base", help="facts folder (e.g. build/facts) or git revision")
    diff.add_argument("head", help="facts folder or git revision")
    diff.add_argument("--project", dest="project_dir", default=".", type=Path, help="project folder (default: .)")
    diff.add_argument("--format", choices=("md", "json"), default="md")
    diff.add_argument(
        "--fail-on",
        action="append",
        default=[],
        metavar="RULE",
        help="gate rule; exit 1 when it fires (repeatable; also `gates:` in mkdocs.yml)",
    )
    diff.add_argument("--output", type=Path, help="write the report to this file instead of stdout")
    diff.add_argument("--device", help="device for revisions that need training")

    check = commands.add_parser("check", help="validate the model specs without training")
    check.add_argument("project_dir", nargs="?", default=".", type=Path)
    check.add_argument(
        "--strict-transparency",
        type=int,
        metavar="N",
        help="also fail (exit 1) when a built model discloses fewer than N of the FMTI 2025 indicators "
        "its report can disclose (read from the facts of the last build)",
    )
    check.add_argument("--facts-dir", type=Path, help="facts of the last build (default: PROJECT/build/facts)")

    commands.add_parser("schema", help="print the JSON Schema of the facts record")

    fetch = commands.add_parser(
        "fetch",
        help="download the Hugging Face Hub models the specs name (`source.load.hub`) into the local Hub cache",
        description="The only command that goes to the network: a build reads Hub models from the local cache.",
    )
    fetch.add_argument("project_dir", nargs="?", default=".", type=Path)

    verify = commands.add_parser(
        "verify",
        help="run a published model again (the spec names its weights and data) and compare every figure "
        "with its facts record",
    )
    verify.add_argument("spec", type=Path, help="models/<slug>/model.yaml loading the weights to check")
    verify.add_argument("facts", type=Path, help="the facts.json published with the model card")
    verify.add_argument("--device", help="auto (default), cpu or cuda[:N]")

    export = commands.add_parser(
        "export",
        help="write one model's facts as a Hugging Face card, CycloneDX ML-BOM, SPDX 3.0.1 document or EU public "
        "summary of training content",
    )
    export.add_argument("slug", help="the model's folder name under models/")
    export.add_argument("--format", required=True, choices=list(EXPORT_FILES), dest="export_format")
    export.add_argument("--output", type=Path, help="write to this file instead of stdout")
    export.add_argument("--project", dest="project_dir", default=".", type=Path, help="project folder (default: .)")
    export.add_argument("--facts-dir", type=Path, help="facts folder of the build (default: PROJECT/build/facts)")

    serve = commands.add_parser(
        "serve", help="build and serve the site locally, rebuilding when a spec, recipe, template or page changes"
    )
    serve.add_argument("project_dir", nargs="?", default=".", type=Path)
    serve.add_argument("--dev-addr", default="127.0.0.1:8000", metavar="HOST:PORT", help="default: 127.0.0.1:8000")
    return parser


def _add_init(commands: Any) -> None:
    init = commands.add_parser(
        "init",
        help="set up a project (mkdocs.yml, .gitignore, CI workflows); with MODEL, write a starter spec for it",
        description="Without MODEL: write the files a repository needs to build and publish its model reports. "
        "With MODEL (a transformers folder, a .safetensors, .gguf or PyTorch file): write "
        "models/<slug>/model.yaml from what its files (and --data) say. Existing files are never replaced.",
    )
    init.add_argument("model", nargs="?", type=Path, help="the model's folder or weight file")
    init.add_argument("--data", type=Path, metavar="CSV", help="evaluation data: its columns fill in the evaluation")
    init.add_argument("--slug", help="the model's folder name under models/ (default: from its name)")
    init.add_argument("--project", dest="project_dir", default=".", type=Path, help="project folder (default: .)")


def _add_build(commands: Any) -> None:
    build = commands.add_parser("build", help="train or load every model, then build the site")
    build.add_argument("project_dir", nargs="?", default=".", type=Path)
    build.add_argument("--site-dir", type=Path, help="where to write the site (default: PROJECT/site)")
    build.add_argument("--facts-dir", type=Path, help="where to write facts JSON (default: PROJECT/build/facts)")
    build.add_argument("--device", help="auto (default), cpu or cuda[:N]")
    build.add_argument("--no-cache", action="store_true", help="recompute every model's facts")
    build.add_argument(
        "--full-benchmarks",
        action="store_true",
        help="score every item of every language-model benchmark, not the samples the specs name",
    )
    build.add_argument("--quiet", action="store_true", help="print errors only")
    build.add_argument("--base", help="facts folder or git revision to compare with: adds a Changes page")
    build.add_argument(
        "--pages-only",
        action="store_true",
        help="write the pages, plots and stylesheet into the docs folder and build no site: for a builder that does "
        "not run MkDocs plugins (e.g. `zensical build`)",
    )
    build.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="models computed side by side (default: one per two cores, or one per GPU)",
    )
    build.add_argument(
        "--threads", type=int, metavar="N", help="compute threads of each model job (default: cores ÷ jobs; Ray: 1)"
    )
    build.add_argument(
        "--ray",
        dest="ray_address",
        metavar="ADDRESS",
        help="run the model jobs on the Ray cluster at ADDRESS (e.g. 10.0.0.5:6379; needs reporter[ray])",
    )


def command_reference() -> str:
    """The command-line reference page of the documentation site: each command's own `--help`,
    at a fixed width so the page is the same on every machine."""
    parser = _parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for command in (parser, *commands.choices.values()):
        command.formatter_class = functools.partial(argparse.HelpFormatter, width=100)
    lines = ["# Command line", "", "Generated from the `reporter` command's own help.", ""]
    lines += ["```text", parser.format_help().rstrip(), "```", ""]
    for name, command in commands.choices.items():
        lines += [f"## reporter {name}", "", "```text", command.format_help().rstrip(), "```", ""]
    return "\n".join(lines)


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


def _fetch(project: Project) -> int:
    """Download each Hub model the specs reference, at the revision they name."""
    from reporter.hub import fetch_snapshot
    from reporter.project import load_project_specs

    wanted = sorted(
        {(load.hub, load.revision) for s in load_project_specs(project) if (load := s.spec.source.load) and load.hub}
    )
    if not wanted:
        print("no spec names a Hub model (source.load.hub); nothing to fetch")
    for repo_id, revision in wanted:
        assert revision is not None  # the spec requires it beside `hub`
        try:
            snapshot = fetch_snapshot(repo_id, revision)
        except Exception as exc:  # the Hub client's network, authentication and not-found errors alike
            raise ReporterError(f"could not fetch {repo_id} at {revision}: {exc}") from None
        print(f"fetched {repo_id} at commit {snapshot.commit} into {snapshot.folder}")
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    if args.command == "schema":
        from reporter.facts import facts_json_schema

        sys.stdout.write(facts_json_schema())
        return EXIT_OK

    if args.command == "verify":
        return _verify(args)

    if args.command == "init":
        return _init(args)

    from reporter.project import load_project_specs

    project = Project(root=args.project_dir.resolve())
    if args.command == "check":
        specs = load_project_specs(project)
        settings = _check_site(project, [s.slug for s in specs])
        _check_inputs(project, specs, settings)
        print(f"{len(specs)} spec(s) valid: {', '.join(s.slug for s in specs)}")
        if args.strict_transparency is not None:
            return _check_transparency(project, specs, args.strict_transparency, args.facts_dir)
        return EXIT_OK

    if args.command == "diff":
        return _diff(project, args)

    if args.command == "fetch":
        return _fetch(project)

    if args.command == "export":
        return _export(project, args)

    if args.command == "serve":
        return _serve(project, dev_addr=args.dev_addr)

    from mkdocs.exceptions import Abort, BuildError

    from reporter.build import build_site
    from reporter.settings import BuildSettings

    settings = BuildSettings(
        device=args.device,
        use_cache=not args.no_cache,
        facts_dir=args.facts_dir,
        quiet=args.quiet,
        jobs=args.jobs,
        threads=args.threads,
        ray_address=args.ray_address,
        full_benchmarks=args.full_benchmarks,
    )
    if args.pages_only:
        from reporter.build import write_pages

        if args.site_dir is not None:
            raise InputError("--site-dir names where a site goes; --pages-only builds none. Fix: drop one of them")
        with stop_on_signals():
            records, docs_dir = write_pages(project, settings, base=args.base)
        if not args.quiet:
            print(
                f"wrote the pages of {len(records)} model(s) into {docs_dir}; build the site from it (zensical build)"
            )
        return EXIT_OK
    try:
        with stop_on_signals():  # Ctrl-C or SIGTERM stops the workers (and a cluster's tasks) on the way out
            records = build_site(project, settings, site_dir=args.site_dir, base=args.base)
    except (Abort, BuildError) as exc:
        raise ReporterError(f"mkdocs build failed: {exc}") from None
    if not args.quiet:
        site = (args.site_dir or project.root / "site").resolve()
        print(f"built {len(records)} model report(s) into {site}")
    return EXIT_OK


def _init(args: argparse.Namespace) -> int:
    root = args.project_dir.resolve()
    if args.model is None:
        from reporter.scaffold.project_files import init_project

        if args.data is not None:
            raise InputError("--data describes a model's evaluation data. Fix: reporter init MODEL --data CSV")
        for line in init_project(root).lines():
            print(line)
        print("next: reporter init path/to/model --data path/to/evaluation.csv")
        return EXIT_OK
    from reporter.scaffold.init_model import init_model

    written = init_model(root, args.model, data_path=args.data, slug=args.slug)
    print(f"wrote {written.path.relative_to(root)}: {written.to_fill} value(s) marked FILL IN are yours to write")
    print("next: fill them in, then run `reporter check`, then `mkdocs build`")
    return EXIT_OK


def _diff(project: Project, args: argparse.Namespace) -> int:
    from reporter.diff import diff_facts
    from reporter.render.pages import render_changes
    from reporter.revisions import facts_for
    from reporter.settings import BuildSettings

    settings = BuildSettings(device=args.device, quiet=True)
    rules = [*_configured_gates(project), *args.fail_on]
    result = diff_facts(facts_for(project, args.base, settings), facts_for(project, args.head, settings), rules=rules)
    report = result.model_dump_json(indent=2) + "\n" if args.format == "json" else render_changes(result)
    if args.output:
        args.output.write_text(report, encoding="utf-8")
    else:
        sys.stdout.write(report)
    for gate in result.fired:
        print(f"gate fired: {gate.rule}: {'; '.join(gate.reasons)}", file=sys.stderr)
    return EXIT_FAILURE if result.fired else EXIT_OK


def _export(project: Project, args: argparse.Namespace) -> int:
    """The same bytes the build publishes beside the model's card, from the facts of the last build."""
    from reporter.build import project_date
    from reporter.export import EXPORT_FILES, document_date, render_export, report_url_of
    from reporter.render.environment import make_environment
    from reporter.settings import BuildSettings
    from reporter.verify import read_facts

    config = load_mkdocs_config(config_file_of(project.root))
    plugin = config.plugins.get("reporter")
    given = BuildSettings(facts_dir=args.facts_dir, quiet=True)
    settings, templates_dir = plugin.settings_for(project.root, given=given) if plugin is not None else (given, None)
    path = settings.facts_path(project) / f"{args.slug}.json"
    if not path.is_file():
        raise InputError(
            f"{path}: no facts for model {args.slug!r}. Fix: run `reporter build` first, or give the model's "
            "folder name under models/ (or --facts-dir)"
        )
    facts = read_facts(path)
    text = render_export(
        facts,
        args.export_format,
        env=make_environment(templates_dir),
        report_url=report_url_of(facts.slug, config.site_url),
        created=document_date(facts, undated=project_date(project)),
    )
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {EXPORT_FILES[args.export_format]} of {facts.slug} to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _check_transparency(project: Project, specs: list[LoadedSpec], threshold: int, facts_dir: Path | None) -> int:
    """Each model's FMTI 2025 scorecard from the last build's facts; exit 1 when one discloses
    fewer in-scope indicators than ``threshold``, naming what it does not disclose.

    Raises:
        InputError: a model has no facts yet (it was never built).
    """
    from reporter.render.fmti import scorecard
    from reporter.revisions import load_facts_dir

    folder = facts_dir or project.root / "build" / "facts"
    records = {record.slug: record for record in load_facts_dir(folder)} if folder.is_dir() else {}
    unbuilt = [s.slug for s in specs if s.slug not in records]
    if unbuilt:
        raise InputError(
            f"{folder}: no facts for {', '.join(unbuilt)}. Fix: run `reporter build` first, or pass --facts-dir"
        )
    failed = 0
    for spec in specs:
        card = scorecard(records[spec.slug])
        line = f"{spec.slug}: discloses {card.disclosed} of {len(card.disclosures)} in-scope FMTI 2025 indicators"
        if card.disclosed >= threshold:
            print(f"{line} (at least {threshold}: passes)")
            continue
        failed += 1
        print(f"{line}, fewer than {threshold}; not disclosed:")
        for d in card.disclosures:
            if d.status == "missing":
                print(f"  {d.indicator.number}. {d.indicator.name}: {d.holds}")
    return EXIT_FAILURE if failed else EXIT_OK


def _check_site(project: Project, slugs: list[str]) -> BuildSettings:
    """What the build would refuse about the site before running any model: a missing or invalid
    `mkdocs.yml`, the plugin not enabled or misconfigured, a page of the user's where the build
    generates one. Returns the build settings the plugin's options give.

    Raises:
        InputError: naming the file, the setting and the fix.
    """
    from reporter.render.pages import planned_paths, refuse_overwriting

    config_file = config_file_of(project.root)
    config = load_mkdocs_config(config_file)
    plugin = reporter_plugin(config, config_file)
    settings, templates_dir = plugin.settings_for(project.root)
    if templates_dir is not None:
        from reporter.render.environment import make_environment
        from reporter.templating import check_templates

        check_templates(make_environment(templates_dir), templates_dir)
    catalog_page = plugin.catalog_page_for(project.root)
    planned = planned_paths(slugs, catalog_page=catalog_page, changes=False)
    refuse_overwriting(Path(config.docs_dir), planned, catalog_page=catalog_page)
    return settings


def _check_inputs(project: Project, specs: list[LoadedSpec], settings: BuildSettings) -> None:
    """Each model's data and task inputs read and checked as the build would before running it;
    every model's problems are reported, not only the first model's.

    Raises:
        InputError: all the problems found, one per model.
    """
    from reporter.compute import check_inputs

    problems = []
    for spec in specs:
        try:
            check_inputs(project, settings.fairness_defaults.apply_to(spec), settings)
        except InputError as exc:
            problems.append(str(exc))
    if problems:
        raise InputError("\n".join(problems))


def _verify(args: argparse.Namespace) -> int:
    """Exit 0 when every figure of the facts record is reproduced, 1 when any differs."""
    from reporter.settings import BuildSettings
    from reporter.verify import read_facts, verify_model

    published = read_facts(args.facts)
    root = args.spec.resolve().parent.parent.parent
    plugin = load_mkdocs_config(config_file_of(root)).plugins.get("reporter")
    given = BuildSettings(device=args.device, quiet=True)
    settings = plugin.settings_for(root, given=given)[0] if plugin is not None else given
    result = verify_model(args.spec, published, settings)
    for difference in result.differences:
        print(f"differs: {difference}", file=sys.stderr)
    if result.differences:
        print(f"{result.slug}: {len(result.differences)} of {result.figures} values differ", file=sys.stderr)
        return EXIT_FAILURE
    print(f"{result.slug}: all {result.figures} values of {args.facts} reproduced from the weights")
    return EXIT_OK


def _serve(project: Project, *, dev_addr: str) -> int:
    """`mkdocs serve` of the project: the plugin runs the (cached) pipeline before every rebuild
    and watches `models/` as well as the docs folder. Runs until interrupted."""
    import logging

    from mkdocs.commands.serve import serve
    from mkdocs.exceptions import Abort, ConfigurationError

    config_file = config_file_of(project.root)
    load_mkdocs_config(config_file)  # MkDocs would log a bad setting and stop with a bare "Aborted"
    mkdocs_log = logging.getLogger("mkdocs")
    mkdocs_log.setLevel(logging.INFO)  # MkDocs' own command line prints these: where it serves, what it rebuilt
    mkdocs_log.addHandler(logging.StreamHandler(sys.stderr))
    try:
        with stop_on_signals():
            serve(config_file=str(config_file), dev_addr=dev_addr)
    except ConfigurationError as exc:
        raise InputError(f"{config_file}: {exc}. Fix: correct the option (e.g. --dev-addr HOST:PORT)") from None
    except Abort as exc:
        raise ReporterError(f"mkdocs serve failed: {exc}") from None
    return EXIT_OK


def _configured_gates(project: Project) -> list[str]:
    """Gate rules from the `reporter` plugin's `gates:` option in mkdocs.yml, if any."""
    config_file = project.root / "mkdocs.yml"
    if not config_file.is_file():
        return []
    plugin = load_mkdocs_config(config_file).plugins.get("reporter")
    return list(plugin.config.gates) if plugin is not None else []


if __name__ == "__main__":
    raise SystemExit(main())
