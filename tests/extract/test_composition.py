"""A source's composition: language shares equal the identifier's own decisions counted by hand,
the EU template's size bands at their edges, and tabular data left unbanded."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest

from reporter.extract.composition import (
    IDENTIFIED_DOCUMENTS,
    extract_composition,
    language_shares,
    text_band,
)
from reporter.facts import CompositionFacts

py3langid = pytest.importorskip("py3langid")

DOCUMENTS = (
    ["The committee will publish its report on the river's water quality next spring."] * 60
    + ["Le comité publiera son rapport sur la qualité de l'eau de la rivière au printemps prochain."] * 30
    + ["El comité publicará su informe sobre la calidad del agua del río la próxima primavera."] * 9
    + ["Das Komitee veröffentlicht seinen Bericht über die Wasserqualität des Flusses im nächsten Frühjahr."]
)


def test_language_shares_are_the_identifiers_own_decisions_counted() -> None:
    decided = Counter(py3langid.classify(document)[0] for document in DOCUMENTS)
    shares, other = language_shares(DOCUMENTS)
    expected = sorted(((code, n) for code, n in decided.items() if n / len(DOCUMENTS) >= 0.01), key=lambda c: -c[1])
    assert [(s.language, s.documents) for s in shares] == expected
    assert [s.share for s in shares] == [n / len(DOCUMENTS) for _, n in expected]
    assert other == pytest.approx(1 - sum(n for _, n in expected) / len(DOCUMENTS), abs=1e-15)
    assert [s.language for s in shares[:3]] == ["en", "fr", "es"]


def test_languages_below_one_per_cent_are_summed_as_other() -> None:
    documents = DOCUMENTS * 2 + ["Dit is een korte Nederlandse zin over het weer van morgen."]
    shares, other = language_shares(documents)
    assert "nl" not in {s.language for s in shares} and other > 0


def test_the_eu_size_bands_at_their_edges() -> None:
    assert text_band(999_999_999) == "Less than 1 billion tokens"
    assert text_band(1_000_000_000) == "1 billion to 10 trillion tokens"
    assert text_band(9_999_999_999_999) == "1 billion to 10 trillion tokens"
    assert text_band(10_000_000_000_000) == "More than 10 trillion tokens"


def test_text_columns_are_counted_in_tokens_when_a_tokenizer_is_at_hand() -> None:
    frame = pd.DataFrame({"text": DOCUMENTS + [None, "  "], "group": ["a"] * (len(DOCUMENTS) + 2)})
    counted = extract_composition(frame, ["text", "absent"], ("whitespace", lambda docs: 2 * len(docs)))
    assert isinstance(counted, CompositionFacts) and counted.modality == "text"
    [column] = counted.text_columns
    assert column.documents == len(DOCUMENTS) and column.tokens == 2 * len(DOCUMENTS)
    assert column.words == sum(len(d.split()) for d in DOCUMENTS)
    assert counted.size == f"{2 * len(DOCUMENTS):,} tokens (whitespace)"
    words = extract_composition(frame, ["text"], None)
    assert isinstance(words, CompositionFacts) and words.size.startswith(f"{column.words:,} words")


def test_a_large_column_is_identified_on_a_seeded_sample() -> None:
    frame = pd.DataFrame({"text": DOCUMENTS * (IDENTIFIED_DOCUMENTS // len(DOCUMENTS) + 1)})
    first = extract_composition(frame, ["text"], None)
    assert isinstance(first, CompositionFacts)
    assert first.text_columns[0].identified == IDENTIFIED_DOCUMENTS < first.text_columns[0].documents
    assert extract_composition(frame, ["text"], None) == first


def test_tabular_data_is_the_templates_other_modality_in_rows() -> None:
    found = extract_composition(pd.DataFrame({"age": [1, 2, 3], "job": ["Private", "Private", "State"]}), [], None)
    assert isinstance(found, CompositionFacts)
    assert (found.modality, found.size, found.size_band, found.text_columns) == ("tabular", "3 rows", "not banded", [])
