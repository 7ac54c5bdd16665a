"""The EU public summary of training content (AI Act Article 53(1)(d); the European Commission's
template of July 2025), sections 1 to 3, filled from the facts record: every field says whether
the build **measured** it, the spec **declared** it, or it is **missing**, so a reader sees what
is known and from where. JSON for machines and Markdown for people carry the same entries.

Only the template's structure and field names are followed; the wording of each entry is this
project's. What the template asks of a provider rather than a model (its other models, its
market) is out of scope.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import jinja2

from reporter import __version__
from reporter.facts import CompositionFacts, DataSourceFacts, FactsRecord, NotReported, TrainingFacts
from reporter.templating import render_template

Status = Literal["measured", "declared", "missing"]
TEMPLATE = (
    "Template for the Public Summary of Training Content for general-purpose AI models "
    "(European Commission, July 2025), sections 1-3"
)
ACQUISITION_SECTIONS = (
    ("2.1", "Publicly available datasets", ("public",)),
    ("2.2", "Private datasets: commercially licensed, or obtained from other third parties", ("licensed", "private")),
    ("2.3", "Data crawled and scraped from online sources", ("crawled",)),
    ("2.4", "User data", ("user",)),
    ("2.5", "Synthetic data", ("synthetic",)),
    ("2.6", "Other sources of data", ("other",)),
)


def entry(section: str, field: str, value: Any, status: Status, basis: str) -> dict[str, Any]:
    """One field of the summary: its value, whether measured, declared or missing, and from where."""
    return {"section": section, "field": field, "value": value, "status": status, "basis": basis}


def training_sources(facts: FactsRecord) -> list[DataSourceFacts]:
    return [source for source in facts.data if source.role == "train"]


def _general(facts: FactsRecord) -> list[dict[str, Any]]:
    declared = facts.training_content
    provider = declared.provider if declared else (facts.card.owners[0].name if facts.card.owners else None)
    contact = declared.provider_contact if declared else None
    card = facts.card
    found = [
        entry("1.1", "Provider", {"name": provider, "contact": contact}, "declared", "the spec"),
        entry("1.2", "Model", {"name": card.name, "version": card.version}, "declared", "the spec"),
        dependencies_entry(facts, "1.2"),
        entry("1.2", "Date placed on the market", card.date, "declared" if card.date else "missing", "the spec's date"),
    ]
    return found + _modalities(facts) + [_latest_acquisition(facts)]


def dependencies_entry(facts: FactsRecord, section: str) -> dict[str, Any]:
    """The model this one was fine-tuned from: a recipe's base model, else none for a network the
    build trained from scratch; the Hub repository a loaded model came from; else unknown."""
    if isinstance(facts.training, TrainingFacts):
        base = facts.training.hyperparameters.get("base_model")
        value = str(base) if base else "none: trained from scratch in this build"
        return entry(section, "Model dependencies", value, "measured", "the training run")
    if facts.hub is not None:
        value = f"loaded from {facts.hub.repo_id} at commit {facts.hub.commit}"
        return entry(section, "Model dependencies", value, "measured", "the Hub reference the build resolved")
    reason = "the build loaded the model; its origin is not declared"
    return entry(section, "Model dependencies", None, "missing", reason)


def _modalities(facts: FactsRecord) -> list[dict[str, Any]]:
    """Modalities, size and languages of the training sources the build read."""
    sources = training_sources(facts)
    read = [(s.id, s.composition) for s in sources if isinstance(s.composition, CompositionFacts)]
    if not read:
        reason = "no training source was read by this build" if sources else "the spec names no training source"
        return [entry("1.3", field, None, "missing", reason) for field in ("Modalities and size", "Languages")]
    sizes = [
        {"source": source_id, "modality": c.modality, "size": c.size, "size_band": c.size_band} for source_id, c in read
    ]
    languages = [
        {
            "source": source_id,
            "column": column.column,
            "shares": {share.language: share.share for share in column.languages},
            "identifier": column.identifier,
        }
        for source_id, c in read
        for column in c.text_columns
    ]
    basis = "the training sources as read by this build"
    language_entry = (
        entry("1.3", "Languages", languages, "measured", basis)
        if languages
        else entry("1.3", "Languages", "not applicable: the training data holds no free text", "measured", basis)
    )
    return [entry("1.3", "Modalities and size", sizes, "measured", basis), language_entry]


def _latest_acquisition(facts: FactsRecord) -> dict[str, Any]:
    value = facts.training_content.latest_acquisition if facts.training_content else None
    return entry(
        "1.3", "Latest date of data acquisition", value, "declared" if value else "missing", "training_content"
    )


def _source_item(source: DataSourceFacts, total_rows: int) -> dict[str, Any]:
    """A source as the template lists it, with its share of the training rows the build read."""
    rows = None if isinstance(source.measurements, NotReported) else source.measurements.rows_used
    return {
        "name": source.id,
        "link": source.origin_url,
        "license": source.license,
        "description": source.description,
        "rows": rows,
        "share_of_training_rows": rows / total_rows if rows is not None and total_rows else None,
    }


def _sources(facts: FactsRecord) -> list[dict[str, Any]]:
    """Section 2: the training sources by how they were obtained, as declared."""
    sources = training_sources(facts)
    total = sum(s.measurements.rows_used for s in sources if not isinstance(s.measurements, NotReported))
    found = []
    for section, field, kinds in ACQUISITION_SECTIONS:
        listed = [_source_item(s, total) for s in sources if s.acquisition in kinds]
        found.append(entry(section, field, listed or "none declared", "declared", "data[].acquisition"))
    crawler = facts.training_content.crawler if facts.training_content else None
    if any(s.acquisition == "crawled" for s in sources):
        found.append(entry("2.3", "Crawler", crawler, "declared" if crawler else "missing", "training_content.crawler"))
    unclassified = [_source_item(s, total) for s in sources if s.acquisition is None]
    if unclassified:
        found.append(entry("2", "Sources whose acquisition is not declared", unclassified, "missing", "data[]"))
    return found


def _processing(facts: FactsRecord) -> list[dict[str, Any]]:
    declared = facts.training_content
    fields = (
        ("3.1", "Respect of reservations of rights (text and data mining opt-outs)", "opt_out_policy"),
        ("3.2", "Removal of illegal content", "illegal_content_measures"),
    )
    found = []
    for section, field, name in fields:
        value = getattr(declared, name) if declared else None
        found.append(entry(section, field, value, "declared" if value else "missing", f"training_content.{name}"))
    steps = [{"source": s.id, "preprocessing": s.preprocessing} for s in training_sources(facts) if s.preprocessing]
    other = declared.other_processing if declared else None
    if other:
        steps.append({"source": "all", "preprocessing": other})
    found.append(
        entry("3.3", "Other information on data processing", steps or None, "declared" if steps else "missing", "spec")
    )
    return found


def training_content_summary(facts: FactsRecord, *, report_url: str) -> dict[str, Any]:
    """The summary as data: what both renderings show."""
    return {
        "template": TEMPLATE,
        "generated_by": f"reporter {__version__}",
        "model": facts.slug,
        "report": report_url,
        "entries": _general(facts) + _sources(facts) + _processing(facts),
    }


def summary_json(facts: FactsRecord, *, report_url: str) -> str:
    return json.dumps(training_content_summary(facts, report_url=report_url), indent=2, ensure_ascii=False) + "\n"


def value_text(value: Any) -> str:
    """An entry's value in words, for the Markdown rendering (the template escapes it)."""
    if value is None:
        return "not reported"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        named = ((key.replace("_", " "), item) for key, item in value.items() if item is not None)
        return ", ".join(f"{key}: {value_text(item)}" for key, item in named)
    if isinstance(value, list):  # items that end a sentence of their own lose its stop before the separator
        return "; ".join(value_text(item).rstrip(".") for item in value)
    return str(value)


def summary_markdown(facts: FactsRecord, *, env: jinja2.Environment, report_url: str) -> str:
    summary = training_content_summary(facts, report_url=report_url)
    rows = [{**item, "text": value_text(item["value"])} for item in summary["entries"]]
    # A page of the site beside the card: linked as its source page, which MkDocs resolves.
    card = report_url if "://" in report_url else "index.md"
    return render_template(env, "export/training_content.md.j2", facts=facts, summary=summary, rows=rows, card=card)
