"""The record's evaluation results in the Every Eval Ever format (evaleval/every_eval_ever,
`eval.schema.json`, schema 0.3.0): one aggregate record per model, one result per figure, each
with its 95 % bootstrap interval, and the rows and bootstrap resamples behind it where the facts
hold them.

The format needs a direction for every metric (`lower_is_better`). Figures that have one (accuracy,
F1, error rates, calibration error, perplexity, the fairness differences, whose ideal is 0) are
exported; descriptive figures (base and selection rates, mean labels and predictions), ratios,
effect sizes and p-values have no better direction and are left out, and the record says how many
(`additional_details.figures_without_direction`), so a reader can tell a short list from a
filtered one. The Hugging Face card keeps its `model-index` beside this file, where results that
share a task and a dataset lose their slices (huggingface_hub issue #4975); this format keeps each
group's figure as its own result, with the feature and group in its details.
"""

from __future__ import annotations

import datetime
import json
from typing import Any, Final

from reporter import __version__
from reporter.facts import (
    BenchmarkSource,
    FactsRecord,
    FairnessFacts,
    NotReported,
    TokenClassificationFacts,
)
from reporter.tasks import figures_of
from reporter.tasks.figures import CONFIDENCE, Figure
from reporter.tasks.text_generation import benchmark_of

SCHEMA_VERSION: Final = "0.3.0"
Bound = float | str
PROPORTION: Final = (0.0, 1.0)
UNBOUNDED_ABOVE: Final = (0.0, "Infinity")
PER_CENT: Final = (0.0, 100.0)
DIRECTED: Final[dict[str, tuple[bool, tuple[Bound, Bound]]]] = {
    **{
        name: (False, PROPORTION)
        for name in (
            "accuracy balanced_accuracy f1 precision recall roc_auc macro_f1 macro_precision macro_recall "
            "token_accuracy true_positive_rate"
        ).split()
    },
    **{
        name: (True, PROPORTION)
        for name in (
            "brier_score expected_calibration_error false_negative_rate false_positive_rate "
            "demographic_parity_difference equalized_odds_difference equal_opportunity_difference "
            "accuracy_score_difference"
        ).split()
    },
    **{
        name: (True, UNBOUNDED_ABOVE)
        for name in "log_loss mean_absolute_error root_mean_squared_error bits_per_byte".split()
    },
    "perplexity": (True, (1.0, "Infinity")),
    "r2": (False, ("-Infinity", 1.0)),
}
"""Each exported metric's direction (whether lower is better: errors, losses, and disparities
between groups, whose ideal is 0) and its range."""


def direction(metric: str) -> tuple[bool, tuple[Bound, Bound]] | None:
    """Whether lower is better and the range, for a metric that has a direction; None otherwise (a
    rate, a ratio, a p-value). Entity scores (``entity_f1_strict``…) are proportions, higher better."""
    if metric.startswith("entity_") or metric.endswith(("_acc", "_acc_norm", "_acc_ambiguous", "_acc_disambiguated")):
        return False, PROPORTION
    if metric in ("stereoset_lms", "stereoset_icat"):
        return False, PER_CENT
    return DIRECTED.get(metric)


def _benchmark(facts: FactsRecord, figure: Figure) -> BenchmarkSource | None:
    """The language-model benchmark a figure (`mmlu_acc`, `bbq_acc_ambiguous`) belongs to, if any."""
    return benchmark_of(facts, figure.metric)


def _source_data(facts: FactsRecord) -> dict[str, Any]:
    """The evaluation data as the format names it: its URL when the datasheet gives one."""
    source = next((d for d in facts.data if d.role == "evaluation"), None)
    name = source.id if source else "evaluation data declared by the spec"
    if source is not None and source.origin_url:
        return {"dataset_name": name, "source_type": "url", "url": [source.origin_url]}
    return {"dataset_name": name, "source_type": "other"}


def _benchmark_data(benchmark: BenchmarkSource) -> dict[str, Any]:
    if benchmark.origin_url:
        return {"dataset_name": benchmark.title, "source_type": "url", "url": [benchmark.origin_url]}
    return {"dataset_name": benchmark.title, "source_type": "other"}


