"""What a data source is made of, in the terms of the EU template for the public summary of
training content (July 2025): its modality, its size in the template's unit and the template's
size band, and for each column of free text the languages of its documents.

Languages come from py3langid, an offline identifier whose model ships in its package (an LZMA'd
numpy archive, no pickle), one decision per document; shares of at least 1 % are listed, the rest
summed as other. Only columns the spec declares free text are read (a language model's documents,
a text classifier's input, a tagger's sentences): the values of a tabular column (`Private`,
`Bachelors`) are labels, not language.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata

import numpy as np
import pandas as pd

from reporter.facts import CompositionFacts, LanguageShare, NotReported, TextColumnComposition

LISTED_SHARE = 0.01
IDENTIFIED_DOCUMENTS = 5_000
"""Documents the identifier reads per column at most (a seeded sample beyond): 5,000 take about
a quarter of a second."""
TEXT_BANDS = ((1e9, "Less than 1 billion tokens"), (1e13, "1 billion to 10 trillion tokens"))
LARGEST_TEXT_BAND = "More than 10 trillion tokens"
NO_IDENTIFIER = "languages are identified with py3langid, which is not installed (install reporter[composition])"
WORDS_UNIT = "words, split on white space (no tokenizer at hand; a text has more tokens than words)"
TokenCounter = tuple[str, Callable[[list[str]], int]]
"""A tokenizer's name and a function counting the tokens of documents."""


def text_band(tokens: int) -> str:
    """The EU template's size band for text of ``tokens`` tokens."""
    return next((band for limit, band in TEXT_BANDS if tokens < limit), LARGEST_TEXT_BAND)


def language_shares(documents: list[str]) -> tuple[list[LanguageShare], float]:
    """Each document's language; the languages of at least 1 % of them, largest first (ties by
    code), and the share of the rest."""
    import py3langid

    counts = pd.Series([py3langid.classify(document)[0] for document in documents]).value_counts()
    total = int(counts.sum())
    listed = sorted(
        ((str(code), int(n)) for code, n in counts.items() if n / total >= LISTED_SHARE), key=lambda c: (-c[1], c[0])
    )
    shares = [LanguageShare(language=code, documents=n, share=n / total) for code, n in listed]
    return shares, 1.0 - sum(share.documents for share in shares) / total


def column_composition(values: pd.Series, column: str, tokens: TokenCounter | None) -> TextColumnComposition:
    """One text column: documents, words, tokens and languages (on a seeded sample of at most
    :data:`IDENTIFIED_DOCUMENTS` documents)."""
    documents = [str(v) for v in values.dropna() if str(v).strip()]
    chosen = documents
    if len(documents) > IDENTIFIED_DOCUMENTS:
        picked = np.sort(np.random.default_rng(0).choice(len(documents), IDENTIFIED_DOCUMENTS, replace=False))
        chosen = [documents[i] for i in picked]
    languages, other = language_shares(chosen) if chosen else ([], 0.0)
    return TextColumnComposition(
        column=column,
        documents=len(documents),
        words=sum(len(document.split()) for document in documents),
        tokens=tokens[1](documents) if tokens else None,
        tokenizer=tokens[0] if tokens else None,
        identified=len(chosen),
        languages=languages,
        other_share=other,
        identifier=f"py3langid {metadata.version('py3langid')}",
    )


def extract_composition(
    frame: pd.DataFrame, text_columns: list[str], tokens: TokenCounter | None, *, images: bool = False
) -> CompositionFacts | NotReported:
    """The source's composition; its text columns are those of ``text_columns`` it holds, and its
    rows are ``images`` (an image classifier's data, in files or as pixel columns)."""
    columns = [column for column in text_columns if column in frame.columns]
    rows = len(frame)
    if images:
        return CompositionFacts(
            modality="image", rows=rows, text_columns=[], size=f"{rows:,} images", size_band="not banded"
        )
    if not columns:
        return CompositionFacts(
            modality="tabular", rows=rows, text_columns=[], size=f"{rows:,} rows", size_band="not banded"
        )
    try:
        import py3langid  # noqa: F401
    except ImportError:
        return NotReported(not_reported=NO_IDENTIFIER)
    found = [column_composition(frame[column], column, tokens) for column in columns]
    counted = [c.tokens for c in found if c.tokens is not None]
    if len(counted) == len(found):
        total, unit = sum(counted), f"tokens ({found[0].tokenizer})"
    else:
        total, unit = sum(c.words for c in found), WORDS_UNIT
    return CompositionFacts(
        modality="text", rows=rows, text_columns=found, size=f"{total:,} {unit}", size_band=text_band(total)
    )
