"""Built-in recipe `token_classifier`, and the one path by which the build tags sentences with a
transformers token classifier (fine-tuned in the build or loaded from published weights).

Words are split into sub-word tokens; the first sub-token of each word carries the word's tag and
the others are ignored, in training (label -100) and in prediction, the usual alignment for
BERT-style encoders. A word past the model's input length, or one the tokenizer turns into no
token at all, gets no prediction: it is tagged ``O`` and counted, so the card can say how many.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from reporter.extract.entities import OUTSIDE
from reporter.facts import EpochFacts
from reporter.runners.hyperparameters import TokenClassifierHyperparameters
from reporter.runners.pretrained import load_base_model
from reporter.runners.text_classifier import encoder_architecture, published_folder, split_rows

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel

IGNORED = -100  # the label torch's cross-entropy skips: sub-tokens after a word's first, special tokens
PROGRESS_EVERY_SENTENCES = 2000


@dataclass(frozen=True)
class Tagged:
    """Predicted IOB2 tags of every sentence, and how they were computed."""

    tags: list[list[str]]
    untagged: int  # words without a prediction (tagged O)
    seconds: float
    batch_size: int
    max_length: int


def tag_set(tags: list[list[str]]) -> list[str]:
    """The labels a model learns from training tags: ``O``, then B- and I- of every type, sorted."""
    types = sorted({tag[2:] for sentence in tags for tag in sentence if tag != OUTSIDE})
    return [OUTSIDE, *(f"{prefix}-{kind}" for kind in types for prefix in ("B", "I"))]


@dataclass(frozen=True)
class _Encoded:
    """Sentences tokenised once: the model's inputs, and each word's first token (-1: none)."""

    features: list[dict[str, list[int]]]
    first_token: list[np.ndarray]


def _optimizer(network: Any, params: TokenClassifierHyperparameters) -> Any:
    """AdamW with the head on its own learning rate (`head_learning_rate`, else the body's)."""
    import torch

    head = {id(p) for p in network.classifier.parameters()}
    body = [p for p in network.parameters() if p.requires_grad and id(p) not in head]
    return torch.optim.AdamW(
        [
            {"params": body, "lr": params.learning_rate},
            {"params": list(network.classifier.parameters()), "lr": params.head_learning_rate or params.learning_rate},
        ],
        weight_decay=params.weight_decay,
    )


def _tally(output: Any, targets: Any) -> tuple[float, int, int]:
    """(summed loss, words right, words) of one batch."""
    kept = targets != IGNORED
    words = int(kept.sum())
    right = int((output.logits.argmax(dim=-1)[kept] == targets[kept]).sum())
    return float(output.loss.detach()) * words, right, words


def _epoch(
    epoch: int,
    network: Any,
    forward: Callable[[np.ndarray], tuple[Any, Any]],
    *,
    batches: list[np.ndarray],
    generator: Any,
    validation: list[np.ndarray],
    optimizer: Any,
    scheduler: Any,
    report_step: Callable[[int, int], None],
) -> EpochFacts:
    """One pass over the training batches in a seeded order, then the held-out sentences."""
    import torch

    network.train()
    totals = np.zeros(3)
    for step, index in enumerate(torch.randperm(len(batches), generator=generator).tolist(), start=1):
        output, targets = forward(batches[index])
        output.loss.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        totals += _tally(output, targets)
        report_step(step, len(batches))
    network.eval()
    held_out = np.zeros(3)
    with torch.inference_mode():
        for rows in validation:
            held_out += _tally(*forward(rows))
    return EpochFacts(
        epoch=epoch,
        train_loss=totals[0] / max(totals[2], 1),
        train_accuracy=totals[1] / max(totals[2], 1),
        validation_loss=held_out[0] / max(held_out[2], 1),
        validation_accuracy=held_out[1] / max(held_out[2], 1),
    )


def _encode(tokenizer: Any, sentences: list[list[str]], *, max_length: int) -> _Encoded:
    encoded = tokenizer(sentences, is_split_into_words=True, truncation=True, max_length=max_length)
    features, first_token = [], []
    for row, words in enumerate(sentences):
        features.append({key: encoded[key][row] for key in encoded})
        first = np.full(len(words), -1, dtype=np.int64)
        for position, word in enumerate(encoded.word_ids(row)):
            if word is not None and first[word] < 0:
                first[word] = position
        first_token.append(first)
    return _Encoded(features=features, first_token=first_token)


def _label_rows(encoded: _Encoded, rows: np.ndarray, codes: list[np.ndarray], width: int) -> np.ndarray:
    """Labels padded to ``width``: each word's code at its first token, IGNORED elsewhere."""
    labels = np.full((len(rows), width), IGNORED, dtype=np.int64)
    for out, row in enumerate(rows):
        first = encoded.first_token[row]
        kept = first >= 0
        labels[out, first[kept]] = codes[row][kept]
    return labels


def _batch(tokenizer: Any, encoded: _Encoded, rows: np.ndarray, device: Any) -> dict[str, torch.Tensor]:
    return tokenizer.pad([encoded.features[i] for i in rows], return_tensors="pt").to(device)


def tagging_function(
    model: PreTrainedModel, tokenizer: Any, labels: list[str], *, max_length: int, batch_size: int
) -> Callable[..., Tagged]:
    """The one way the build tags sentences with a model, whether trained or loaded:
    ``(sentences, on_progress=None) -> Tagged``."""

    def tag(tokens: list[list[str]], on_progress: Callable[[int, int], None] | None = None) -> Tagged:
        return tag_sentences(
            model,
            tokenizer,
            tokens,
            labels=labels,
            max_length=max_length,
            batch_size=batch_size,
            on_progress=on_progress,
        )

    return tag


def tag_sentences(
    model: PreTrainedModel,
    tokenizer: Any,
    sentences: list[list[str]],
    *,
    labels: list[str],
    max_length: int,
    batch_size: int,
    on_progress: Callable[[int, int], None] | None = None,
) -> Tagged:
    """The most probable tag of every word, batched in order of token count under inference mode
    (the same sentences in the same batches give the same tags on every run)."""
    import torch

    encoded = _encode(tokenizer, sentences, max_length=max_length)
    order = np.argsort([len(f["input_ids"]) for f in encoded.features], kind="stable")
    codes: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * len(sentences)
    was_training = model.training
    model.eval()
    started = time.perf_counter()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            predicted = model(**_batch(tokenizer, encoded, rows, model.device)).logits.argmax(dim=-1).cpu().numpy()
            for out, row in enumerate(rows):
                first = encoded.first_token[row]
                codes[row] = np.where(first >= 0, predicted[out, np.maximum(first, 0)], -1)
            done = start + len(rows)
            if on_progress is not None and (done % PROGRESS_EVERY_SENTENCES < batch_size or done == len(order)):
                on_progress(done, len(order))
    seconds = time.perf_counter() - started
    model.train(was_training)
    return Tagged(
        tags=[[labels[c] if c >= 0 else OUTSIDE for c in row] for row in codes],
        untagged=int(sum((row < 0).sum() for row in codes)),
        seconds=seconds,
        batch_size=batch_size,
        max_length=max_length,
    )


@dataclass(frozen=True)
class TrainedTagger:
    """A token classifier fine-tuned in the build, and how it was trained."""

    model: Any
    tokenizer: Any
    labels: list[str]
    architecture: dict[str, Any]
    optimizer: str
    schedule: str
    train_rows: int
    validation_rows: int
    save: Callable[[Path], None]


BUCKET_BATCHES = 50
"""Batches per pool of shuffled sentences sorted by length (bucketing): batches then pad to
sentences of similar length, which made an epoch of WNUT-16 tweets 1.17x faster
(`bench/token_training.py`)."""


def _length_buckets(permutation: np.ndarray, lengths: np.ndarray, *, batch_size: int) -> list[np.ndarray]:
    """Cut shuffled sentences into pools of BUCKET_BATCHES batches, sort each pool by token count
    and batch it; the caller shuffles the batches."""
    pool = batch_size * BUCKET_BATCHES
    batches: list[np.ndarray] = []
    for start in range(0, len(permutation), pool):
        chunk = permutation[start : start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return batches


TRAIN_FIGURES = "running mean over each epoch's batches; accuracy is per word (its first sub-token's tag)"


def train(
    sentences: list[list[str]],
    tags: list[list[str]],
    *,
    hyperparameters: TokenClassifierHyperparameters,
    base_model: Path,
    seed: int,
    device: str,
    spec_path: Path,
    report_epoch: Callable[[EpochFacts], None],
    report_step: Callable[[int, int, int], None] = lambda epoch, done, total: None,
) -> TrainedTagger:
    """Fine-tune the base encoder with a token-classification head: AdamW, linear warm-up then
    decay, seeded shuffles, a held-out share of the sentences for the per-epoch validation figures."""
    import torch
    from transformers import AutoModelForTokenClassification, get_linear_schedule_with_warmup

    params = hyperparameters
    labels = tag_set(tags)
    code = {label: i for i, label in enumerate(labels)}
    val_idx, train_idx = split_rows(len(sentences), params, seed=seed)
    tokenizer, network = load_base_model(
        AutoModelForTokenClassification,
        base_model,
        where=f"{spec_path}: source.train.hyperparameters.base_model",
        device=device,
        fast=True,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id=code,
    )
    if params.freeze_embeddings:
        network.base_model.embeddings.requires_grad_(False)
    encoded = _encode(tokenizer, sentences, max_length=params.max_length)
    codes = [np.array([code[t] for t in sentence], dtype=np.int64) for sentence in tags]

    def forward(rows: np.ndarray) -> tuple[Any, torch.Tensor]:
        batch = _batch(tokenizer, encoded, rows, network.device)
        targets = torch.from_numpy(_label_rows(encoded, rows, codes, batch["input_ids"].shape[1])).to(network.device)
        return network(**batch, labels=targets), targets

    steps = params.epochs * -(-len(train_idx) // params.batch_size)
    optimizer = _optimizer(network, params)
    scheduler = get_linear_schedule_with_warmup(optimizer, round(steps * params.warmup_fraction), steps)
    generator = torch.Generator().manual_seed(seed)
    lengths = np.array([len(f["input_ids"]) for f in encoded.features])
    for epoch in range(1, params.epochs + 1):
        report_epoch(
            _epoch(
                epoch,
                network,
                forward,
                batches=_length_buckets(
                    train_idx[torch.randperm(len(train_idx), generator=generator).numpy()],
                    lengths,
                    batch_size=params.batch_size,
                ),
                generator=generator,
                validation=[val_idx[i : i + params.batch_size] for i in range(0, len(val_idx), params.batch_size)],
                optimizer=optimizer,
                scheduler=scheduler,
                report_step=partial(report_step, epoch),
            )
        )
    network.eval()
    return TrainedTagger(
        model=network,
        tokenizer=tokenizer,
        labels=labels,
        architecture=encoder_architecture(network, params, head=f"token classification, {len(labels)} IOB2 tags"),
        optimizer=f"AdamW (lr={params.learning_rate}, weight_decay={params.weight_decay})"
        + (f", head lr={params.head_learning_rate}" if params.head_learning_rate else "")
        + (", embedding layer frozen" if params.freeze_embeddings else ""),
        schedule=f"linear warm-up over {params.warmup_fraction:.0%} of {steps} steps, then linear decay",
        train_rows=len(train_idx),
        validation_rows=len(val_idx),
        save=published_folder(network, tokenizer, max_length=params.max_length),
    )
