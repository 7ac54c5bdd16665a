"""Running a decoder language model: log-likelihoods of documents and continuations, and greedy
completions. The one inference path of every causal LM the build measures, loaded from a GGUF file
(dequantised by transformers) or from a transformers causal-LM folder.

Every scored text starts with the tokenizer's start token (its BOS, else EOS), so the first word
of a text is predicted too, and a text's bytes and its predicted tokens cover the same characters.
The model runs in float32; the log-softmax of its logits is taken in float64. Padded batches
are right-padded with an attention mask, and the figures equal those of one text at a time (the
tests check this against a plain forward pass in float64).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reporter.errors import ModelFileError
from reporter.runners.choice_scoring import CHOICE_BATCH, choice_log_likelihoods, log_softmax_at


@dataclass(frozen=True)
class LanguageScoring:
    """A loaded causal language model, reduced to what the extractors need (no torch objects)."""

    model_class: str
    tokenizer: str
    start_token: str
    document_losses: Callable[[list[str], int], tuple[np.ndarray, np.ndarray]]
    """(documents, window) -> negative log-likelihood (nats, float64) and predicted tokens per document."""
    continuation_log_probabilities: Callable[[list[tuple[str, str]]], np.ndarray]
    """(prefix, continuation) pairs -> log P(continuation | start token + prefix), float64."""
    complete: Callable[[list[str]], list[tuple[str, int]]]
    """prompts -> (greedy completion, tokens generated) each."""
    count_tokens: Callable[[list[str]], int]
    """documents -> their tokens under the model's tokenizer (no start token), for the data's size."""
    choice_log_likelihoods: Callable[[list[tuple[str, list[str]]], Callable[[int, int], None] | None], list[np.ndarray]]
    """(context, continuations) items -> log P(continuation | context) per continuation, float64, as
    lm-evaluation-harness's `loglikelihood` requests compute it (:mod:`reporter.runners.choice_scoring`)."""


def load_causal_lm(path: Path, *, gguf: bool, spec_path: Path, device: str) -> tuple[Any, Any]:
    """The model (float32, on ``device``, in eval mode) and its tokenizer; never remote code.

    Raises:
        ModelFileError: the folder or file holds no causal language model or no tokenizer.
    """
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    from reporter.runners.pretrained import check_vocabulary, from_pretrained, load_tokenizer

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    folder, options = (path.parent, {"gguf_file": path.name}) if gguf else (path, dict[str, str]())
    where = f"{spec_path}: source.load.file"
    with _quiet_tqdm():  # transformers' GGUF conversion draws its own bar, ignoring its logging switch
        tokenizer = load_tokenizer(folder, where=where, fast=False, **options)
        model: Any = from_pretrained(AutoModelForCausalLM, folder, where=where, dtype="float32", **options)
    check_vocabulary(tokenizer, model, where=where)
    return model.to(device).eval(), tokenizer


@contextmanager
def _quiet_tqdm() -> Iterator[None]:
    """While transformers reads a GGUF file: silence the bar its reader draws with tqdm directly
    (build logs show the build's own progress, and a bar redrawn 272 times would fill them), and
    parse the file once. transformers builds a new `gguf.GGUFReader` for the config, the tokenizer
    and the weights; parsing SmolLM2's header (49,152 vocabulary entries) takes some 10 s each on
    two CPU cores, so the three loads share one reader. The reader is a read-only memory map."""
    import functools

    import gguf
    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    drawn, reader_class = gguf_utils.tqdm, gguf.GGUFReader
    gguf_utils.tqdm = functools.partial(drawn, disable=True)
    gguf.GGUFReader = functools.cache(reader_class)  # type: ignore[assignment, misc]  # same path, same reader
    try:
        yield
    finally:
        gguf_utils.tqdm, gguf.GGUFReader = drawn, reader_class  # type: ignore[misc]


def start_token_id(tokenizer: Any) -> int:
    for candidate in (tokenizer.bos_token_id, tokenizer.eos_token_id):
        if candidate is not None:
            return int(candidate)
    raise ModelFileError("the tokenizer declares neither a BOS nor an EOS token. Fix: save it with one")


