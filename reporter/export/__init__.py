"""Exports of the facts record in the ecosystem's formats: renderers of facts, never a second computation."""

from __future__ import annotations

import datetime
import urllib.parse
from typing import Final, Literal

import jinja2

from reporter.facts import FactsRecord

ExportFormat = Literal[
    "hf", "cyclonedx", "spdx", "eu-summary", "eu-summary-md", "eu-model-doc", "eu-model-doc-md", "eee"
]

EXPORT_FILES: Final[dict[ExportFormat, str]] = {
    "hf": "README.md",
    "cyclonedx": "bom.cdx.json",
    "spdx": "spdx.json",
    "eu-summary": "training-content.json",
    "eu-summary-md": "training-content.md",
    "eu-model-doc": "model-documentation.json",
    "eu-model-doc-md": "model-documentation.md",
    "eee": "eval-results.eee.json",
}
"""Each format's file name, next to the model's card page in the site."""


def render_export(
    facts: FactsRecord,
    export_format: ExportFormat,
    *,
    env: jinja2.Environment,
    report_url: str,
    created: datetime.datetime,
) -> str:
    """One export of one model.

    Args:
        report_url: Where the model's full report is published; the exports link back to it.
        created: When the document is dated (SPDX needs a creation time): the spec's release
            date when it declares one, else the date of the project's inputs
            (`reporter.build.project_date`), so a rebuild of the same inputs gives the same bytes.
    """
    if export_format == "hf":
        from reporter.export.hf_card import hf_card

        return hf_card(facts, env=env, report_url=report_url)
    if export_format == "cyclonedx":
        from reporter.export.cyclonedx import cyclonedx_bom

        return cyclonedx_bom(facts, report_url=report_url)
    if export_format == "eu-summary":
        from reporter.export.eu_training_content import summary_json

        return summary_json(facts, report_url=report_url)
    if export_format == "eu-summary-md":
        from reporter.export.eu_training_content import summary_markdown

        return summary_markdown(facts, env=env, report_url=report_url)
    if export_format == "eee":
        from reporter.export.every_eval_ever import every_eval_ever_json

        return every_eval_ever_json(facts, report_url=report_url, created=created)
    if export_format == "eu-model-doc":
        from reporter.export.eu_model_documentation import documentation_json

        return documentation_json(facts, report_url=report_url)
    if export_format == "eu-model-doc-md":
        from reporter.export.eu_model_documentation import documentation_markdown

        return documentation_markdown(facts, env=env, report_url=report_url)
    from reporter.export.spdx_document import spdx_document

    return spdx_document(facts, report_url=report_url, created=created)


def report_url_of(slug: str, site_url: str | None) -> str:
    """The model's card page: absolute under the site's `site_url`, else relative to the export
    (which sits next to the card page)."""
    page = "index.html"
    if not site_url:
        return page
    return urllib.parse.urljoin(site_url.rstrip("/") + "/", f"models/{slug}/{page}")


def document_date(facts: FactsRecord, *, undated: datetime.datetime | None) -> datetime.datetime:
    """The spec's release date (midnight UTC), else ``undated``, else now (a project with no spec
    file to date it by)."""
    if facts.card.date:
        return datetime.datetime.combine(datetime.date.fromisoformat(facts.card.date), datetime.time(), datetime.UTC)
    return (undated or datetime.datetime.now(datetime.UTC)).replace(microsecond=0)
