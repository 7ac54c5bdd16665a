"""What a runner hands to the extractors: checkpoint files, parameter names, scores, history."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reporter.facts import ArchitectureFacts, InferenceFacts, NotReported, TrainingFacts


@dataclass(frozen=True)
class RunOutcome:
    """A trained or loaded model, reduced to what the extractors need (no torch objects)."""

    weight_files: list[Path]
    parameter_names: set[str] | None
    trainable_names: set[str] | None
    architecture: ArchitectureFacts
    training: TrainingFacts | NotReported
    evaluation_scores: np.ndarray | None
    inference: InferenceFacts | NotReported
    embeddings: np.ndarray | None = None  # one row per sentence the pipeline asked to embed
