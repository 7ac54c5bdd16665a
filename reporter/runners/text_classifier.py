"""Built-in recipe `text_classifier`: fine-tune a transformers encoder on rows written as text.

Each row becomes ``"column: value; column: value; …"`` so a pretrained language model can be
compared with a tabular network on the same rows and groups. The base model is read from a local
folder only (never a hub), with remote code disabled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from reporter.facts import EpochFacts
from reporter.runners.attributions import text_attributor
from reporter.runners.hyperparameters import TextClassifierHyperparameters
from reporter.runners.inference import classify_texts
from reporter.runners.pretrained import load_base_model
from reporter.runners.recipes import TrainedModel, TrainingContext

SEPARATOR = "; "


def row_pieces(frame: pd.DataFrame) -> list[list[str]]:
    """Per row, one ``column: value`` piece per column; missing values are written as 'unknown'."""
    columns = [str(c).replace("_", " ").replace("-", " ") for c in frame.columns]
    return [
        [f"{name}: {'unknown' if pd.isna(value) else value}" for name, value in zip(columns, row, strict=True)]
        for row in frame.itertuples(index=False, name=None)
    ]


def rows_as_text(frame: pd.DataFrame) -> list[str]:
    """Write each row as ``column: value`` pairs joined by '; '."""
    return [SEPARATOR.join(pieces) for pieces in row_pieces(frame)]


def rows_as_text_with_spans(frame: pd.DataFrame) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """`rows_as_text`, and where each column's piece lies in each text (character start, end), so
    attributions to the text's tokens can be summed per input column."""
    texts, spans = [], []
    for pieces in row_pieces(frame):
        starts = np.cumsum([0] + [len(p) + len(SEPARATOR) for p in pieces[:-1]])
        texts.append(SEPARATOR.join(pieces))
        spans.append([(int(a), int(a) + len(p)) for a, p in zip(starts, pieces, strict=True)])
    return texts, spans


