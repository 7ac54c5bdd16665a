"""Property-based tests (hypothesis) over damaged transformers folders.

A small real BERT token classifier is saved as transformers saves a model (config, generation
config, safetensors weights, fast tokenizer files); hypothesis then damages one of its files
(truncates it, overwrites bytes, empties it or deletes it) and loads the folder as a build does.
The contract: a located `ModelFileError` that names the spec (never another exception, never a
traceback), or a loaded model whose tokenizer is the model's own (its vocabulary fits the
embedding) and whose weights are described like any other.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reporter.errors import ModelFileError
from reporter.extract.weights import extract_weights
from reporter.loaders.transformers import load_token_classifier
from reporter.runners.pretrained import MIN_VOCABULARY_SHARE
from reporter.settings import BuildSettings
from reporter.spec import load_spec
from tests.conftest import save_tiny_bert

LABELS = ["O", "B-person", "I-person", "B-geo-loc", "I-geo-loc"]
SPEC = """\
name: Tiny tagger
version: "1"
task: tests
description: A small random BERT tagger.
owners: [{name: tests}]
license: MIT
intended_uses: [tests]
out_of_scope_uses: [everything else]
limitations: [random weights]
source:
  load: {format: transformers, file: {path: tiny}}
data:
  - id: eval
    role: evaluation
    file: {path: tweets.csv}
    license: CC0-1.0
    description: Tagged sentences.
evaluation:
  task: token_classification
  tokens_column: tokens
  label: tags
"""


@pytest.fixture(scope="session")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = save_tiny_bert(tmp_path_factory.mktemp("tiny-bert") / "tiny", head="token", labels=LABELS)
    (folder / "generation_config.json").write_text(json.dumps({"max_length": 20}), encoding="utf-8")
    return folder


FILES = ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "vocab.txt",
         "tokenizer_config.json"]  # fmt: skip


@st.composite
def damages(draw: st.DrawFn) -> tuple[str, str, int, bytes]:
    """Which file, how it is damaged, where, and the bytes written there."""
    name = draw(st.sampled_from(FILES))
    how = draw(st.sampled_from(["truncate", "overwrite", "empty", "delete"]))
    return name, how, draw(st.integers(0, 4095)), draw(st.binary(min_size=1, max_size=16))


def damage(path: Path, how: str, at: int, data: bytes) -> None:
    content = path.read_bytes()
    position = at % max(len(content), 1)
    if how == "truncate":
        path.write_bytes(content[:position])
    elif how == "overwrite":
        path.write_bytes(content[:position] + data + content[position + len(data) :])
    elif how == "empty":
        path.write_bytes(b"")
    else:
        path.unlink()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damaged=damages())
def test_a_damaged_folder_is_refused_with_a_located_error_or_loaded_as_it_is(
    damaged: tuple[str, str, int, bytes], pristine: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    name, how, at, data = damaged
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(pristine, root / "tiny")
    (root / "model.yaml").write_text(SPEC, encoding="utf-8")
    (root / "tweets.csv").write_text('tokens,tags\n"Ann lives in Paris",B-person O O B-geo-loc\n', encoding="utf-8")
    damage(root / "tiny" / name, how, at, data)
    loaded = load_spec(root / "model.yaml")
    try:
        tagger = load_token_classifier(loaded, root / "tiny", device="cpu", convert_dir=root / "converted")
    except ModelFileError as exc:
        assert str(exc).startswith(str(root)), exc
        return
    rows = tagger.model.get_input_embeddings().num_embeddings
    assert MIN_VOCABULARY_SHARE * rows <= len(tagger.tokenizer) <= rows
    assert len(tagger.labels) == tagger.model.config.num_labels
    weights = extract_weights(
        tagger.described.weight_files,
        parameter_names=tagger.described.parameter_names,
        trainable_names=tagger.described.trainable_names,
        options=BuildSettings().weight_options("cpu"),
        spec_license="MIT",
    )
    assert weights.parameters_total > 0
