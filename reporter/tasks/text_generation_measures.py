"""What the text-generation task measures: perplexity, the likelihood bias probe, sample outputs.

Its inputs (the documents, the word sets and the pairs they make) are read and checked before
the model is loaded, so a misnamed column or test fails in a second rather than after a model
load; the figures come from the model's :class:`LanguageScoring` (its `language_model`
capability) and the extractors in :mod:`reporter.extract.language`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reporter.benchmarks import bias_built_in, bias_data, data_field, declaration_of
from reporter.benchmarks.bias_items import BiasItem, read_bias_items
from reporter.benchmarks.items import BenchmarkItem, read_items_and_skipped, sampled
from reporter.datasets import Table
from reporter.errors import DataError
from reporter.extract.benchmarks import benchmark_facts
from reporter.extract.bias_benchmarks import bias_benchmark_facts
from reporter.extract.embedding_bias import WordSets, chosen_word_sets
from reporter.extract.explanations import explained_rows
from reporter.extract.language import (
    ProbePair,
    bias_probe_facts,
    extract_perplexity,
    perplexity_method,
    probe_category,
    probe_pairs,
)
from reporter.extract.weights import sha256_file
from reporter.facts import (
    BbqFacts,
    BenchmarkFacts,
    CrowsPairsFacts,
    DocumentOverlapFacts,
    LanguageModelFacts,
    LikelihoodBiasFacts,
    NotReported,
    PerplexityFacts,
    PublishedResultFacts,
    SampleOutputFacts,
    SampleOutputsFacts,
    StereoSetFacts,
)
from reporter.runners.language_model import LanguageScoring
from reporter.spec import LanguageModel, Perplexity
from reporter.spec.benchmarks import (
    BenchmarkDeclaration,
    BenchmarkRun,
    BiasBenchmarkDeclaration,
    BiasBenchmarkRun,
    PublishedResult,
)
from reporter.tasks.base import TaskContext


@dataclass(frozen=True)
class ProbeTest:
    """One WEAT test's pairs (a seeded sample when capped)."""

    test: WordSets
    pairs: list[ProbePair]
    sampled: bool


@dataclass(frozen=True)
class LanguageInputs:
    """What a language model is measured on, read and checked before it is loaded."""

    options: LanguageModel
    documents: list[str] | None
    documents_in_file: int
    text_source: str
    probe: list[ProbeTest] | None
    probe_source: str
    training_text: tuple[str, list[str]] | None = None
    """The training source's id and its texts in the perplexity column, when the spec provides them."""
    benchmarks: list[BenchmarkInputs] = field(default_factory=list)
    bias_benchmarks: list[BiasBenchmarkInputs] = field(default_factory=list)


@dataclass(frozen=True)
class BenchmarkInputs:
    """One benchmark's items, read and checked (a seeded sample when asked), and its file."""

    run: BenchmarkRun
    declaration: BenchmarkDeclaration
    items: list[BenchmarkItem]
    items_in_file: int
    data: str
    sha256: str
    skipped: list[int] = field(default_factory=list)
    """Lines of malformed items the declaration skips."""


@dataclass(frozen=True)
class BiasBenchmarkInputs:
    """One bias benchmark's items, read and checked (a seeded sample when asked), and its file."""

    run: BiasBenchmarkRun
    declaration: BiasBenchmarkDeclaration
    items: list[BiasItem]
    items_in_file: int
    data: str
    sha256: str


