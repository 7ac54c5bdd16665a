"""Near-duplicate texts between training and evaluation, against a brute-force Jaccard on every pair,
and a tagger's sentence overlap with its entity scores against seqeval's on the unseen sentences."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from seqeval.metrics import f1_score, precision_score, recall_score
from seqeval.scheme import IOB2

from reporter.datasets import LabelledData
from reporter.extract.near_duplicates import THRESHOLD, near_duplicate_mask
from reporter.extract.overlap import extract_overlap
from reporter.facts import Interval, NearDuplicateFacts
from reporter.runners.outcome import WordTagger
from reporter.tasks.token_classification_measures import Sentences
from reporter.tasks.token_classification_overlap import TagRecorder, sentence_overlap
from tests.conftest import REPO

WNUT = REPO / "models" / "wnut16-minilm-ner"


def word_trigrams(text: str) -> set[tuple[str, ...]]:
    """The oracle's own shingles: word triples of the case-folded text, the whole text when shorter."""
    words = text.casefold().split()
    if len(words) <= 3:
        return {tuple(words)}
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def brute_force(train: list[str], evaluation: list[str]) -> np.ndarray:
    """Per evaluation text: some training text shares ≥ THRESHOLD of the pair's shingles (every pair compared)."""
    train_sets = [word_trigrams(t) for t in train]
    found = []
    for text in evaluation:
        own = word_trigrams(text)
        found.append(any(len(own & other) / len(own | other) >= THRESHOLD for other in train_sets))
    return np.array(found)


def edited(text: str, generator: np.random.Generator, edits: int) -> str:
    """The text with ``edits`` of its words replaced by a word of no tweet."""
    words = text.split()
    for position in generator.choice(len(words), size=min(edits, len(words)), replace=False):
        words[position] = f"zz{generator.integers(10**6)}"
    return " ".join(words)


@pytest.fixture(scope="module")
def tweets() -> tuple[list[str], list[str]]:
    """Real WNUT-16 training tweets, and evaluation texts: real development tweets, and training
    tweets with 0 to 4 words replaced, so that similarities spread across the threshold."""
    train = pd.read_csv(WNUT / "train.csv")["tokens"].tolist()[:1500]
    generator = np.random.default_rng(7)
    evaluation = pd.read_csv(WNUT / "dev.csv")["tokens"].tolist()[:300]
    for i in generator.choice(len(train), size=300, replace=False):
        evaluation.append(edited(train[i], generator, edits=int(generator.integers(0, 5))))
    return train, evaluation


def test_the_mask_equals_a_brute_force_jaccard_on_every_pair(tweets: tuple[list[str], list[str]]) -> None:
    train, evaluation = tweets
    normalised = [" ".join(t.casefold().split()) for t in evaluation]
    search = near_duplicate_mask([" ".join(t.casefold().split()) for t in train], normalised)
    oracle = brute_force(train, evaluation)
    assert search.mask.tolist() == oracle.tolist()
    assert 50 < oracle.sum() < 300  # edited copies fall on both sides of the threshold
    assert 0 < search.miss_probability < 1e-4


def test_every_copy_of_a_repeated_text_is_marked_and_short_texts_compare_whole() -> None:
    train = ["the cat sat on the mat today", "hi there"]
    evaluation = ["the cat sat on the mat today", "x y z", "the cat sat on the mat today", "hi there"]
    search = near_duplicate_mask(train, evaluation)
    assert search.mask.tolist() == [True, False, True, True]


def test_near_duplicates_leave_the_figures_without_overlap(tweets: tuple[list[str], list[str]]) -> None:
    """A text classifier's rows: the figures without overlap are over rows that match neither
    exactly nor nearly, and the count of those rows is stated."""
    train, evaluation = tweets

    def rows(texts: list[str]) -> LabelledData:
        frame = pd.DataFrame({"text": texts})
        return LabelledData(features=frame, labels=np.arange(len(texts)) % 2, sensitive=frame[[]])

    kept_seen = []

    def figures_on(kept: np.ndarray) -> dict[str, Interval]:
        kept_seen.append(kept)
        return {"accuracy": Interval(value=float(kept.mean()), low=0.0, high=1.0)}

    facts = extract_overlap(
        rows(train),
        rows(evaluation),
        sources=("train", "test"),
        headline={"accuracy": Interval(value=0.5, low=0.4, high=0.6)},
        figures_on=figures_on,
        text_column="text",
    )
    oracle = brute_force(train, evaluation)
    assert isinstance(facts.near_duplicates, NearDuplicateFacts)
    assert facts.near_duplicates.count.rows == int(oracle.sum())
    [kept] = kept_seen
    assert kept.tolist() == (~oracle).tolist()  # exact duplicates are near-duplicates too
    assert facts.unseen_rows == int((~oracle).sum())


def test_a_taggers_scores_without_overlap_are_seqevals_on_the_unseen_sentences() -> None:
    """Sentences of the real WNUT-16 files, some evaluation sentences copied from training; the
    tagger is a stand-in that returns each sentence's gold tags with every third entity dropped
    (a real recogniser's figures are checked by the example build), recorded as the task's pass is."""
    train_frame = pd.read_csv(WNUT / "train.csv").head(400)
    dev_frame = pd.concat([pd.read_csv(WNUT / "dev.csv").head(200), train_frame.head(40)], ignore_index=True)

    def sentences(frame: pd.DataFrame) -> Sentences:
        return Sentences(tokens=[t.split() for t in frame["tokens"]], tags=[t.split() for t in frame["tags"]])

    train, evaluation = sentences(train_frame), sentences(dev_frame)
    gold_of = {tuple(tokens): tags for tokens, tags in zip(evaluation.tokens, evaluation.tags, strict=True)}

    def degraded(tokens: list[str]) -> list[str]:
        tags = list(gold_of[tuple(tokens)])
        return ["O" if i % 3 == 0 and tag.startswith("B-") else tag for i, tag in enumerate(tags)]

    recorder = TagRecorder()
    stand_in = WordTagger(
        tag=lambda tokens, on_progress=None: SimpleNamespace(tags=[degraded(t) for t in tokens]), labels=[]
    )
    recorder.wrap(stand_in).tag(evaluation.tokens)
    facts = sentence_overlap(train, evaluation, recorder, column="tokens", sources=("train", "dev"), samples=200)
    assert facts.features_only.rows == 40 and facts.with_label.rows == 40
    unseen = list(range(200))
    gold = [evaluation.tags[i] for i in unseen]
    predicted = [recorder.tags[tuple(evaluation.tokens[i])] for i in unseen]
    oracle = {
        "entity_f1_strict": f1_score(gold, predicted, mode="strict", scheme=IOB2),
        "entity_precision_strict": precision_score(gold, predicted, mode="strict", scheme=IOB2),
        "entity_recall_strict": recall_score(gold, predicted, mode="strict", scheme=IOB2),
        "entity_f1_conlleval": f1_score(gold, predicted),
    }
    shown = {f.metric: f.value for f in facts.without_overlap}
    assert {metric: shown[metric] for metric in oracle} == pytest.approx(oracle, abs=1e-12)
    assert 0 < shown["entity_recall_strict"] < 1
    assert facts.unseen_rows == 200 and facts.normalisation.startswith("each sentence's tokens")
