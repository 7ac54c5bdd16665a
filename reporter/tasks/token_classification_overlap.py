"""Train–test overlap of a token classifier's sentences, and its entity scores without them.

A tweet of the evaluation set that also sits in the training set (or a retweet of it with a handle
changed) was seen with its tags during fine-tuning. Sentences are compared as rows: the tokens
joined by spaces, with the tags joined as the label, exactly and as near-duplicates
(:mod:`reporter.extract.overlap`). The entity scores without the overlapping sentences are computed
from the tags the model already gave every evaluation sentence, which the task's own tagging pass
records (:class:`TagRecorder`): the model runs once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from reporter.extract.entities import HEADLINE_MODE, MODES, entity_counts, entity_type, mode_facts, sentence_weights
from reporter.extract.overlap import extract_overlap, sentence_rows
from reporter.facts.base import Interval
from reporter.facts.data import OverlapFacts
from reporter.runners.outcome import RunOutcome, WordTagger
from reporter.tasks.token_classification_measures import Sentences

SENTENCE_NORMALISATION = (
    "each sentence's tokens joined by single spaces, case-folded and with each run of white space made one "
    "space; its tags joined the same way and compared as written"
)


@dataclass
class TagRecorder:
    """The tags a tagger gave each sentence it tagged, by the sentence's tokens."""

    tags: dict[tuple[str, ...], list[str]] = field(default_factory=dict)

    def wrap(self, tagger: WordTagger) -> WordTagger:
        """The same tagger, recording what it returns."""

        def tag(tokens: list[list[str]], on_progress: Callable[[int, int], None] | None = None) -> Any:
            tagged = tagger.tag(tokens, on_progress=on_progress)
            for sentence, tags in zip(tokens, tagged.tags, strict=True):
                self.tags[tuple(sentence)] = tags
            return tagged

        return WordTagger(tag=tag, labels=tagger.labels)

    def predicted(self, sentences: Sentences) -> list[list[str]]:
        """The recorded tags of ``sentences``, which must all have been tagged."""
        return [self.tags[tuple(tokens)] for tokens in sentences.tokens]


def recording_tags(outcome: RunOutcome) -> tuple[RunOutcome, TagRecorder | None]:
    """The outcome with its tagger recording its tags, and the recorder; the outcome unchanged and
    None for a model that does not tag words."""
    if outcome.tag_words is None:
        return outcome, None
    recorder = TagRecorder()
    return replace(outcome, tag_words=recorder.wrap(outcome.tag_words)), recorder


def entity_figures(gold: list[list[str]], predicted: list[list[str]], *, samples: int) -> dict[str, Interval]:
    """Micro entity F1, precision and recall in each reading, the headline reading's first, named
    as the task's figures are (``entity_f1_strict``…), with the task's seeded sentence bootstrap."""
    types = sorted({entity_type(t) for tags in (*gold, *predicted) for t in tags if t != "O"})
    weights = sentence_weights(len(gold), samples=samples, seed=0)
    figures = {}
    for mode in sorted(MODES, key=lambda mode: mode != HEADLINE_MODE):
        micro = mode_facts(entity_counts(gold, predicted, mode=mode, types=types), mode=mode, weights=weights).micro
        for name in ("f1", "precision", "recall"):
            figures[f"entity_{name}_{mode}"] = getattr(micro, name)
    return figures


def sentence_overlap(
    train: Sentences,
    evaluation: Sentences,
    recorder: TagRecorder,
    *,
    column: str,
    sources: tuple[str, str],
    samples: int,
    on_progress: Callable[[int, int], None] | None = None,
) -> OverlapFacts:
    """Exact and near-duplicate overlap of the evaluation sentences with the training sentences, and
    the entity scores over the sentences that overlap in neither way."""
    tag_codes: dict[str, int] = {}
    predicted = recorder.predicted(evaluation)

    def figures_on(kept: np.ndarray) -> dict[str, Interval]:
        chosen = np.flatnonzero(kept)
        return entity_figures([evaluation.tags[i] for i in chosen], [predicted[i] for i in chosen], samples=samples)

    return extract_overlap(
        sentence_rows(train, column, tag_codes),
        sentence_rows(evaluation, column, tag_codes),
        sources=sources,
        headline=entity_figures(evaluation.tags, predicted, samples=samples),
        figures_on=figures_on,
        text_column=column,
        normalisation=SENTENCE_NORMALISATION,
        on_progress=on_progress,
    )
