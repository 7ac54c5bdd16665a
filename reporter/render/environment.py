"""The Jinja environment: strict about missing facts, and escaping every value it prints.

Values from specs and data are untrusted. ``finalize`` escapes every ``{{ … }}`` output for HTML
and Markdown unless a filter has already produced safe markup, so a description holding
``<script>`` or ``[link](javascript:…)`` is shown as text. Templates are Markdown; their own
syntax is trusted, the values they print are not.
"""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from reporter.facts import (
    DeclaredComputeFacts,
    DeclaredTrainingFacts,
    FactsRecord,
    Interval,
    NotReported,
    PhaseComputeFacts,
    TrainingFacts,
)
from reporter.render.coverage import documentation_coverage
from reporter.render.fmti import INDEX as FMTI_INDEX
from reporter.render.fmti import INDEX_URL as FMTI_URL
from reporter.render.fmti import scorecard

if TYPE_CHECKING:
    from reporter.tasks import LabelledRowsTask


def _builtin_templates() -> Path:
    """`templates/` inside an installed wheel, or at the top of a source checkout."""
    package = Path(__file__).resolve().parent.parent
    inside = package / "templates"
    return inside if inside.is_dir() else package.parent / "templates"


BUILTIN_TEMPLATES = _builtin_templates()
MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def escape_text(value: Any) -> Markup:
    """Backslash-escape Markdown punctuation, then escape HTML, so text renders as typed.

    In this order the entities html.escape writes (``&lt;``) are not themselves escaped.
    """
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(MARKDOWN_SPECIALS.sub(r"\\\1", str(value)), quote=False))


def code(value: Any) -> Markup:
    """Inline code: Markdown shows a code span verbatim (HTML-escaped), so only the fence needs
    to be longer than any run of backticks inside, and padded when the value touches one."""
    text = " ".join(str(value).splitlines())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Markup(f"{fence}{pad}{text}{pad}{fence}")


TRAILING_PUNCTUATION = re.compile(r"[\s.;,:]+$")


def sentence(value: Any) -> Markup:
    """Text ending in exactly one full stop, whether or not the text brought its own."""
    return Markup(f"{cell(TRAILING_PUNCTUATION.sub('', str(value)))}.")


def series(values: Any, separator: str = "; ") -> Markup:
    """Items joined by ``separator`` with their own closing punctuation removed, so that a list of
    full sentences does not read "first.; second."."""
    return Markup(separator.join(cell(TRAILING_PUNCTUATION.sub("", str(v))) for v in values))


def cell(value: Any) -> Markup:
    """Escaped text that is safe inside a Markdown table cell (no line breaks)."""
    return Markup(" ".join(escape_text(value).splitlines()))


def page_title(value: Any) -> Markup:
    """A front-matter title: MkDocs themes print page titles without escaping (in <title> and the
    navigation), so the text is HTML-escaped here and quoted as a JSON string, which YAML reads."""
    return Markup(json.dumps(html.escape(str(value), quote=True)))


def number(value: float | int | None, digits: int = 3) -> Markup:
    """A number with fixed digits; None (undefined for the data) becomes an explicit 'undefined'."""
    if value is None:
        return Markup("undefined")
    if isinstance(value, int):
        return Markup(f"{value:,}")
    return Markup(f"{value:.{digits}f}")


def significant(value: float | int | None, digits: int = 4) -> Markup:
    """A number to significant digits, for figures spanning many magnitudes (weight statistics)."""
    if value is None:
        return Markup("undefined")
    return Markup(f"{value:.{digits}g}")


def with_interval(value: Interval | NotReported | None, digits: int = 3) -> Markup:
    """``0.853 (0.841–0.865)``: the estimate and its 95 % bootstrap interval."""
    if value is None:
        return Markup("insufficient data")
    if isinstance(value, NotReported):
        return Markup("not reported: ") + escape_text(value.not_reported)
    if value.value is None:
        return Markup("undefined")
    if value.low is None or value.high is None:
        return number(value.value, digits)
    return Markup(f"{value.value:.{digits}f} ({value.low:.{digits}f}–{value.high:.{digits}f})")


def size(count: int) -> Markup:
    """Parameter counts as readers say them: 22.7 M, 4.1 k."""
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if count >= scale:
            return Markup(f"{count / scale:.1f} {unit}")
    return Markup(str(count))


SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def scientific(value: float | None, digits: int = 3) -> Markup:
    """FLOP counts and other figures of many magnitudes as people write them: 5.45 × 10⁷."""
    if value is None:
        return Markup("undefined")
    if value == 0:
        return Markup("0")
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    power = int(exponent)
    return Markup(mantissa if power == 0 else f"{mantissa} × 10{str(power).translate(SUPERSCRIPTS)}")


def share_percent(share: float) -> Markup:
    """A share as a percentage to two significant figures, never in exponent form: 100, 94, 2.8."""
    percent = 100 * share
    if percent <= 0:
        return Markup("0")
    decimals = max(0, 1 - math.floor(math.log10(percent)))
    return Markup(f"{percent:.{decimals}f}")


