"""Decoder language models run by the build: log-likelihoods recomputed directly with torch in
float64, windows, batching, greedy completions, a build of a causal-LM folder end to end, and the
example's real GGUF model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from reporter.runners.language_model import language_scoring, load_causal_lm, windows_of
from tests.conftest import DOCUMENTS, SMOLLM2, TRAINING_TEXT, evaluation_of, reporter

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def loaded_tiny(tiny_causal_lm: Path):
    return load_causal_lm(tiny_causal_lm, gguf=False, spec_path=Path("spec.yaml"), device="cpu")


def oracle_log_probabilities(model, ids: list[int]) -> np.ndarray:
    """log P(token i | tokens < i) for one sequence, one forward pass, log-softmax in float64."""
    with torch.inference_mode():
        logits = model(input_ids=torch.tensor([ids])).logits[0].double()
    return torch.log_softmax(logits[:-1], dim=-1).gather(-1, torch.tensor(ids[1:]).unsqueeze(-1)).squeeze(-1).numpy()


def test_windows_predict_every_token_once() -> None:
    ids = list(range(20))
    windows = windows_of(ids, 8)
    assert windows == [ids[0:8], ids[7:15], ids[14:20]]
    assert sum(len(w) - 1 for w in windows) == len(ids) - 1
    assert windows_of([5], 8) == [[5]] and windows_of([5, 6], 8) == [[5, 6]]


def test_document_losses_equal_a_direct_float64_computation(loaded_tiny) -> None:
    model, tokenizer = loaded_tiny
    scoring = language_scoring(model, tokenizer, batch_size=2, max_new_tokens=4, chat_template=False)
    start = tokenizer.bos_token_id
    for window in (256, 9):
        losses, tokens = scoring.document_losses(DOCUMENTS, window)
        for document, loss, count in zip(DOCUMENTS, losses, tokens, strict=True):
            ids = [start, *tokenizer(document, add_special_tokens=False)["input_ids"]]
            expected = -sum(oracle_log_probabilities(model, w).sum() for w in windows_of(ids, window))
            assert count == len(ids) - 1
            assert loss == pytest.approx(expected, rel=1e-5)
    one_at_a_time = language_scoring(model, tokenizer, batch_size=1, max_new_tokens=4, chat_template=False)
    assert np.allclose(
        one_at_a_time.document_losses(DOCUMENTS, 9)[0], scoring.document_losses(DOCUMENTS, 9)[0], rtol=1e-5
    )


def test_one_text_at_a_time_equals_the_float64_log_softmax_to_the_last_digits(loaded_tiny) -> None:
    """The log-softmax is taken in float64 (in float32 it was about 1.4e-5 nats per token off), so
    a text scored alone, on the same float32 logits, equals the float64 oracle to rounding."""
    model, tokenizer = loaded_tiny
    scoring = language_scoring(model, tokenizer, batch_size=1, max_new_tokens=4, chat_template=False)
    losses, _ = scoring.document_losses(DOCUMENTS, 256)
    for document, loss in zip(DOCUMENTS, losses, strict=True):
        ids = [tokenizer.bos_token_id, *tokenizer(document, add_special_tokens=False)["input_ids"]]
        assert loss == pytest.approx(-oracle_log_probabilities(model, ids).sum(), rel=1e-12)


def test_continuations_and_greedy_completions(loaded_tiny) -> None:
    model, tokenizer = loaded_tiny
    scoring = language_scoring(model, tokenizer, batch_size=4, max_new_tokens=5, chat_template=False)
    pairs = [("John", " is associated with executive."), ("Amy", " is associated with executive.")]
    found = scoring.continuation_log_probabilities(pairs)
    for (prefix, continuation), value in zip(pairs, found, strict=True):
        head = [tokenizer.bos_token_id, *tokenizer(prefix, add_special_tokens=False)["input_ids"]]
        tail = tokenizer(continuation, add_special_tokens=False)["input_ids"]
        expected = oracle_log_probabilities(model, head + tail)[-len(tail) :].sum()
        assert value == pytest.approx(expected, rel=1e-5)
    [(completion, count)] = scoring.complete(["Once upon a time"])
    ids = tokenizer("Once upon a time", add_special_tokens=False)["input_ids"]
    for _ in range(5):  # greedy by hand: the most likely next token, five times
        with torch.inference_mode():
            ids.append(int(model(input_ids=torch.tensor([ids])).logits[0, -1].argmax()))
    assert count == 5 and completion == tokenizer.decode(ids[-5:], skip_special_tokens=True)
    assert scoring.complete(["Once upon a time"]) == [(completion, count)]


def test_a_causal_lm_folder_is_measured_and_published(lm_project: Path) -> None:
    root = lm_project
    facts = json.loads((root / "build" / "facts" / "tiny-lm.json").read_text())
    lm = evaluation_of(facts, "text_generation")
    assert lm["model_class"] == "LlamaForCausalLM" and facts["architecture"]["module_class"] == "LlamaForCausalLM"
    ppl = lm["perplexity"]
    assert (ppl["documents"], ppl["documents_in_file"], ppl["sampled"], ppl["window"]) == (2, 3, True, 16)
    assert ppl["perplexity"]["low"] <= ppl["perplexity"]["value"] <= ppl["perplexity"]["high"]
    from reporter.extract.explanations import explained_rows
    from tests.extract.test_ngram_overlap import brute_force

    scored = [DOCUMENTS[i] for i in explained_rows(len(DOCUMENTS), sample=2, seed=1)]  # the spec's sample
    oracle, total, hits = brute_force(TRAINING_TEXT, scored)
    overlap = lm["overlap"]
    assert (overlap["documents"], overlap["train_source"], overlap["n"]) == (2, "training-text", 13)
    assert (overlap["overlapping"]["rows"], overlap["ngrams"], overlap["ngrams_in_training"]) == (
        sum(oracle),
        total,
        hits,
    )
    assert facts["overlap"]["not_reported"].startswith("a language model's evaluation documents")
    [category] = lm["bias_probe"]["categories"]
    assert category["pairs"] == 8 and category["sampled"] and category["category"].startswith("6. Male names")
    [sample] = lm["samples"]["outputs"]
    assert sample["tokens"] <= 6
    assert facts["weights"]["parameters_total"] > 0 and facts["weights"]["quantization"]["not_reported"]
    component = {c["key"]: c for c in facts["openness"]["components"]}
    assert component["sample_outputs"]["status"] == "open" and component["evaluation_results"]["status"] == "open"
    card = (root / "site_src" / "models" / "tiny-lm" / "index.md").read_text()
    assert "<script>" not in card and "&lt;script&gt;alert\\(1\\)&lt;/script&gt; Tell me \\| a story" in card
    assert "**Perplexity** on 2 documents" in card and "Likelihood bias probe" in card
    published = root / "site" / "models" / "tiny-lm" / "facts.json"
    verified = reporter("verify", str(root / "models" / "tiny-lm" / "model.yaml"), str(published), cwd=root)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_the_packaged_smollm2_gguf_answers_and_scores_like_torch() -> None:
    """The example's model as the build loads it: dequantised by transformers from the GGUF file."""
    model, tokenizer = load_causal_lm(SMOLLM2, gguf=True, spec_path=Path("spec.yaml"), device="cpu")
    assert type(model).__name__ == "LlamaForCausalLM" and model.num_parameters() == 134_515_008
    scoring = language_scoring(model, tokenizer, batch_size=2, max_new_tokens=8, chat_template=False)
    [(completion, _)] = scoring.complete(["The capital of France is"])
    assert completion.strip().startswith("Paris")
    losses, tokens = scoring.document_losses(DOCUMENTS[:2], 256)
    for document, loss in zip(DOCUMENTS[:2], losses, strict=True):
        ids = [tokenizer.bos_token_id, *tokenizer(document, add_special_tokens=False)["input_ids"]]
        assert loss == pytest.approx(-oracle_log_probabilities(model, ids).sum(), rel=1e-5)