def language_inputs(options: LanguageModel, context: TaskContext) -> LanguageInputs:
    """The section's documents and probe pairs.

    Raises:
        DataError: the text column is missing or empty, or a chosen test is not in the word-set file.
    """
    documents, in_file, text_source = None, 0, ""
    table = context.evaluation_table
    if options.perplexity is not None and table is not None:
        field = f"{context.section_field}.perplexity.text_column"
        documents, in_file = _documents(table, options.perplexity, spec_path=context.spec_path, field=field)
        text_source = f"{table.source.id}, column {options.perplexity.text_column!r}"
    probe, probe_source = None, ""
    if options.bias_probe is not None:
        bias = options.bias_probe
        field = f"{context.section_field}.bias_probe"
        path = context.resolve(bias.word_sets, f"{field}.word_sets")
        tests, probe_source = chosen_word_sets(
            path, bias.word_sets, bias.tests, spec_path=context.spec_path, field=field
        )
        probe = [
            ProbeTest(test, *probe_pairs(test, bias.templates, max_pairs=bias.max_pairs, seed=bias.seed))
            for test in tests
        ]
    return LanguageInputs(
        options,
        documents,
        in_file,
        text_source,
        probe,
        probe_source,
        _training_text(options, context),
        [_benchmark_inputs(run, index, context) for index, run in enumerate(options.benchmarks)],
        [_bias_benchmark_inputs(run, index, context) for index, run in enumerate(options.bias_benchmarks)],
    )


def _benchmark_inputs(run: BenchmarkRun, index: int, context: TaskContext) -> BenchmarkInputs:
    """A benchmark's items, every one checked, then sampled as the run asks."""
    declaration = declaration_of(run)
    where = data_field(run, index, context.section_field)
    path = context.resolve(declaration.data, where)
    every, skipped = read_items_and_skipped(declaration, path, where=f"{context.spec_path}: {where}")
    return BenchmarkInputs(
        run=run,
        declaration=declaration,
        items=sampled(every, None if context.full_benchmarks else run.sample, run.seed),
        items_in_file=len(every),
        data=declaration.data.describe(),
        sha256=sha256_file(path),
        skipped=skipped,
    )


def _bias_benchmark_inputs(run: BiasBenchmarkRun, index: int, context: TaskContext) -> BiasBenchmarkInputs:
    """A bias benchmark's items, every one checked, then sampled as the run asks."""
    declaration = bias_built_in(run.benchmark)
    ref, where = bias_data(run, index, context.section_field)
    path = context.resolve(ref, where)
    every = read_bias_items(declaration.kind, path, where=f"{context.spec_path}: {where}")
    return BiasBenchmarkInputs(
        run=run,
        declaration=declaration,
        items=sampled(every, None if context.full_benchmarks else run.sample, run.seed),
        items_in_file=len(every),
        data=ref.describe(),
        sha256=sha256_file(path),
    )


def _training_text(options: LanguageModel, context: TaskContext) -> tuple[str, list[str]] | None:
    """The training source's texts in the perplexity documents' column, for their n-gram overlap."""
    train = context.train_table
    if options.perplexity is None or train is None or options.perplexity.text_column not in train.frame.columns:
        return None
    texts = [str(v) for v in train.frame[options.perplexity.text_column].tolist() if isinstance(v, str)]
    return train.source.id, texts


def _documents(table: Table, options: Perplexity, *, spec_path: Path, field: str) -> tuple[list[str], int]:
    """The evaluation text's non-empty documents (a seeded sample when the spec caps them), and how
    many the file holds."""
    frame = table.frame
    if options.text_column not in frame.columns:
        raise DataError(
            f"{spec_path}: {field}: column {options.text_column!r} is not in the evaluation data. "
            f"Fix: name one of {', '.join(map(str, frame.columns))}"
        )
    documents = [str(v) for v in frame[options.text_column].tolist() if isinstance(v, str) and v.strip()]
    if not documents:
        raise DataError(f"{spec_path}: {field}: column {options.text_column!r} holds no text. Fix: fill it")
    chosen = explained_rows(len(documents), sample=options.max_documents, seed=options.seed)
    return [documents[i] for i in chosen], len(documents)


NO_TRAINING_TEXT = (
    "the spec provides no training text to compare the perplexity documents with (a `role: train` source with a "
    "file holding the perplexity column)"
)


