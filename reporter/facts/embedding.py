"""Social bias in an encoder's sentence embeddings (SEAT association tests)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reporter.facts.base import Fact, Interval, TaskFacts


class AssociationTestFacts(Fact):
    """One Sentence Encoder Association Test: targets X, Y and attributes A, B in sentence templates."""

    name: str
    targets: list[str] = Field(description="Names of the target word sets X and Y.")
    attributes: list[str] = Field(description="Names of the attribute word sets A and B.")
    words: list[int] = Field(description="Words in X, Y, A and B.")
    sentences: list[int] = Field(description="Sentences embedded for X, Y, A and B (words times templates).")
    effect_size: Interval = Field(description="Caliskan's d (ddof=1), with a bootstrap interval over sentences.")
    p_value: float = Field(description="One-sided permutation p-value of the test statistic.")
    p_value_method: Literal["exact", "sampled"] = Field(
        description="exact: every equal split of X and Y; sampled: seeded random splits, (1 + hits) / (1 + samples)."
    )
    partitions: int = Field(description="Splits enumerated (exact) or sampled.")
    original_effect_size: float | None = Field(
        description="d of the human Implicit Association Test the word sets come from, where published."
    )


class EmbeddingBiasFacts(TaskFacts):
    """Social bias in an encoder's sentence embeddings, measured in the build."""

    kind: Literal["sentence_embedding"] = "sentence_embedding"
    method: str
    word_sets: str = Field(description="Where the word sets were read from, with the file's SHA-256.")
    templates: list[str]
    pooling: str = Field(description="How token vectors became one sentence vector.")
    bootstrap_samples: int
    tests: list[AssociationTestFacts]
