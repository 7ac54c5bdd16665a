"""The sentence-embedding task through the task interface with a fake encoder: its inputs are
read from a word-set file before any model exists, and its effect sizes, computed from the
vectors the fake returns for each sentence, equal the papers' formula in float64. No torch."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from reporter.errors import DataError
from reporter.facts import EmbeddingBiasFacts
from reporter.spec import EmbeddingBias, FileRef
from reporter.tasks import measuring_task
from tests.extract.test_embedding_bias import reference_d
from tests.tasks import fake_context

WORD_SETS = [
    {
        "first_target": {"name": "Flowers", "words": ["aster", "clover", "daisy", "lilac"]},
        "second_target": {"name": "Insects", "words": ["ant", "flea", "gnat", "wasp"]},
        "first_attribute": {"name": "Pleasant", "words": ["love", "peace", "gift"]},
        "second_attribute": {"name": "Unpleasant", "words": ["abuse", "filth", "grief"]},
        "original_finding": {"d": "1.50"},
    }
]
TEMPLATES = ["This is {}.", "Here is {}."]


def vector(sentence: str) -> np.ndarray:
    """A fixed vector per sentence; sentences about flowers lean towards pleasant words."""
    seed = int.from_bytes(hashlib.sha256(sentence.encode()).digest()[:8], "little")
    base = np.random.default_rng(seed).normal(size=8)
    lean = np.ones(8) * (
        0.8 if any(w in sentence for w in ("aster", "clover", "daisy", "lilac", "love", "peace", "gift")) else 0
    )
    return base + lean


def test_effect_size_from_a_fake_encoder_equals_the_papers_formula(tmp_path: Path) -> None:
    (tmp_path / "weat.json").write_text(json.dumps(WORD_SETS))
    task = measuring_task("sentence_embedding")
    assert task is not None and task.needs(None) == frozenset({"embed_text"})
    section = EmbeddingBias(word_sets=FileRef(path="weat.json"), templates=TEMPLATES, permutations=1000)
    inputs = task.read_inputs(section, fake_context(tmp_path, slug="encoder"))
    asked: list[list[str]] = []

    def embed_text(sentences: list[str]) -> np.ndarray:
        asked.append(sentences)
        return np.array([vector(s) for s in sentences])

    facts = task.evaluate(SimpleNamespace(embed_text=embed_text), inputs, fake_context(tmp_path, slug="encoder"))
    assert isinstance(facts, EmbeddingBiasFacts)
    [sentences] = asked  # every distinct sentence embedded once, in one call
    assert len(sentences) == len(set(sentences)) == 2 * (4 + 4 + 3 + 3)
    [test] = facts.tests
    keys = ("first_target", "second_target", "first_attribute", "second_attribute")
    x, y, a, b = (np.array([vector(t.format(w)) for w in WORD_SETS[0][k]["words"] for t in TEMPLATES]) for k in keys)
    assert test.effect_size.value == pytest.approx(reference_d(x, y, a, b), abs=1e-12)
    assert test.effect_size.value > 0 and test.original_effect_size == 1.5
    assert test.effect_size.low <= test.effect_size.value <= test.effect_size.high
    assert [f.metric for f in task.figures(_record_with(facts))] == ["seat_effect_size", "seat_p_value"]


def test_a_word_set_file_that_is_not_one_fails_before_any_model(tmp_path: Path) -> None:
    (tmp_path / "weat.json").write_text(json.dumps([{"first_target": {}}]))
    task = measuring_task("sentence_embedding")
    assert task is not None
    section = EmbeddingBias(word_sets=FileRef(path="weat.json"))
    with pytest.raises(DataError, match=r"evaluation\.word_sets: .* is not a WEAT word-set file"):
        task.read_inputs(section, fake_context(tmp_path, slug="encoder"))


def _record_with(facts: EmbeddingBiasFacts):
    """A committed example record carrying these facts as its evaluation."""
    from reporter.facts import FactsRecord
    from tests.conftest import FIXTURES

    record = json.loads((FIXTURES / "facts" / "examples-2.0" / "minilm-embeddings.json").read_text())
    record["evaluations"] = [json.loads(facts.model_dump_json())]
    return FactsRecord.model_validate(record)