def _document_overlap(
    inputs: LanguageInputs, perplexity_of: Callable[[np.ndarray], PerplexityFacts]
) -> DocumentOverlapFacts:
    """The documents' word n-gram overlap with the training text, and the perplexity without the
    documents that overlap."""
    from reporter.extract.ngram_overlap import NORMALISATION, N, ngram_overlap
    from reporter.extract.overlap import counted

    assert inputs.training_text is not None and inputs.documents is not None and inputs.options.perplexity
    source, texts = inputs.training_text
    found = ngram_overlap(texts, inputs.documents)
    kept = ~found.overlapping
    return DocumentOverlapFacts(
        train_source=source,
        column=inputs.options.perplexity.text_column,
        n=N,
        normalisation=NORMALISATION,
        documents=len(inputs.documents),
        overlapping=counted(found.overlapping),
        ngrams=found.ngrams,
        ngrams_in_training=found.ngrams_in_training,
        perplexity_without=perplexity_of(kept).perplexity if kept.any() and not kept.all() else None,
    )


def language_model_facts(inputs: LanguageInputs, scoring: LanguageScoring, context: TaskContext) -> LanguageModelFacts:
    """Perplexity on the spec's evaluation text, the likelihood bias probe and sample outputs."""
    options, slug, progress = inputs.options, context.slug, context.progress
    perplexity: PerplexityFacts | NotReported = NotReported(
        not_reported="the spec declares no evaluation text (`perplexity:` of its `text_generation` evaluation)"
    )
    overlap: DocumentOverlapFacts | NotReported = NotReported(not_reported=NO_TRAINING_TEXT)
    if options.perplexity is not None and inputs.documents is not None:
        progress(f"  {slug}: perplexity on {len(inputs.documents):,} documents")
        losses, tokens = scoring.document_losses(inputs.documents, options.perplexity.window)

        def perplexity_of(kept: np.ndarray) -> PerplexityFacts:
            assert options.perplexity is not None and inputs.documents is not None
            return extract_perplexity(
                losses[kept],
                tokens[kept],
                np.array([len(d.encode("utf-8")) for d in inputs.documents])[kept],
                source=inputs.text_source,
                documents_in_file=inputs.documents_in_file,
                window=options.perplexity.window,
                method=perplexity_method(scoring.start_token, options.perplexity.window),
                samples=context.samples,
                seed=options.perplexity.seed,
            )

        perplexity = perplexity_of(np.ones(len(inputs.documents), dtype=bool))
        if inputs.training_text is not None:
            overlap = _document_overlap(inputs, perplexity_of)
    bias_probe: LikelihoodBiasFacts | NotReported = NotReported(
        not_reported="the spec asks for no bias probe (`bias_probe:` of its `text_generation` evaluation)"
    )
    if options.bias_probe is not None and inputs.probe is not None:
        bias_probe = _bias_probe(inputs, scoring, context)
    samples: SampleOutputsFacts | NotReported = NotReported(
        not_reported="the spec declares no prompts (`prompts:` of its `text_generation` evaluation)"
    )
    if options.prompts:
        progress(f"  {slug}: completing {len(options.prompts)} prompts")
        wrapped = (
            "each prompt in the tokenizer's chat template as a user message"
            if options.chat_template
            else "each prompt as written"
        )
        samples = SampleOutputsFacts(
            decoding=f"greedy (the most likely token at each step), at most {options.max_new_tokens} new tokens, "
            f"{wrapped}; special tokens left out of the text",
            outputs=[
                SampleOutputFacts(prompt=prompt, completion=completion, tokens=count)
                for prompt, (completion, count) in zip(options.prompts, scoring.complete(options.prompts), strict=True)
            ],
        )
    benchmarks = [_benchmark(inputs_of, scoring, context) for inputs_of in inputs.benchmarks]
    bias_benchmarks = [_bias_benchmark(inputs_of, scoring, context) for inputs_of in inputs.bias_benchmarks]
    return LanguageModelFacts(
        benchmarks=benchmarks,
        published_results=[published_beside_ours(result, benchmarks) for result in options.published_results],
        bias_benchmarks=bias_benchmarks,
        model_class=scoring.model_class,
        tokenizer=scoring.tokenizer,
        device=context.device,
        perplexity=perplexity,
        bias_probe=bias_probe,
        samples=samples,
        overlap=overlap,
    )