def train(context: TrainingContext) -> TrainedModel:
    """Fine-tune with AdamW and a linear warm-up/decay schedule, reporting each epoch."""
    from transformers import AutoModelForSequenceClassification, get_linear_schedule_with_warmup

    params: TextClassifierHyperparameters = context.hyperparameters
    base_path = context.resolve(params.base_model, "source.train.hyperparameters.base_model")
    device = torch.device(context.device)

    val_idx, train_idx = split_rows(len(context.train.labels), params, seed=context.seed)
    texts = rows_as_text(context.train.features)
    labels = torch.from_numpy(context.train.labels.astype(np.int64))
    tokenizer, network = load_base_model(
        AutoModelForSequenceClassification,
        base_path,
        where=f"{context.spec_path}: source.train.hyperparameters.base_model",
        device=context.device,
        num_labels=2,
    )

    encode = _row_encoder(tokenizer, texts, max_length=params.max_length, device=device)
    steps = params.epochs * -(-len(train_idx) // params.batch_size)
    optimizer = torch.optim.AdamW(network.parameters(), lr=params.learning_rate, weight_decay=params.weight_decay)
    scheduler = get_linear_schedule_with_warmup(optimizer, round(steps * params.warmup_fraction), steps)
    generator = torch.Generator().manual_seed(context.seed)

    def scores_for(encoded_texts: list[str]) -> torch.Tensor:
        classified = classify_texts(network, tokenizer, encoded_texts, max_length=params.max_length)
        return torch.from_numpy(classified.probabilities[:, 1])

    def loss_and_accuracy(indices: np.ndarray) -> tuple[float, float]:
        scores = scores_for([texts[i] for i in indices]).clamp(1e-12, 1 - 1e-12)
        y = labels[indices].double()
        loss = float(-(y * scores.log() + (1 - y) * (1 - scores).log()).mean())
        return loss, float(((scores > 0.5).double() == y).double().mean())

    for epoch in range(1, params.epochs + 1):
        permutation = train_idx[torch.randperm(len(train_idx), generator=generator).numpy()]
        batches = _batches(permutation, params.batch_size)
        train_loss, train_acc = _train_epoch(
            network,
            ((encode(batch), labels[batch].to(device)) for batch in batches),
            optimizer=optimizer,
            scheduler=scheduler,
            on_step=partial(context.report_step, total=len(batches)),
        )
        val_loss, val_acc = loss_and_accuracy(val_idx)
        context.report_epoch(
            EpochFacts(
                epoch=epoch,
                train_loss=train_loss,
                train_accuracy=train_acc,
                validation_loss=val_loss,
                validation_accuracy=val_acc,
            )
        )

    def predict_scores(frame: pd.DataFrame) -> np.ndarray:
        return scores_for(rows_as_text(frame)).numpy()

    network.config.id2label = dict(enumerate(context.label_names or ["negative", "positive"]))
    network.config.label2id = {name: code for code, name in network.config.id2label.items()}

    return TrainedModel(
        save=published_folder(network, tokenizer, max_length=params.max_length),
        attribute_rows=text_attributor(
            network, tokenizer, max_length=params.max_length, texts_and_spans=rows_as_text_with_spans, positive=1
        ),
        module=network,
        predict_scores=predict_scores,
        architecture=encoder_architecture(network, params, head="sequence classification, 2 labels"),
        optimizer=f"AdamW (lr={params.learning_rate}, weight_decay={params.weight_decay})",
        schedule=f"linear warm-up over {params.warmup_fraction:.0%} of {steps} steps, then linear decay",
        validation_rows=len(val_idx),
        train_rows=len(train_idx),
        trained_rows=np.sort(train_idx),
        train_figures="running mean over each epoch's batches",
    )


def _row_encoder(
    tokenizer: Any, texts: list[str], *, max_length: int, device: torch.device
) -> Callable[[np.ndarray], Any]:
    """The model's inputs for rows given by position: their texts, padded and truncated, on ``device``."""

    def encode(indices: np.ndarray) -> Any:
        return tokenizer(
            [texts[i] for i in indices], padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        ).to(device)

    return encode


def _batches(rows: np.ndarray, size: int) -> list[np.ndarray]:
    return [rows[start : start + size] for start in range(0, len(rows), size)]


def _train_epoch(
    network: Any,
    batches: Iterable[tuple[Any, Any]],
    *,
    optimizer: Any,
    scheduler: Any,
    on_step: Callable[[int], None],
) -> tuple[float, float]:
    """One optimiser step per (inputs, labels) batch, in order (each encoded as it is reached): the
    mean loss and accuracy over the epoch's rows (a running mean over its batches). ``on_step``
    is told how many steps are done after each."""
    network.train()
    loss_sum, correct, rows = 0.0, 0, 0
    for step, (inputs, batch_labels) in enumerate(batches, start=1):
        output = network(**inputs, labels=batch_labels)
        output.loss.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        loss_sum += float(output.loss.detach()) * len(batch_labels)
        correct += int((output.logits.argmax(dim=1) == batch_labels).sum())
        rows += len(batch_labels)
        on_step(step)
    return loss_sum / rows, correct / rows


def split_rows(rows: int, params: Any, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Validation and training positions: a seeded permutation, cut to `max_train_rows`, whose
    first `validation_fraction` (at least one row) is held out."""
    order = np.random.default_rng(seed).permutation(rows)
    if params.max_train_rows is not None:
        order = order[: params.max_train_rows]
    n_validation = max(1, round(len(order) * params.validation_fraction))
    return order[:n_validation], order[n_validation:]


def encoder_architecture(network: Any, params: TextClassifierHyperparameters, *, head: str) -> dict[str, Any]:
    """How a fine-tuned encoder is built: its base model, size and input length, and its head."""
    config = network.config
    return {
        "base_model": params.base_model.describe(),
        "model_type": config.model_type,
        "hidden_size": config.hidden_size,
        "num_hidden_layers": config.num_hidden_layers,
        "num_attention_heads": config.num_attention_heads,
        "intermediate_size": config.intermediate_size,
        "vocab_size": config.vocab_size,
        "max_length": params.max_length,
        "head": head,
    }


def published_folder(network: Any, tokenizer: Any, *, max_length: int) -> Callable[[Path], None]:
    """Saving a fine-tuned model as a transformers folder (safetensors weights and tokenizer), whose
    tokenizer keeps the input length it was evaluated with, so the folder is run as it was."""
    tokenizer.model_max_length = max_length

    def save(folder: Path) -> None:
        network.save_pretrained(folder, safe_serialization=True)
        tokenizer.save_pretrained(folder)

    return save
