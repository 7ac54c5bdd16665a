"""Text generation: a decoder language model measured by perplexity on the spec's documents, a
likelihood bias probe on sentence pairs, and sample outputs.

It measures through the task interface (:class:`reporter.tasks.base.MeasuringTask`): its inputs
are read before the model loads, and its evaluation asks the model only for its `language_model`
capability (log-likelihoods and greedy completion); what it computes is in
:mod:`reporter.tasks.text_generation_measures`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from reporter.facts import BenchmarkSource, FactsRecord, LanguageModelFacts, NotReported, TaskFacts
from reporter.spec import LanguageModel, TaskSection
from reporter.spec.benchmarks import BUILT_IN as BENCHMARKS
from reporter.tasks.base import LOADED_NOT_AUDITED, NO_LABELLED_ROWS, TaskContext
from reporter.tasks.figures import Figure, figure
from reporter.tasks.text_generation_measures import LanguageInputs, language_inputs, language_model_facts

if TYPE_CHECKING:
    from reporter.formats.declaration import Capability
    from reporter.runners.outcome import RunOutcome


BIAS_FIGURES: dict[str, tuple[tuple[str, str], ...]] = {
    "crows_pairs": (("pct_stereotype", "stereotyped_share"), ("likelihood_diff", "likelihood_difference")),
    "stereoset": (("lms", "language_modeling_score"), ("ss", "stereotype_score"), ("icat", "icat")),
    "bbq": (
        ("acc", "accuracy"),
        ("acc_ambiguous", "accuracy_ambiguous"),
        ("acc_disambiguated", "accuracy_disambiguated"),
        ("bias_ambiguous", "bias_ambiguous"),
        ("bias_disambiguated", "bias_disambiguated"),
    ),
}
"""Each bias benchmark's figures: (the name after `<benchmark>_`, the facts field)."""


def benchmark_of(facts: FactsRecord, metric: str) -> BenchmarkSource | None:
    """The benchmark an overall figure (`mmlu_acc`, `bbq_bias_ambiguous`) is measured on, if any:
    its items, not the evaluation data, are what the figure describes."""
    language = facts.language_model
    if not isinstance(language, LanguageModelFacts):
        return None
    for benchmark in language.benchmarks:
        if metric in (f"{benchmark.name}_acc", f"{benchmark.name}_acc_norm"):
            return benchmark
    for bias in language.bias_benchmarks:
        if metric in {f"{bias.name}_{measure}" for measure, _ in BIAS_FIGURES[bias.kind]}:
            return bias
    return None


class TextGenerationTask:
    name: ClassVar[str] = "text_generation"
    partial: ClassVar[str] = "partials/language_model.md.j2"
    catalog_partial: ClassVar[str] = "partials/catalog/text_generation.md.j2"
    explanation_metric: ClassVar[str | None] = None
    overall_metrics: ClassVar[tuple[str, ...]] = (
        "perplexity",
        "bits_per_byte",
        *(f"{name}_{measure}" for name in BENCHMARKS for measure in ("acc", "acc_norm")),
        *(f"{kind}_{measure}" for kind, measures in BIAS_FIGURES.items() for measure, _ in measures),
    )
    """Perplexity and the built-in benchmarks' figures: what `reporter diff` compares and gates."""
    overall_metric_pattern: ClassVar[str] = r"[a-z0-9][a-z0-9_]*_(acc|acc_norm)"
    """A benchmark declared in a spec is named there, so its `<name>_acc` and `<name>_acc_norm` are
    overall figures by their shape."""
    not_explained: ClassVar[str | None] = NO_LABELLED_ROWS
    not_audited: ClassVar[str | None] = LOADED_NOT_AUDITED
    section: ClassVar[type[TaskSection]] = LanguageModel
    facts: ClassVar[type[TaskFacts]] = LanguageModelFacts
    template_folder: ClassVar[Path | None] = None

    def needs(self, section: LanguageModel) -> frozenset[Capability]:
        return frozenset({"language_model"})

    def read_inputs(self, section: LanguageModel, context: TaskContext) -> LanguageInputs:
        return language_inputs(section, context)

    def evaluate(self, model: RunOutcome, inputs: LanguageInputs, context: TaskContext) -> LanguageModelFacts:
        assert model.language is not None, "the loader binds the language model when the task needs it"
        return language_model_facts(inputs, model.language, context)

    def carried_by(self, facts: FactsRecord) -> bool:
        return isinstance(facts.language_model, LanguageModelFacts)

    def figures(self, facts: FactsRecord) -> list[Figure]:
        language = facts.language_model
        if not isinstance(language, LanguageModelFacts):
            return []
        figures = []
        if not isinstance(language.perplexity, NotReported):
            figures.extend(figure("perplexity", language.perplexity.perplexity, feature=None, group=None))
            figures.extend(figure("bits_per_byte", language.perplexity.bits_per_byte, feature=None, group=None))
        for benchmark in language.benchmarks:
            figures.extend(figure(f"{benchmark.name}_acc", benchmark.accuracy, feature=None, group=None))
            figures.extend(
                figure(f"{benchmark.name}_acc_norm", benchmark.accuracy_normalised, feature=None, group=None)
            )
            for part in benchmark.categories:
                figures.extend(figure(f"{benchmark.name}_acc", part.accuracy, feature="category", group=part.category))
        for bias in language.bias_benchmarks:
            for measure, attribute in BIAS_FIGURES[bias.kind]:
                name = f"{bias.name}_{measure}"
                figures.extend(figure(name, getattr(bias, attribute), feature=None, group=None))
                for section in bias.categories:
                    if hasattr(section, attribute):
                        figures.extend(
                            figure(name, getattr(section, attribute), feature="category", group=section.category)
                        )
        if not isinstance(language.bias_probe, NotReported):
            for category in language.bias_probe.categories:
                name = category.category
                figures.extend(figure("stereotyped_share", category.stereotyped_share, feature=name, group=None))
                figures.append(Figure("stereotyped_share_p_value", category.share_p_value, None, None, feature=name))
                figures.extend(
                    figure("mean_log_probability_difference", category.mean_difference, feature=name, group=None)
                )
                figures.append(Figure("mean_difference_p_value", category.difference_p_value, None, None, feature=name))
        return figures
