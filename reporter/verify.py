"""`reporter verify`: recompute a published model's figures from its weights and compare them with
the facts record its card was made from.

The spec names the weights to load (a checkpoint someone downloaded, or `published:` for this
project's own artifact) and the evaluation data; the model is run again, without the cache, with
the project's thread count (a sum split over more threads adds in another order), and
every figure of the published record (weights fingerprint, performance, fairness, embedding bias,
explanations, a language model's perplexity, benchmarks, bias probe and sample outputs) must come
out equal; a card built with `--full-benchmarks` is recomputed on every item too; a
family the record's older schema did not have is skipped.
Machine-dependent figures (timings, provenance) are not compared.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reporter.errors import InputError
from reporter.facts import NOT_RECORDED, FactsRecord, LanguageModelFacts
from reporter.pipeline import build_facts
from reporter.project import Project, load_project_specs
from reporter.settings import BuildSettings
from reporter.spec import ModelSpec

COMPARED = ("evaluations", "explanations")
"""The record's measured families: every task's evaluation, and what the model relies on."""
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Verification:
    """What was recomputed and every figure that differs (empty when the card is reproduced)."""

    slug: str
    figures: int
    differences: list[str]


def read_facts(path: Path) -> FactsRecord:
    """A facts record file, validated.

    Raises:
        InputError: the file cannot be read or is not a facts record.
    """
    try:
        return FactsRecord.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError) as exc:
        raise InputError(
            f"{path}: not a readable facts record ({type(exc).__name__}). "
            "Fix: give the facts.json published beside the model card"
        ) from None


def verify_model(spec_path: Path, published: FactsRecord, settings: BuildSettings) -> Verification:
    """Recompute the model of ``spec_path`` and compare its figures with ``published``.

    Raises:
        InputError: the spec is not in a project's `models/` folder, or is invalid.
    """
    spec_path = spec_path.resolve()
    root = spec_path.parent.parent.parent
    if spec_path.parent.parent.name != "models":
        raise InputError(f"{spec_path}: not a spec of a project. Fix: give models/<slug>/model.yaml of a project")
    project = Project(root=root)
    [loaded] = [s for s in load_project_specs(project) if s.path == spec_path]
    with tempfile.TemporaryDirectory() as scratch:
        fresh = replace(
            settings,
            use_cache=False,
            facts_dir=Path(scratch) / "facts",
            cache_dir=Path(scratch) / "cache",
            ray_address=None,
            full_benchmarks=settings.full_benchmarks or _built_with_every_item(published, loaded.spec),
        )
        [recomputed] = build_facts(project, [loaded], fresh)
    differences = []
    if recomputed.weights.fingerprint != published.weights.fingerprint:
        differences.append(
            f"weights.fingerprint: published {published.weights.fingerprint}, loaded {recomputed.weights.fingerprint}"
        )
    figures = 1
    for family in COMPARED:
        expected, found = _family_numbers(published, family), _family_numbers(recomputed, family)
        if expected is None:
            continue
        figures += len(expected)
        for name in sorted(expected.keys() | (found or {}).keys()):
            a, b = expected.get(name, "absent"), (found or {}).get(name, "absent")
            if not _equal(a, b):
                differences.append(f"{name}: published {a}, recomputed {b}")
    return Verification(slug=loaded.slug, figures=figures, differences=differences)


def _built_with_every_item(published: FactsRecord, spec: ModelSpec) -> bool:
    """Whether the card scored every item of a benchmark its spec samples: it was built with
    `--full-benchmarks`, and is recomputed the same way."""
    language, section = published.language_model, spec.language_model
    if not isinstance(language, LanguageModelFacts) or section is None:
        return False
    samples = {run.name: run.sample for run in section.benchmarks}
    samples |= {run.name: run.sample for run in section.bias_benchmarks}
    return any(
        not found.sampled and (samples.get(found.name) or found.items_in_file) < found.items_in_file
        for found in [*language.benchmarks, *language.bias_benchmarks]
    )


def _family_numbers(facts: FactsRecord, family: str) -> dict[str, Any] | None:
    """Every leaf of one family by its path, evaluations keyed by their kind; None for a family
    that a record of an older schema did not record."""
    value = facts.model_dump(mode="json")[family]
    if isinstance(value, dict) and str(value.get("not_reported", "")).startswith(NOT_RECORDED):
        return None
    if family == "evaluations":
        value = {evaluation["kind"]: evaluation for evaluation in value}
    return _numbers(value, family)


def _numbers(node: Any, path: str) -> dict[str, Any]:
    """Every leaf of a facts subtree by its path (numbers, and the texts that say why one is missing)."""
    if isinstance(node, dict):
        return {k: v for key, child in node.items() for k, v in _numbers(child, f"{path}.{key}").items()}
    if isinstance(node, list):
        return {k: v for i, child in enumerate(node) for k, v in _numbers(child, f"{path}[{i}]").items()}
    return {path: node}


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=0, abs_tol=TOLERANCE)
    return a == b
