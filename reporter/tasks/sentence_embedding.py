"""Sentence embedding: an encoder measured for social bias in its embeddings by association tests
(SEAT effect sizes with their permutation p-values).

It measures through the same interface a task from another package does
(:class:`reporter.tasks.base.MeasuringTask`): its section, its inputs read before the encoder is
loaded, and an evaluation that asks the model only to embed sentences.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from reporter.extract.embedding_bias import WordSets, extract_embedding_bias, read_word_sets, sentences_of
from reporter.extract.weights import sha256_file
from reporter.facts import EmbeddingBiasFacts, FactsRecord, TaskFacts
from reporter.spec import EmbeddingBias, TaskSection
from reporter.tasks.base import LOADED_NOT_AUDITED, NO_LABELLED_ROWS, TaskContext
from reporter.tasks.figures import Figure, figure

if TYPE_CHECKING:
    from reporter.formats.declaration import Capability
    from reporter.runners.outcome import RunOutcome


@dataclass(frozen=True)
class AssociationTests:
    """A spec's SEAT tests, their sentences (each embedded once) and where each set's rows are."""

    tests: list[WordSets]
    templates: list[str]
    permutations: int
    source: str
    sentences: list[str]
    rows: list[list[list[int]]]
    """Per test, per word set (X, Y, A, B): the rows of `sentences` that hold its sentences."""


class SentenceEmbeddingTask:
    name: ClassVar[str] = "sentence_embedding"
    partial: ClassVar[str] = "partials/embedding_bias.md.j2"
    catalog_partial: ClassVar[str] = "partials/catalog/sentence_embedding.md.j2"
    template_folder: ClassVar[Path | None] = None
    explanation_metric: ClassVar[str | None] = None
    overall_metrics: ClassVar[tuple[str, ...]] = ()
    """Every figure is about one association test; none is over all the data."""
    not_explained: ClassVar[str | None] = NO_LABELLED_ROWS
    not_audited: ClassVar[str | None] = LOADED_NOT_AUDITED
    section: ClassVar[type[TaskSection]] = EmbeddingBias
    facts: ClassVar[type[TaskFacts]] = EmbeddingBiasFacts

    def needs(self, section: EmbeddingBias) -> frozenset[Capability]:
        return frozenset({"embed_text"})

    def read_inputs(self, section: EmbeddingBias, context: TaskContext) -> AssociationTests:
        """The word sets in their templates, each distinct sentence once.

        Raises:
            DataError: the file is not a word-set file.
        """
        field = f"{context.section_field}.word_sets"
        path = context.resolve(section.word_sets, field)
        tests = read_word_sets(path, spec_path=context.spec_path, field=field)
        index: dict[str, int] = {}
        rows = [
            [[index.setdefault(text, len(index)) for text in texts] for texts in sentences_of(test, section.templates)]
            for test in tests
        ]
        return AssociationTests(
            tests=tests,
            templates=section.templates,
            permutations=section.permutations,
            source=f"{section.word_sets.describe()} (SHA-256 {sha256_file(path)})",
            sentences=list(index),
            rows=rows,
        )

    def evaluate(self, model: RunOutcome, inputs: AssociationTests, context: TaskContext) -> EmbeddingBiasFacts:
        """SEAT on the encoder's embeddings of every sentence."""
        from reporter.runners.inference import MEAN_POOLING

        assert model.embed_text is not None, "the loader binds `embed_text` when the task needs it"
        context.progress(f"  {context.slug}: embedding {len(inputs.sentences):,} sentences")
        embeddings = model.embed_text(inputs.sentences)
        return extract_embedding_bias(
            inputs.tests,
            [[embeddings[set_rows] for set_rows in test_rows] for test_rows in inputs.rows],
            templates=inputs.templates,
            source=inputs.source,
            pooling=MEAN_POOLING,
            permutations=inputs.permutations,
            samples=context.samples,
        )

    def carried_by(self, facts: FactsRecord) -> bool:
        return isinstance(facts.embedding_bias, EmbeddingBiasFacts)

    def figures(self, facts: FactsRecord) -> list[Figure]:
        bias = facts.embedding_bias
        if not isinstance(bias, EmbeddingBiasFacts):
            return []
        figures = []
        for test in bias.tests:
            figures.extend(figure("seat_effect_size", test.effect_size, feature=test.name, group=None))
            figures.append(Figure("seat_p_value", test.p_value, None, None, feature=test.name))
        return figures
