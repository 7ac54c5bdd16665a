"""What a runner hands to the extractors: checkpoint files, parameter names, scores, history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reporter.facts import ArchitectureFacts, DifferentialPrivacyFacts, InferenceFacts, NotReported, TrainingFacts
from reporter.runners.language_model import LanguageScoring


@dataclass(frozen=True)
class WordTagger:
    """A loaded token classifier as a function: ``(sentences, on_progress=None) -> Tagged``, and
    the data's IOB2 tag of each of its label ids."""

    tag: Callable[..., Any]
    labels: list[str]


@dataclass(frozen=True)
class RunOutcome:
    """A trained or loaded model, reduced to what the extractors need (no torch objects: the model
    itself reaches them only as ``score_rows``, a function of evaluation rows)."""

    weight_files: list[Path]
    parameter_names: set[str] | None
    trainable_names: set[str] | None
    architecture: ArchitectureFacts
    training: TrainingFacts | NotReported
    evaluation_scores: np.ndarray | None
    inference: InferenceFacts | NotReported
    embed_text: Callable[[list[str]], np.ndarray] | None = None
    """One embedding per sentence (an encoder's mean-pooled last hidden state), when a task
    measures embeddings."""
    score_rows: Callable[[pd.DataFrame], np.ndarray] | None = None
    """The model's predictions for any rows shaped like the evaluation features, as in
    ``evaluation_scores`` (for explanations); None when the build does not run the model."""
    attribute_rows: Callable[[pd.DataFrame], Any] | None = None
    """Token attributions for rows shaped like the evaluation features (text models only)."""
    trained_rows: np.ndarray | None = None
    """Positions of the training rows the model was fitted on (models trained in the build)."""
    guarantee: DifferentialPrivacyFacts | None = None
    """The differential privacy guarantee of a model trained in the build with one."""
    language: LanguageScoring | None = None
    """A loaded decoder language model, when the spec asks to measure one (`language_model:`)."""
    tag_words: WordTagger | None = None
    """A loaded token classifier, when the task tags words."""

    def offers(self, capability: str) -> bool:
        """Whether the model is bound for ``capability`` (`score_rows`, `embed_text`, `tag_words`,
        `language_model`): what a task may call on it."""
        return getattr(self, CAPABILITY_FIELDS.get(capability, capability), None) is not None


CAPABILITY_FIELDS = {"score_rows": "score_rows", "embed_text": "embed_text", "tag_words": "tag_words"}
CAPABILITY_FIELDS["language_model"] = "language"
"""The field of a :class:`RunOutcome` that binds each capability."""


TRAINED_ELSEWHERE = "the model was trained elsewhere; the spec loads a checkpoint"
GIVEN_PREDICTIONS = "the build does not run this model: its predictions were computed elsewhere"


def described_file(path: Path, architecture: ArchitectureFacts) -> RunOutcome:
    """A loaded weight file the build describes but does not run (predictions, if any, were
    computed elsewhere)."""
    return RunOutcome(
        weight_files=[path],
        parameter_names=None,
        trainable_names=None,
        architecture=architecture,
        training=NotReported(not_reported=TRAINED_ELSEWHERE),
        evaluation_scores=None,
        inference=NotReported(not_reported=GIVEN_PREDICTIONS),
    )