def byte_size(count: int) -> Markup:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return Markup(f"{count / scale:.1f} {unit}")
    return Markup(f"{count} B")


STATUS_LABELS = {"pass": "pass", "warn": "warn", "fail": "fail", "not_computed": "not computed"}


def status_badge(status: str) -> Markup:
    """A coloured status label (plain text inside, so it reads without colour or emoji fonts)."""
    known = status if status in STATUS_LABELS else "unknown"
    label = STATUS_LABELS.get(status, "unknown")
    return Markup(f'<span class="reporter-status reporter-status-{known}">{label}</span>')


def status_summary(fairness: Any) -> Markup:
    """A fairness status with what it stands for: how many of the disparity checks fail and warn
    (a bare "fail" does not say whether one check of twenty failed or all of them)."""
    statuses = [d.status for feature in fairness.features for d in feature.disparities]
    checked = sum(s != "not_computed" for s in statuses)
    failed, warned = statuses.count("fail"), statuses.count("warn")
    if not checked:
        detail = "no disparity could be computed"
    elif failed:
        detail = f"{failed} of {checked} disparity checks fail" + (f", {warned} warn" if warned else "")
    elif warned:
        detail = f"{warned} of {checked} disparity checks warn"
    else:
        detail = f"all {checked} disparity checks pass"
    return Markup(f"{status_badge(fairness.status)} ({detail})")


COVERAGE_STATUSES = {"measured": "pass", "declared": "warn", "missing": "fail"}


def coverage_status(status: str) -> Markup:
    """Measured, declared or missing, coloured like pass, warn and fail."""
    colour = COVERAGE_STATUSES.get(status, "unknown")
    return Markup(f'<span class="reporter-status reporter-status-{colour}">{html.escape(status)}</span>')


def is_reported(value: Any) -> bool:
    return not isinstance(value, NotReported)


def task_partials(facts: FactsRecord) -> list[str]:
    """The template partial of each task whose facts the record holds, in the registry's order:
    the card's Metrics section includes each, with no task named in the card template."""
    from reporter.tasks import tasks_of

    return [task.partial for task in tasks_of(facts)]


def catalog_partial(facts: FactsRecord) -> str:
    """The catalog cells' partial of the first task the record carries (the card's headline task)."""
    from reporter.tasks import tasks_of

    carried = tasks_of(facts)
    return carried[0].catalog_partial if carried else "partials/catalog/none.md.j2"


def labelled_task(facts: FactsRecord) -> LabelledRowsTask:
    """The record's task of labelled rows: what its fairness page shows and how."""
    from reporter.tasks import LabelledRowsTask, tasks_of

    return next(task for task in tasks_of(facts) if isinstance(task, LabelledRowsTask))


def fairness_partial(facts: FactsRecord) -> str:
    """The fairness page's per-feature partial of the record's task of labelled rows."""
    return labelled_task(facts).fairness_partial


def intervals_overlap(first: Interval, second: Interval) -> bool:
    """Whether two 95 % intervals share a value: then a page must not call one estimate larger."""
    bounds = (first.low, first.high, second.low, second.high)
    if any(bound is None for bound in bounds):
        return False
    return bool(first.low <= second.high and second.low <= first.high)  # type: ignore[operator]


def make_environment(override_dir: Path | None = None) -> jinja2.Environment:
    """A strict environment reading project overrides first, then the built-in templates, then the
    templates of tasks other packages add (their card partials)."""
    from reporter.tasks import measuring_tasks

    search = [str(override_dir)] if override_dir else []
    added = [str(task.template_folder) for task in measuring_tasks() if task.template_folder is not None]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*search, str(BUILTIN_TEMPLATES), *added]),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        finalize=escape_text,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        cell=cell,
        code=code,
        page_title=page_title,
        number=number,
        significant=significant,
        interval=with_interval,
        size=size,
        bytes=byte_size,
        scientific=scientific,
        percent=share_percent,
        status=status_badge,
        status_summary=status_summary,
        sentence=sentence,
        series=series,
        text=escape_text,
        coverage=documentation_coverage,
        fmti=scorecard,
        coverage_status=coverage_status,
        task_partials=task_partials,
        catalog_partial=catalog_partial,
        fairness_partial=fairness_partial,
        labelled_task=labelled_task,
    )
    env.globals.update(fmti_url=FMTI_URL, fmti_index=FMTI_INDEX)
    env.tests["reported"] = is_reported
    env.tests["overlapping"] = intervals_overlap
    env.tests["trained_here"] = lambda value: isinstance(value, TrainingFacts)
    env.tests["declared_by_log"] = lambda value: isinstance(value, DeclaredTrainingFacts)
    env.tests["measured_phase"] = lambda value: isinstance(value, PhaseComputeFacts)
    env.tests["declared_compute"] = lambda value: isinstance(value, DeclaredComputeFacts)
    return env
