"""Each data source: what its spec declares and what the build measured in it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reporter.facts.base import Fact, NotReported


class ColumnFacts(Fact):
    name: str
    dtype: str
    missing: int


class IdentifierFinding(Fact):
    """A column that looks like a direct identifier (its values are never published)."""

    column: str
    kind: str = Field(description="What its values look like (e.g. 'e-mail address'), or 'named as an identifier'.")
    share: float | None = Field(description="Share of its non-missing values that match; null when flagged by name.")


class DataMeasurements(Fact):
    """What the build measured in a data file."""

    sha256: str
    sha256_covers: str | None = Field(
        default=None, description="What the hash covers when it is not the file's bytes alone (images in files)."
    )
    rows_in_file: int
    rows_used: int
    columns: list[ColumnFacts]
    label_balance: dict[str, int] | NotReported = Field(
        description="Rows per label value; not reported when the spec names no label."
    )
    group_counts: dict[str, dict[str, int]] = Field(
        description="Rows per group of each sensitive feature; groups below the privacy threshold are "
        "left out and counted under `suppressed_groups`."
    )
    suppressed_groups: dict[str, int] = Field(description="Per sensitive feature, groups too small to publish.")
    identifiers: list[IdentifierFinding] | NotReported = Field(
        default_factory=lambda: NotReported(not_reported="not recorded: these facts predate the identifier check"),
        description="Columns that look like direct identifiers, by the rule in `identifier_rule`.",
    )
    identifier_rule: str | None = Field(default=None, description="The rule the identifier check applied.")


class LanguageShare(Fact):
    """One language among a text column's documents, as the offline identifier decides it."""

    language: str = Field(description="ISO 639-1 code, as py3langid gives it.")
    documents: int = Field(description="Documents identified as this language.")
    share: float = Field(description="Those documents over the documents identified.")


class TextColumnComposition(Fact):
    """What one column of free text holds: how much, and in which languages."""

    column: str
    documents: int = Field(description="Rows whose value is not empty.")
    words: int = Field(description="Words, split on white space, over every document.")
    tokens: int | None = Field(description="Tokens under the model's own tokenizer; null without one at hand.")
    tokenizer: str | None = Field(description="The tokenizer that counted them.")
    identified: int = Field(description="Documents the language identifier read (all, or a seeded sample).")
    languages: list[LanguageShare] = Field(description="Languages of at least 1 % of the documents, largest first.")
    other_share: float = Field(description="Share of the documents in languages below 1 % each.")
    identifier: str = Field(description="The language identifier and its version.")


class CompositionFacts(Fact):
    """A source's composition in the terms of the EU template for the public summary of training
    content: its modality, its size in the template's unit, and the template's size band."""

    modality: Literal["text", "image", "tabular"] = Field(
        description="`text` when the spec names a column of free text; `image` for an image classifier's data; "
        "else `tabular` (the template's `other`)."
    )
    rows: int
    text_columns: list[TextColumnComposition]
    size: str = Field(description="The size in the template's unit (tokens or words for text; rows otherwise).")
    size_band: str = Field(description="The template's size band for text, or `not banded` for tabular data.")


class TrainingContentFacts(Fact):
    """What the spec declares for the EU public summary of training content (never measured)."""

    provider: str = Field(description="The provider: the spec's `training_content.provider`, else its first owner.")
    provider_contact: str | None
    latest_acquisition: str | None = Field(description="When training data was last acquired (MM/YYYY).")
    crawler: str | None
    opt_out_policy: str | None
    illegal_content_measures: str | None
    other_processing: str | None


class DataSourceFacts(Fact):
    """A data source: what the author declares and, when the file is at hand, what the build measured."""

    id: str
    role: Literal["train", "evaluation"]
    location: str | None
    license: str
    origin_url: str | None
    description: str
    collection: str | None
    preprocessing: str | None
    rows_declared: int | None
    row_selection: str | None = Field(
        description="How the build chose rows from the file (split, sample), as the spec declares; null: every row."
    )
    measurements: DataMeasurements | NotReported
    acquisition: str | None = Field(
        default=None,
        description="How it was obtained, as declared, in the EU template's categories (public, licensed, "
        "private, crawled, user, synthetic, other); null: not declared.",
    )
    composition: CompositionFacts | NotReported = Field(
        default_factory=lambda: NotReported(not_reported="not measured: the record was written before schema 2.3.0"),
        description="Modality, size, size band and the languages of its text columns.",
    )


class OverlapCount(Fact):
    """How many evaluation rows also occur in the training data, under one notion of "the same row"."""

    rows: int = Field(description="Evaluation rows with at least one identical training row.")
    share: float = Field(description="Those rows over all evaluation rows.")
    low: float = Field(description="Lower end of the share's 95 % Wilson score interval.")
    high: float = Field(description="Upper end of the share's 95 % Wilson score interval.")


class OverlapFigure(Fact):
    """One overall figure over the evaluation rows that do not occur in the training data, beside
    the headline figure over all of them."""

    metric: str
    value: float
    low: float | None
    high: float | None
    headline: float = Field(description="The same metric over every evaluation row (the card's headline).")


class NearDuplicateFacts(Fact):
    """Evaluation texts with a near-duplicate among the training texts (exact duplicates included)."""

    column: str = Field(description="The text column compared (a tagger's tokens, joined by spaces).")
    method: str = Field(description="Shingles, similarity, threshold and search, in words.")
    shingle_words: int = Field(description="Words per shingle.")
    threshold: float = Field(description="Jaccard similarity of the shingle sets at or above which texts match.")
    permutations: int = Field(description="Hash functions per MinHash signature.")
    miss_probability: float = Field(
        description="Probability that the search never proposes a pair whose similarity is exactly the threshold "
        "(lower above it); every pair it counts is confirmed exactly."
    )
    count: OverlapCount


class OverlapFacts(Fact):
    """Train–test overlap: evaluation rows that also occur in the training source, and the figures
    without them, so a reader sees whether overlap inflates the headline."""

    train_source: str = Field(description="The training data source's id.")
    evaluation_source: str = Field(description="The evaluation data source's id.")
    columns: list[str] = Field(description="The feature columns compared (the model's inputs).")
    normalisation: str = Field(description="How values are normalised before rows are compared.")
    train_rows: int
    evaluation_rows: int
    with_label: OverlapCount = Field(description="Rows whose features and label both occur together in training.")
    features_only: OverlapCount = Field(description="Rows whose features occur in training, whatever the label.")
    near_duplicates: NearDuplicateFacts | NotReported | None = Field(
        default=None,
        description="Rows whose text has a near-duplicate in training; why not, when the search cannot run; null "
        "without a text column.",
    )
    examples: list[dict[str, str]] = Field(
        default_factory=list,
        description="A few evaluation rows whose inputs occur in training, as text by column (the card escapes them); "
        "see `examples_rule` for which rows and values may be shown.",
    )
    examples_rule: str | None = Field(default=None, description="Which overlapping rows and values are shown.")
    unseen_rows: int | None = Field(
        default=None,
        description="Evaluation rows that overlap in none of the ways counted: the rows the figures without overlap "
        "are over (null in records before 2.4.0, whose only way was the same inputs).",
    )
    without_overlap: list[OverlapFigure] = Field(
        description="Overall figures over the evaluation rows whose features never occur in training (and, with a "
        "text column, whose text has no near-duplicate there); empty when every row overlaps or none does."
    )