def _benchmark(inputs: BenchmarkInputs, scoring: LanguageScoring, context: TaskContext) -> BenchmarkFacts:
    """One benchmark's items scored, every choice of every item, and its figures."""
    name, items = inputs.declaration.name, inputs.items
    context.progress(f"  {context.slug}: {name}, {len(items):,} items")
    log_likelihoods = scoring.choice_log_likelihoods(
        [(item.context, item.continuations) for item in items],
        context.throttled(f"  {context.slug}: {name}, {{done}} of {{total}} forward passes"),
    )
    return benchmark_facts(
        inputs.declaration,
        items,
        log_likelihoods,
        data=(inputs.data, inputs.sha256, inputs.items_in_file),
        seed=inputs.run.seed,
        samples=context.samples,
        skipped=inputs.skipped,
    )


def published_beside_ours(result: PublishedResult, benchmarks: list[BenchmarkFacts]) -> PublishedResultFacts:
    """A published figure with the build's figure of the same benchmark and metric, and how each was had."""
    ours = next((b for b in benchmarks if b.name == result.benchmark), None)
    settings = None
    if ours is not None:
        sample = f"a seeded sample of {ours.items:,} of {ours.items_in_file:,} items" if ours.sampled else "every item"
        settings = f"{ours.few_shot}-shot, {sample} of {ours.data}, prompt: {ours.prompt_source}"
    return PublishedResultFacts(
        benchmark=result.benchmark,
        metric=result.metric,
        value=result.value,
        source=result.source,
        settings=result.settings,
        ours=None if ours is None else (ours.accuracy if result.metric == "acc" else ours.accuracy_normalised),
        our_settings=settings,
    )


def _bias_benchmark(
    inputs: BiasBenchmarkInputs, scoring: LanguageScoring, context: TaskContext
) -> CrowsPairsFacts | StereoSetFacts | BbqFacts:
    """One bias benchmark's items scored (each sentence or choice) and its figures."""
    name, items = inputs.declaration.name, inputs.items
    context.progress(f"  {context.slug}: {name}, {len(items):,} items")
    log_likelihoods = scoring.choice_log_likelihoods(
        [(item.context, item.texts) for item in items],
        context.throttled(f"  {context.slug}: {name}, {{done}} of {{total}} forward passes"),
    )
    tokens = [np.array([scoring.count_tokens([text]) for text in item.texts], dtype=np.float64) for item in items]
    return bias_benchmark_facts(
        inputs.declaration,
        items,
        (log_likelihoods, tokens),
        data=(inputs.data, inputs.sha256, inputs.items_in_file),
        seed=inputs.run.seed,
        samples=context.samples,
    )


def _bias_probe(inputs: LanguageInputs, scoring: LanguageScoring, context: TaskContext) -> LikelihoodBiasFacts:
    """Every chosen test's pairs, scored in one pass (two continuations per pair)."""
    options = inputs.options.bias_probe
    assert options is not None and inputs.probe is not None
    flat = [pair for test in inputs.probe for pair in test.pairs]
    context.progress(f"  {context.slug}: bias probe, {len(flat):,} sentence pairs")
    scores = scoring.continuation_log_probabilities(
        [(prefix, pair.continuation) for pair in flat for prefix in (pair.stereotyped, pair.other)]
    ).reshape(-1, 2)
    categories, start = [], 0
    for test in inputs.probe:
        part = scores[start : start + len(test.pairs)]
        start += len(test.pairs)
        categories.append(
            probe_category(
                test.test.title,
                test.pairs,
                part[:, 0],
                part[:, 1],
                sampled=test.sampled,
                permutations=options.permutations,
                samples=context.samples,
                seed=options.seed,
            )
        )
    return bias_probe_facts(
        categories,
        source=inputs.probe_source,
        templates=options.templates,
        max_pairs=options.max_pairs,
        permutations=options.permutations,
    )
