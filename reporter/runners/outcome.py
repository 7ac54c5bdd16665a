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
    embeddings: np.ndarray | None = None  # one row per sentence the pipeline asked to embed
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
