"""Multiple-choice scoring as lm-evaluation-harness's `loglikelihood` requests compute it, in fewer
forward passes.

Each (context, continuation) pair is encoded as the harness encodes it: spaces at the end of the
context move to the start of the continuation; the continuation's tokens are those of the whole
text after the context's own tokens; no start token is added (the harness's default for models
other than Gemma); the input is the context's and the continuation's tokens but the last, cut from
the left to the model's length. The log-softmax is taken in float64 at each continuation token.

An empty context is the model's start token, as the harness puts its prefix token there
(CrowS-Pairs and StereoSet score whole sentences that way).

What differs is only how much is computed: when every choice of an item is one token after the
same context (MMLU's ` A` … ` D`), one forward pass over the context scores them all, the
harness's input for each being that same context; when an item's choices are longer and share a
long context (BBQ's twelve answers after a paragraph), the context runs once and its keys and
values are reused by every choice; other sequences run in batches sorted by length, right-padded
with an attention mask. None of this changes a figure beyond float rounding (the tests check a
plain float64 forward pass, one sequence at a time).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

CHOICE_BATCH = 16
"""Sequences per forward pass at most."""
SHARED_CONTEXT_SAVING = 64
"""Context tokens an item's choices must save, counted over its choices but the first, before its
context runs once with a key-value cache: below that, batching across items is as fast."""
BATCH_TOKENS = 2048
"""Padded tokens per forward pass at most: the sequences are sorted longest first and a batch
closes before padding would pass this, so one long prompt runs alone instead of padding fifteen
short ones to its length (on MMLU's sample that halves the tokens computed)."""


@dataclass(frozen=True)
class _Sequence:
    """One forward pass's input, and which (item, choice) continuation tokens it scores."""

    tokens: list[int]
    scored: list[tuple[int, int, list[int], list[int]]]
    """(item, choice, positions in `tokens` whose next-token distribution is read, the target tokens)."""


def encode_pair(
    encode: Callable[[str], list[int]], context: str, continuation: str, start: int
) -> tuple[list[int], list[int]]:
    """The context's and the continuation's tokens, as lm-evaluation-harness's `_encode_pair` makes
    them; an empty context is the ``start`` token."""
    if context == "":
        return [start], encode(continuation)
    spaces = len(context) - len(context.rstrip())
    if spaces:
        continuation, context = context[-spaces:] + continuation, context[:-spaces]
    whole, head = encode(context + continuation), encode(context)
    return head, whole[len(head) :]


def choice_log_likelihoods(
    model: Any,
    encode: Callable[[str], list[int]],
    items: list[tuple[str, list[str]]],
    *,
    start: int,
    batch_size: int,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[np.ndarray]:
    """log P(continuation | context) of every continuation of every item, float64."""
    limit = int(getattr(model.config, "max_position_embeddings", 0) or 2048)
    results = [np.zeros(len(continuations)) for _, continuations in items]
    sequences, shared = [], []
    for index, (context, continuations) in enumerate(items):
        pairs = [encode_pair(encode, context, continuation, start) for continuation in continuations]
        if _worth_sharing(pairs, limit):
            shared.append((index, pairs))
        else:
            sequences.extend(_sequences(index, pairs, limit))
    total, done = len(sequences) + len(shared), 0
    parameters = inspect.signature(model.forward).parameters
    takes_logits_to_keep = "logits_to_keep" in parameters
    cache_argument = "cache" if "cache" in parameters else "past_key_values"
    for batch in _batches(sorted(sequences, key=lambda s: -len(s.tokens)), batch_size):
        for sequence, (kept, logits) in zip(batch, _forward(model, batch, takes_logits_to_keep), strict=True):
            for item, choice, positions, targets in sequence.scored:
                rows = [kept.index(position) for position in positions]
                results[item][choice] = float(_log_softmax_at(logits[rows], targets).sum())
        done += len(batch)
        if on_progress is not None:
            on_progress(done, total)
    for index, pairs in shared:
        results[index] = _shared_context(model, pairs[0][0], [tail for _, tail in pairs], cache_argument)
        done += 1
        if on_progress is not None:
            on_progress(done, total)
    return results


def _worth_sharing(pairs: list[tuple[list[int], list[int]]], limit: int) -> bool:
    """Whether an item's choices should reuse one run of their common context: they share it, some
    choice is longer than a token, the reuse saves :data:`SHARED_CONTEXT_SAVING` tokens, and every
    input fits the model uncut."""
    head = pairs[0][0]
    return (
        all(other == head for other, _ in pairs)
        and any(len(tail) > 1 for _, tail in pairs)
        and (len(pairs) - 1) * (len(head) - 1) >= SHARED_CONTEXT_SAVING
        and len(head) + max(len(tail) for _, tail in pairs) - 1 <= limit
    )


def _shared_context(model: Any, head: list[int], tails: list[list[int]], named: str) -> np.ndarray:
    """Each continuation's log-likelihood after one shared context: the context but its last token
    runs once into a key-value cache, copied for every choice; each choice's input is then the
    context's last token and its own tokens but the last, right-padded; the harness's input for each
    is the same context and choice, so the same positions predict the same tokens. ``named`` is the
    model's name for the cache: `cache` in transformers 5, `past_key_values` before."""
    import torch

    device = next(model.parameters()).device
    before = len(head) - 1
    inputs = [[head[-1], *tail[:-1]] for tail in tails]
    longest = max(len(tokens) for tokens in inputs)
    ids = torch.zeros((len(inputs), longest), dtype=torch.long)
    mask = torch.zeros((len(inputs), before + longest), dtype=torch.long)
    mask[:, :before] = 1
    for row, tokens in enumerate(inputs):
        ids[row, : len(tokens)] = torch.tensor(tokens)
        mask[row, before : before + len(tokens)] = 1
    with torch.inference_mode():
        cache = getattr(model(input_ids=torch.tensor([head[:-1]], device=device), use_cache=True), named)
        cache.batch_repeat_interleave(len(inputs))
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device), **{named: cache}).logits
    return np.array([float(_log_softmax_at(logits[row, : len(tail)], tail).sum()) for row, tail in enumerate(tails)])


