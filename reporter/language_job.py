"""The language-model part of a model job: perplexity, the likelihood bias probe, sample outputs.

Its inputs (the documents, the word sets and the pairs they make) are read and checked before
the model is loaded, so a misnamed column or test fails in a second rather than after a model
load; the figures come from the runner's :class:`LanguageScoring` and the extractors in
:mod:`reporter.extract.language`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reporter.datasets import Table
from reporter.errors import DataError
from reporter.extract.embedding_bias import WordSets, read_word_sets
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
    LanguageModelFacts,
    LikelihoodBiasFacts,
    NotReported,
    PerplexityFacts,
    SampleOutputFacts,
    SampleOutputsFacts,
)
from reporter.progress import JobProgress
from reporter.project import Project, resolve_file
from reporter.runners.language_model import LanguageScoring
from reporter.settings import BuildSettings
from reporter.spec import FileRef, LoadedSpec, Perplexity


@dataclass(frozen=True)
class ProbeTest:
    """One WEAT test's pairs (a seeded sample when capped)."""

    test: WordSets
    pairs: list[ProbePair]
    sampled: bool


@dataclass(frozen=True)
class LanguageInputs:
    """What a language model is measured on, read and checked before it is loaded."""

    documents: list[str] | None
    documents_in_file: int
    text_source: str
    probe: list[ProbeTest] | None
    probe_source: str


def language_inputs(project: Project, loaded: LoadedSpec, eval_table: Table | None) -> LanguageInputs | None:
    """The spec's documents and probe pairs; None when it asks for no language-model measurements.

    Raises:
        DataError: the text column is missing or empty, or a chosen test is not in the word-set file.
    """
    options = loaded.spec.language_model
    if options is None:
        return None
    documents, in_file, text_source = None, 0, ""
    if options.perplexity is not None and eval_table is not None:
        documents, in_file = _documents(loaded, eval_table, options.perplexity)
        text_source = f"{eval_table.source.id}, column {options.perplexity.text_column!r}"
    probe, probe_source = None, ""
    if options.bias_probe is not None:
        bias = options.bias_probe
        tests, probe_source = chosen_word_sets(
            project, loaded, bias.word_sets, bias.tests, field=f"{loaded.spec.section_field(options)}.bias_probe"
        )
        probe = [
            ProbeTest(test, *probe_pairs(test, bias.templates, max_pairs=bias.max_pairs, seed=bias.seed))
            for test in tests
        ]
    return LanguageInputs(documents, in_file, text_source, probe, probe_source)


def chosen_word_sets(
    project: Project, loaded: LoadedSpec, word_sets: FileRef, numbers: list[int] | None, *, field: str
) -> tuple[list[WordSets], str]:
    """The tests ``numbers`` (default: all) of a spec's WEAT word-set file, and the file described
    with its SHA-256 for the card.

    Raises:
        DataError: the file is not a word-set file, or a chosen test is not in it.
    """
    path = resolve_file(project, loaded.path, word_sets, field=f"{field}.word_sets", kind="file")
    tests = read_word_sets(path, spec_path=loaded.path, field=f"{field}.word_sets")
    unknown = sorted(set(numbers or []) - {t.number for t in tests})
    if unknown:
        raise DataError(
            f"{loaded.path}: {field}.tests: {unknown} are not tests of {path} "
            f"(it has tests 1 to {len(tests)}). Fix: choose among those"
        )
    chosen = [test for test in tests if numbers is None or test.number in numbers]
    return chosen, f"{word_sets.describe()} (SHA-256 {sha256_file(path)})"


def _documents(loaded: LoadedSpec, table: Table, options: Perplexity) -> tuple[list[str], int]:
    """The evaluation text's non-empty documents (a seeded sample when the spec caps them), and how
    many the file holds."""
    field = f"{loaded.spec.section_field(loaded.spec.language_model)}.perplexity.text_column"
    frame = table.frame
    if options.text_column not in frame.columns:
        raise DataError(
            f"{loaded.path}: {field}: column {options.text_column!r} is not in the evaluation data. "
            f"Fix: name one of {', '.join(map(str, frame.columns))}"
        )
    documents = [str(v) for v in frame[options.text_column].tolist() if isinstance(v, str) and v.strip()]
    if not documents:
        raise DataError(f"{loaded.path}: {field}: column {options.text_column!r} holds no text. Fix: fill it")
    chosen = explained_rows(len(documents), sample=options.max_documents, seed=options.seed)
    return [documents[i] for i in chosen], len(documents)


def language_model_facts(
    loaded: LoadedSpec,
    inputs: LanguageInputs | None,
    scoring: LanguageScoring | None,
    *,
    device: str,
    settings: BuildSettings,
    progress: JobProgress,
) -> LanguageModelFacts | None:
    """Perplexity on the spec's evaluation text, the likelihood bias probe and sample outputs;
    None when the spec asks for no language-model measurement."""
    options = loaded.spec.language_model
    if options is None or inputs is None or scoring is None:
        return None
    perplexity: PerplexityFacts | NotReported = NotReported(
        not_reported="the spec declares no evaluation text (`perplexity:` of its `text_generation` evaluation)"
    )
    if options.perplexity is not None and inputs.documents is not None:
        progress.message(f"  {loaded.slug}: perplexity on {len(inputs.documents):,} documents")
        losses, tokens = scoring.document_losses(inputs.documents, options.perplexity.window)
        perplexity = extract_perplexity(
            losses,
            tokens,
            np.array([len(d.encode("utf-8")) for d in inputs.documents]),
            source=inputs.text_source,
            documents_in_file=inputs.documents_in_file,
            window=options.perplexity.window,
            method=perplexity_method(scoring.start_token, options.perplexity.window),
            samples=settings.bootstrap_samples,
            seed=options.perplexity.seed,
        )
    bias_probe: LikelihoodBiasFacts | NotReported = NotReported(
        not_reported="the spec asks for no bias probe (`bias_probe:` of its `text_generation` evaluation)"
    )
    if options.bias_probe is not None and inputs.probe is not None:
        bias_probe = _bias_probe(loaded, inputs, scoring, settings=settings, progress=progress)
    samples: SampleOutputsFacts | NotReported = NotReported(
        not_reported="the spec declares no prompts (`prompts:` of its `text_generation` evaluation)"
    )
    if options.prompts:
        progress.message(f"  {loaded.slug}: completing {len(options.prompts)} prompts")
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
    return LanguageModelFacts(
        model_class=scoring.model_class,
        tokenizer=scoring.tokenizer,
        device=device,
        perplexity=perplexity,
        bias_probe=bias_probe,
        samples=samples,
    )


def _bias_probe(
    loaded: LoadedSpec,
    inputs: LanguageInputs,
    scoring: LanguageScoring,
    *,
    settings: BuildSettings,
    progress: JobProgress,
) -> LikelihoodBiasFacts:
    """Every chosen test's pairs, scored in one pass (two continuations per pair)."""
    options = loaded.spec.language_model.bias_probe if loaded.spec.language_model else None
    assert options is not None and inputs.probe is not None
    flat = [pair for test in inputs.probe for pair in test.pairs]
    progress.message(f"  {loaded.slug}: bias probe, {len(flat):,} sentence pairs")
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
                samples=settings.bootstrap_samples,
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