def _counts(facts: FactsRecord) -> tuple[int | None, int | None]:
    """Rows (or sentences) behind the overall figures, and bootstrap resamples, when the facts say."""
    tagging = facts.token_classification
    if isinstance(tagging, TokenClassificationFacts):
        return tagging.sentences, tagging.bootstrap_samples
    rows = None if isinstance(facts.performance, NotReported) else facts.performance.rows
    samples = facts.fairness.bootstrap_samples if isinstance(facts.fairness, FairnessFacts) else None
    return rows, samples


def _result(
    facts: FactsRecord, figure: Figure, directed: tuple[bool, tuple[Bound, Bound]], created: str
) -> dict[str, Any]:
    rows, samples = _counts(facts)
    benchmark = _benchmark(facts, figure)
    if benchmark is not None:
        rows = None if figure.slice else benchmark.items
    uncertainty: dict[str, Any] = {}
    if figure.low is not None and figure.high is not None:
        interval = {"lower": figure.low, "upper": figure.high, "confidence_level": CONFIDENCE}
        uncertainty["confidence_interval"] = {**interval, "method": "percentile bootstrap"}
        if samples is not None:
            uncertainty["num_bootstrap_samples"] = samples
    if rows is not None and figure.slice is None:
        uncertainty["num_samples"] = rows
    details = {"feature": figure.feature or "", "group": figure.group or ""} if figure.slice else {}
    return {
        "evaluation_result_id": f"{facts.slug}/{figure.metric}" + (f"/{figure.slice}" if figure.slice else ""),
        "evaluation_name": figure.label,
        "source_data": _source_data(facts) if benchmark is None else _benchmark_data(benchmark),
        "evaluation_timestamp": created,
        "metric_config": {
            "metric_id": f"reporter.{figure.metric}",
            "metric_name": figure.metric.replace("_", " "),
            "lower_is_better": directed[0],
            "score_type": "continuous",
            "min_score": directed[1][0],
            "max_score": directed[1][1],
        },
        "score_details": {"score": figure.value, "details": details, "uncertainty": uncertainty},
    }


def every_eval_ever(facts: FactsRecord, *, report_url: str, created: datetime.datetime) -> dict[str, Any]:
    """The aggregate record as data."""
    stamp = created.isoformat()
    figures = figures_of(facts)
    directed = [(f, found) for f in figures if (found := direction(f.metric)) is not None]
    owner = facts.card.owners[0].name if facts.card.owners else "unknown"
    model_id = facts.hub.repo_id if facts.hub is not None else facts.slug
    released = not isinstance(facts.openness, NotReported) and any(
        c.key == "final_parameters" and c.status != "not_released" for c in facts.openness.components
    )
    return {
        "schema_version": SCHEMA_VERSION,
        "evaluation_id": f"reporter/{facts.slug}/{int(created.timestamp())}",
        "evaluation_timestamp": stamp,
        "retrieved_timestamp": str(int(created.timestamp())),
        "source_metadata": {
            "source_name": f"reporter transparency report of {facts.card.name}",
            "source_type": "evaluation_run",
            "source_organization_name": owner,
            "evaluator_relationship": "first_party",
            "additional_details": {
                "report": report_url,
                "figures_without_direction": str(len(figures) - len(directed)),
            },
        },
        "eval_library": {"name": "reporter", "version": __version__},
        "model_info": {
            "name": facts.card.name,
            "id": model_id,
            "developer": owner,
            "inference_platform": "local",
            "additional_details": {
                "deployment_type": "self_deployed",
                "model_availability": "open_weights" if released else "unknown",
                "version": facts.card.version,
            },
        },
        "evaluation_results": [_result(facts, figure, found, stamp) for figure, found in directed],
    }


def every_eval_ever_json(facts: FactsRecord, *, report_url: str, created: datetime.datetime) -> str:
    record = every_eval_ever(facts, report_url=report_url, created=created)
    return json.dumps(record, indent=2, ensure_ascii=False) + "\n"
