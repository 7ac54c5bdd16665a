"""Benchmark: what counting FLOPs costs, and why training counts its first epoch only.

Three workloads the build meters, each timed plain and under torch's FLOP counter
(`FlopCounterMode`, which reporter's job meter uses), side by side in one process:

- the tabular MLP's training (Adult's shape: 108 inputs, 64 and 32 hidden units, 29,000 rows,
  batches of 256, 8 epochs), plain, counted over its first epoch only (reporter's route), and
  counted throughout;
- a 6-layer, 384-wide encoder (MiniLM's shape) scoring 10 batches of 32 × 64 tokens;
- a 30-layer decoder (SmolLM2-135M's shape) generating 20 tokens greedily.

Random weights: the cost of counting depends on the shapes, not the values. Medians of
``--repeats`` runs; the ratio is counted over plain.

Usage: `.venv/bin/python bench/flop_counting.py [--repeats 3]`.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Callable, Iterator

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

ROWS, INPUTS, BATCH, EPOCHS = 29_000, 108, 256, 8


def mlp_training(counting: str) -> Callable[[], float]:
    """The MLP's training, counting ``none``, the ``first`` epoch or ``all`` of it; returns FLOPs."""
    features, labels = torch.randn(ROWS, INPUTS), (torch.rand(ROWS) > 0.7).float()

    def run() -> float:
        network = nn.Sequential(nn.Linear(INPUTS, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))
        optimizer = torch.optim.AdamW(network.parameters(), 1e-3, weight_decay=1e-4)
        loss = nn.BCEWithLogitsLoss()
        counter = FlopCounterMode(display=False)
        if counting != "none":
            counter.__enter__()
        for epoch in range(EPOCHS):
            for start in range(0, ROWS, BATCH):
                optimizer.zero_grad()
                loss(network(features[start : start + BATCH]).squeeze(1), labels[start : start + BATCH]).backward()
                optimizer.step()
            if epoch == 0 and counting == "first":
                counter.__exit__(None, None, None)
        if counting == "all":
            counter.__exit__(None, None, None)
        scale = EPOCHS if counting == "first" else 1
        return float(counter.get_total_flops()) * scale

    return run


def encoder_scoring() -> Callable[[], None]:
    from transformers import BertConfig, BertModel

    model = BertModel(BertConfig(hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536))
    model.eval()
    tokens = torch.randint(0, 1000, (32, 64))

    def run() -> None:
        with torch.inference_mode():
            for _ in range(10):
                model(input_ids=tokens)

    return run


def decoder_generation() -> Callable[[], None]:
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        hidden_size=576,
        intermediate_size=1536,
        num_hidden_layers=30,
        num_attention_heads=9,
        num_key_value_heads=3,
        vocab_size=49152,
    )
    model = LlamaForCausalLM(config).eval()
    prompt = torch.randint(0, 1000, (1, 20))

    def run() -> None:
        with torch.inference_mode():
            model.generate(prompt, max_new_tokens=20, min_new_tokens=20, do_sample=False)

    return run


@contextlib.contextmanager
def counted(enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    with FlopCounterMode(display=False):
        yield


def median_seconds(run: Callable[[], object], repeats: int, *, counting: bool = False) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        with counted(counting):
            run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats
    torch.manual_seed(0)
    torch.set_num_threads(1)
    rows = []
    plain = median_seconds(mlp_training("none"), repeats)
    first_flops, all_flops = mlp_training("first")(), mlp_training("all")()
    assert first_flops == all_flops, (first_flops, all_flops)  # every epoch repeats the same work
    for label, counting in (("first epoch counted (reporter)", "first"), ("every epoch counted", "all")):
        rows.append((f"MLP training, {label}", plain, median_seconds(mlp_training(counting), repeats)))
    workloads = (("encoder scoring", encoder_scoring()), ("decoder generating 20 tokens", decoder_generation()))
    for label, workload in workloads:
        rows.append((label, median_seconds(workload, repeats), median_seconds(workload, repeats, counting=True)))
    print(f"torch {torch.__version__}, 1 thread, medians of {repeats}; MLP training counts {first_flops:.4g} FLOPs")
    print(f"{'workload':<45} {'plain s':>9} {'counted s':>10} {'ratio':>7}")
    for label, base, measured in rows:
        print(f"{label:<45} {base:>9.2f} {measured:>10.2f} {measured / base:>6.2f}x")


if __name__ == "__main__":
    main()
