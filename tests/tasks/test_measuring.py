"""What the build checks around a measuring task's evaluation: the model is bound for every
capability the task needs, and the task returns its declared facts family."""

from __future__ import annotations

from pathlib import Path

import pytest

from reporter.compute import _MeasuringTask
from reporter.errors import ModelFileError
from reporter.facts import ArchitectureFacts
from reporter.runners.outcome import described_file
from reporter.spec import EmbeddingBias, FileRef
from reporter.tasks import measuring_task
from tests.tasks import fake_context


def test_a_model_not_bound_for_what_the_task_needs_is_refused_naming_the_section(tmp_path: Path) -> None:
    task = measuring_task("sentence_embedding")
    assert task is not None
    section = EmbeddingBias(word_sets=FileRef(path="weat.json"))
    weights_only = described_file(
        tmp_path / "model.safetensors",
        ArchitectureFacts(source="load", recipe=None, module_class="(weights only)", config={}),
    )
    assert not weights_only.offers("embed_text")
    measuring = _MeasuringTask(task, section, fake_context(tmp_path, slug="encoder"), inputs=None)
    with pytest.raises(
        ModelFileError,
        match=r"model.yaml: evaluation.task: task sentence_embedding needs a model "
        r"that can embed sentences.*Fix: load the model in a format that can",
    ):
        measuring.evaluate(weights_only)
