"""Token attributions of a transformers sequence classifier: captum's LayerIntegratedGradients on
the input embedding layer.

Each row is attributed on its own (no padding), from a baseline that keeps the special tokens
([CLS], [SEP]) and replaces every other token by the padding token, to the row's text, towards the
logit of the positive label (binary) or of the predicted class (multiclass). Integrated gradients
are complete: the attributions of a row sum to the change of that logit from the baseline to the
row, and captum's convergence delta is how far the numerical integral is from it. Each token is
tied to the input column whose ``column: value`` piece it lies in, so the extractor can sum a text
model's attributions per column of the tabular data it was written from.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from reporter.facts import NotReported

ATTRIBUTION_STEPS = (20, 50, 100)
"""Integration steps (Gauss–Legendre) tried in turn until a row's convergence delta is within
`COMPLETENESS_TOLERANCE`: each step is a forward and backward pass, and most rows need only the
first (on one MiniLM row: delta 0.09 at 10 steps, 2e-4 at 20, 6e-6 at 50)."""
COMPLETENESS_TOLERANCE = 0.01
"""Largest |convergence delta| (in logits) for a row's attributions to count as complete: their sum
is then within 0.01 of its logit change, which moves a probability near 0.5 by at most 0.25 %."""
NO_CAPTUM = "captum is not installed (install reporter[explain]); token attributions need it"
METHOD = "integrated gradients (captum LayerIntegratedGradients) on the input embedding layer"
BASELINE = "every token but the special ones ([CLS], [SEP]) replaced by the padding token"


@dataclass(frozen=True)
class RowAttributions:
    """One row's tokens (as the model saw them, truncation included) and their attributions."""

    tokens: list[str]
    columns: list[int]
    """Per token, the index of the input column its text lies in; -1 for special tokens and separators."""
    values: np.ndarray  # per token, float64
    target: str
    logit_change: float  # target logit at the row minus at the baseline
    delta: float  # captum's convergence delta: attributions' sum minus logit_change
    steps: int  # integration steps that reached the tolerance (or the most tried)


TextsAndSpans = Callable[[pd.DataFrame], tuple[list[str], list[list[tuple[int, int]]]]]
"""How rows become the model's text, and where each input column's characters lie in it."""
Attributor = Callable[[pd.DataFrame], "list[RowAttributions] | NotReported"]


def text_attributor(
    model: Any, tokenizer: Any, *, max_length: int, texts_and_spans: TextsAndSpans, positive: int | None
) -> Attributor:
    """Attributions for each row of a frame shaped like the evaluation features; ``positive`` is
    the label index attributed (binary), None for each row's predicted class (multiclass)."""

    def attribute(frame: pd.DataFrame) -> list[RowAttributions] | NotReported:
        if importlib.util.find_spec("captum") is None:
            return NotReported(not_reported=NO_CAPTUM)
        import torch
        from captum.attr import LayerIntegratedGradients

        was_training = model.training
        model.eval()

        def logits(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return model(input_ids=input_ids, attention_mask=attention_mask).logits

        integrated = LayerIntegratedGradients(logits, model.get_input_embeddings())
        texts, spans = texts_and_spans(frame)
        rows = []
        for text, row_spans in zip(texts, spans, strict=True):
            encoded = tokenizer(text, truncation=True, max_length=max_length, return_offsets_mapping=True)
            ids = torch.tensor([encoded["input_ids"]], device=model.device)
            mask = torch.ones_like(ids)
            special = tokenizer.get_special_tokens_mask(encoded["input_ids"], already_has_special_tokens=True)
            keep = torch.tensor(special, dtype=torch.bool, device=model.device)
            baseline = torch.where(keep, ids[0], torch.full_like(ids[0], tokenizer.pad_token_id)).unsqueeze(0)
            with torch.no_grad():
                target = positive if positive is not None else int(logits(ids, mask)[0].argmax())
                change = float(logits(ids, mask)[0, target] - logits(baseline, mask)[0, target])
            for steps in ATTRIBUTION_STEPS:
                attributions, delta = integrated.attribute(
                    ids,
                    baselines=baseline,
                    additional_forward_args=(mask,),
                    target=target,
                    n_steps=steps,
                    internal_batch_size=steps,
                    return_convergence_delta=True,
                )
                if abs(float(delta[0])) <= COMPLETENESS_TOLERANCE:
                    break
            rows.append(
                RowAttributions(
                    tokens=tokenizer.convert_ids_to_tokens(encoded["input_ids"]),
                    columns=[
                        -1 if is_special else _column_at(start, end, row_spans)
                        for (start, end), is_special in zip(encoded["offset_mapping"], special, strict=True)
                    ],
                    values=attributions.sum(dim=-1)[0].detach().double().cpu().numpy(),
                    target=str(model.config.id2label[target]),
                    logit_change=change,
                    delta=float(delta[0]),
                    steps=steps,
                )
            )
        model.train(was_training)
        return rows

    return attribute


def _column_at(start: int, end: int, spans: list[tuple[int, int]]) -> int:
    """The column whose piece holds the characters [start, end); -1 when none does (a separator)."""
    for index, (low, high) in enumerate(spans):
        if low <= start and end <= high and end > start:
            return index
    return -1


def whole_text(column: str, columns: list[str]) -> TextsAndSpans:
    """Input from one text column: every token belongs to that column."""
    index = columns.index(column)

    def texts_and_spans(frame: pd.DataFrame) -> tuple[list[str], list[list[tuple[int, int]]]]:
        texts = ["" if value is None else str(value) for value in frame[column].tolist()]
        spans = [[(0, 0)] * len(columns) for _ in texts]
        for text, row in zip(texts, spans, strict=True):
            row[index] = (0, len(text))
        return texts, spans

    return texts_and_spans
