"""Batched inference of a transformers sequence classifier: the one path by which every text model
the build evaluates (fine-tuned in the build or loaded from published weights) is scored.

Speed comes from tokenising every row once, ordering rows by token count so each batch pads only
to its own longest row, and running under ``torch.inference_mode``. The same rows in the same
batches give the same bytes, so a published checkpoint reloaded by anyone reproduces the figures
its card shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from transformers import PreTrainedModel

DEFAULT_BATCH_SIZE = 32
PROGRESS_EVERY_ROWS = 2000  # a progress line per this many rows on long runs


@dataclass(frozen=True)
class Classified:
    """Class probabilities for every row, in the rows' order, and how long the forward passes took."""

    probabilities: np.ndarray  # (rows, labels), float64, each row sums to 1
    seconds: float
    batch_size: int
    max_length: int


def _sorted_batches(
    tokenizer: Any, texts: list[str], *, batch_size: int, max_length: int, device: Any
) -> Iterator[tuple[np.ndarray, Any]]:
    """(row indices, padded batch on ``device``) in order of token count, each text tokenised once."""
    encoded = tokenizer(texts, truncation=True, max_length=max_length)
    features = [{key: encoded[key][i] for key in encoded} for i in range(len(texts))]
    order = np.argsort([len(f["input_ids"]) for f in features], kind="stable")
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        yield rows, tokenizer.pad([features[i] for i in rows], return_tensors="pt").to(device)


def classify_texts(
    model: PreTrainedModel,
    tokenizer: Any,
    texts: list[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_length: int,
    on_progress: Callable[[int, int], None] | None = None,
) -> Classified:
    """Softmax probabilities of ``model`` for each text (truncated to ``max_length`` tokens).

    Args:
        model: a transformers model with a sequence-classification head, on its device.
        tokenizer: its tokenizer.
        texts: one input per row.
        batch_size: rows per forward pass.
        max_length: longest input in tokens; longer inputs are truncated.
        on_progress: told ``(rows done, rows)`` after a batch, about every PROGRESS_EVERY_ROWS rows.
    """
    import torch

    labels = int(model.config.num_labels or 0)
    probabilities = np.empty((len(texts), labels), dtype=np.float64)
    was_training = model.training
    model.eval()
    started = time.perf_counter()
    done = reported = 0
    with torch.inference_mode():
        for rows, batch in _sorted_batches(
            tokenizer, texts, batch_size=batch_size, max_length=max_length, device=model.device
        ):
            probabilities[rows] = torch.softmax(model(**batch).logits.double(), dim=1).cpu().numpy()
            done += len(rows)
            if on_progress is not None and (done - reported >= PROGRESS_EVERY_ROWS or done == len(texts)):
                on_progress(done, len(texts))
                reported = done
    seconds = time.perf_counter() - started
    model.train(was_training)
    return Classified(probabilities=probabilities, seconds=seconds, batch_size=batch_size, max_length=max_length)


MEAN_POOLING = "mean of the last hidden states over the non-padding tokens"


def embed_texts(
    model: PreTrainedModel, tokenizer: Any, texts: list[str], *, batch_size: int = DEFAULT_BATCH_SIZE, max_length: int
) -> np.ndarray:
    """One vector per text (MEAN_POOLING, as sentence-transformers pools MiniLM), float64, rows in order."""
    import torch

    encoder = model.base_model if hasattr(model, "base_model") else model
    vectors = np.empty((len(texts), int(model.config.hidden_size)), dtype=np.float64)
    model.eval()
    with torch.inference_mode():
        for rows, batch in _sorted_batches(
            tokenizer, texts, batch_size=batch_size, max_length=max_length, device=model.device
        ):
            hidden = encoder(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            vectors[rows] = ((hidden * mask).sum(dim=1) / mask.sum(dim=1)).double().cpu().numpy()
    return vectors