def _token_log_probabilities(model: Any, sequences: list[list[int]], *, batch_size: int) -> list[np.ndarray]:
    """For each token sequence, log P(token i | tokens < i) for i >= 1, in float64."""
    import torch

    device = next(model.parameters()).device
    results: list[np.ndarray] = [np.empty(0)] * len(sequences)
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            longest = max(len(sequences[i]) for i in rows)
            ids = torch.zeros((len(rows), longest), dtype=torch.long)
            mask = torch.zeros((len(rows), longest), dtype=torch.long)
            for row, index in enumerate(rows):
                ids[row, : len(sequences[index])] = torch.tensor(sequences[index])
                mask[row, : len(sequences[index])] = 1
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            for row, index in enumerate(rows):
                predicted = len(sequences[index]) - 1  # one row at a time bounds the float64 copy
                results[index] = log_softmax_at(logits[row, :predicted], ids[row, 1 : predicted + 1].to(device))
    return results


def windows_of(ids: list[int], window: int) -> list[list[int]]:
    """Consecutive windows of at most ``window`` tokens that share one token each, so every token
    after the first is predicted exactly once and no window sees context from an earlier one."""
    return [ids[start : start + window] for start in range(0, max(len(ids) - 1, 1), window - 1)]


def language_scoring(
    model: Any, tokenizer: Any, *, batch_size: int, max_new_tokens: int, chat_template: bool
) -> LanguageScoring:
    """Bind a loaded model and tokenizer into the functions the extractors call."""
    start = start_token_id(tokenizer)

    def encode(text: str) -> list[int]:
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    def document_losses(documents: list[str], window: int) -> tuple[np.ndarray, np.ndarray]:
        pieces: list[list[int]] = []
        owners: list[int] = []
        for index, document in enumerate(documents):
            for piece in windows_of([start, *encode(document)], window):
                pieces.append(piece)
                owners.append(index)
        losses = np.zeros(len(documents))
        tokens = np.zeros(len(documents), dtype=np.int64)
        for owner, values in zip(owners, _token_log_probabilities(model, pieces, batch_size=batch_size), strict=True):
            losses[owner] -= values.sum()
            tokens[owner] += values.size
        return losses, tokens

    def continuation_log_probabilities(pairs: list[tuple[str, str]]) -> np.ndarray:
        sequences, shared = [], []
        for prefix, continuation in pairs:
            head, tail = [start, *encode(prefix)], encode(continuation)
            sequences.append(head + tail)
            shared.append(len(tail))
        found = _token_log_probabilities(model, sequences, batch_size=max(batch_size, 16))
        return np.array([values[-count:].sum() for values, count in zip(found, shared, strict=True)])

    def complete(prompts: list[str]) -> list[tuple[str, int]]:
        import torch

        device = next(model.parameters()).device
        outputs = []
        for prompt in prompts:
            if chat_template:
                text = tokenizer.apply_chat_template(
                    [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
                )
            else:
                text = prompt
            ids = torch.tensor([encode(text)], device=device)
            with torch.inference_mode():
                generated = model.generate(
                    input_ids=ids,
                    attention_mask=torch.ones_like(ids),
                    do_sample=False,
                    max_new_tokens=max_new_tokens,
                    pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else start,
                )
            new = generated[0, ids.shape[1] :].tolist()
            outputs.append((tokenizer.decode(new, skip_special_tokens=True), len(new)))
        return outputs

    return LanguageScoring(
        model_class=type(model).__name__,
        tokenizer=f"{type(tokenizer).__name__}, {len(tokenizer):,} tokens",
        start_token=str(tokenizer.convert_ids_to_tokens(start)),
        document_losses=document_losses,
        continuation_log_probabilities=continuation_log_probabilities,
        complete=complete,
        count_tokens=lambda documents: sum(len(encode(document)) for document in documents),
        choice_log_likelihoods=lambda items, on_progress: choice_log_likelihoods(
            model, encode, items, start=start, batch_size=max(batch_size, CHOICE_BATCH), on_progress=on_progress
        ),
    )
