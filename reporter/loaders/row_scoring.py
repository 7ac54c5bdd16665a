"""Scoring the evaluation rows with a loaded model's own predict function, checked to the task's
shape and timed: what every format that runs rows (a module's `predict_scores`, Keras, ONNX)
returns to the build the same way."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from reporter.facts import InferenceFacts
from reporter.loaders.base import LoadRequest
from reporter.runners.outcome import RunOutcome


def scored_outcome(
    described: RunOutcome,
    request: LoadRequest,
    predict_scores: Callable[[Any], Any],
    *,
    field: str,
    input_text: str,
    batch_size: int | None = None,
) -> RunOutcome:
    """A loaded model's outcome with the evaluation rows scored (checked to the task's shape; a
    failure names the spec and ``field``) and how long that took."""
    import torch

    from reporter.runners.train import checked_scores

    evaluation, spec_evaluation = request.evaluation, request.loaded.spec.labelled_evaluation
    assert evaluation is not None
    task = spec_evaluation.task if spec_evaluation else "binary_classification"
    started = time.perf_counter()
    with torch.inference_mode():
        scores = checked_scores(predict_scores, evaluation, task=task, where=f"{request.loaded.path}: {field}")
    seconds = time.perf_counter() - started
    rows = int(evaluation.labels.shape[0])
    inference = InferenceFacts(
        device=request.device,
        rows=rows,
        batch_size=batch_size,
        max_length=None,
        input=input_text,
        labels={},
        seconds=round(seconds, 3),
        rows_per_second=round(rows / seconds, 1) if seconds > 0 else 0.0,
    )
    return replace(described, evaluation_scores=scores, inference=inference)