def _batches(longest_first: list[_Sequence], batch_size: int) -> list[list[_Sequence]]:
    """Consecutive batches of at most ``batch_size`` sequences and :data:`BATCH_TOKENS` padded tokens."""
    batches: list[list[_Sequence]] = []
    for sequence in longest_first:
        current = batches[-1] if batches else None
        if current and len(current) < batch_size and (len(current) + 1) * len(current[0].tokens) <= BATCH_TOKENS:
            current.append(sequence)
        else:
            batches.append([sequence])
    return batches


def _sequences(index: int, pairs: list[tuple[list[int], list[int]]], limit: int) -> list[_Sequence]:
    """The forward passes an item needs: one for all its choices when each is one token after the
    same context, else one per choice."""
    heads = {tuple(head) for head, _ in pairs}
    if len(heads) == 1 and all(len(tail) == 1 for _, tail in pairs):
        head = pairs[0][0][-limit:]
        return [_Sequence(head, [(index, choice, [len(head) - 1], tail) for choice, (_, tail) in enumerate(pairs)])]
    found = []
    for choice, (head, tail) in enumerate(pairs):
        tokens = (head + tail)[-(limit + 1) :][:-1]
        positions = list(range(len(tokens) - len(tail), len(tokens)))
        found.append(_Sequence(tokens, [(index, choice, positions, tail)]))
    return found


def _forward(model: Any, batch: list[_Sequence], takes_logits_to_keep: bool) -> list[tuple[list[int], Any]]:
    """Each sequence's logits at the positions it scores (and those positions), from one
    right-padded batch. Only those positions go through the output layer when the model can be
    told so (transformers' `logits_to_keep`): for MMLU one position of some hundreds, which saves
    most of the work of a small model's 49,152-word output layer."""
    import torch

    device = next(model.parameters()).device
    kept = [sorted({p for _, _, positions, _ in s.scored for p in positions}) for s in batch]
    longest = max(len(s.tokens) for s in batch)
    ids = torch.zeros((len(batch), longest), dtype=torch.long)
    mask = torch.zeros((len(batch), longest), dtype=torch.long)
    wanted = torch.zeros((len(batch), longest), dtype=torch.bool)
    for row, sequence in enumerate(batch):
        ids[row, : len(sequence.tokens)] = torch.tensor(sequence.tokens)
        mask[row, : len(sequence.tokens)] = 1
        wanted[row, kept[row]] = True
    options = {"logits_to_keep": wanted.to(device)} if takes_logits_to_keep else {}
    with torch.inference_mode():
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device), **options).logits
    if options:  # one row per kept position, sequence after sequence
        return list(zip(kept, torch.split(logits, [len(k) for k in kept]), strict=True))
    return [(k, logits[row, k]) for row, k in enumerate(kept)]


def _log_softmax_at(logits: Any, targets: list[int]) -> np.ndarray:
    import torch

    return log_softmax_at(logits, torch.tensor(targets, device=logits.device))


def log_softmax_at(logits: Any, targets: Any) -> np.ndarray:
    """log P(target) per position, with the log-softmax taken in float64: in float32 it is about
    1.4e-5 nats per token off (perplexity 77.1553 against 77.1565 on a short text)."""
    import torch

    wide = logits.double()
    return (wide.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(wide, dim=-1)).cpu().numpy()
