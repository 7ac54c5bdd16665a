"""Sentence embedding: an encoder measured for social bias in its embeddings by association tests
(SEAT effect sizes with their permutation p-values)."""

from __future__ import annotations

from typing import ClassVar

from reporter.facts import EmbeddingBiasFacts, FactsRecord
from reporter.tasks.figures import Figure, figure


class SentenceEmbeddingTask:
    name: ClassVar[str] = "sentence_embedding"
    partial: ClassVar[str] = "partials/embedding_bias.md.j2"
    catalog_partial: ClassVar[str] = "partials/catalog/sentence_embedding.md.j2"
    explanation_metric: ClassVar[str | None] = None
    overall_metrics: ClassVar[tuple[str, ...]] = ()
    """Every figure is about one association test; none is over all the data."""
    not_explained: ClassVar[str | None] = "the spec declares no labelled evaluation data"
    not_audited: ClassVar[str | None] = "the model is loaded, not trained in the build"

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
