"""A decoder language model: perplexity, the likelihood bias probe and sample outputs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reporter.facts.base import Fact, Interval, NotReported, TaskFacts
from reporter.facts.data import OverlapCount


class PerplexityFacts(Fact):
    """How well a language model predicts the spec's evaluation text, with intervals over documents."""

    source: str = Field(description="The data source and column holding the documents.")
    documents: int = Field(description="Documents scored.")
    documents_in_file: int
    sampled: bool = Field(description="Whether the documents are a seeded sample of the file's.")
    tokens: int = Field(description="Tokens predicted (every token of every scored document).")
    bytes: int = Field(description="UTF-8 bytes of the scored documents.")
    window: int = Field(description="Tokens per window, the start token included.")
    method: str = Field(description="How the documents were cut into windows and scored, in words.")
    perplexity: Interval = Field(description="exp(total negative log-likelihood / tokens), 95 % bootstrap interval.")
    bits_per_byte: Interval = Field(description="Total negative log-likelihood in bits / UTF-8 bytes.")


class BenchmarkCategoryFacts(Fact):
    """A benchmark's figures on the items of one category."""

    category: str
    items: int
    accuracy: Interval
    accuracy_normalised: Interval


class BenchmarkFacts(Fact):
    """A multiple-choice benchmark scored as lm-evaluation-harness scores it: each choice's
    log-likelihood after the prompt, the most likely choice taken as the answer."""

    name: str = Field(description="Short identifier (`mmlu`); figures are named `<name>_acc`, `<name>_acc_norm`.")
    title: str
    data: str = Field(description="Where the items are read from (package:path or project path).")
    sha256: str = Field(description="SHA-256 of the items file.")
    license: str
    origin_url: str | None
    description: str
    prompt_source: str = Field(description="Where the prompt format comes from, and how this one differs.")
    example: str = Field(description="The first scored item's prompt, and its continuations, as the model saw them.")
    items: int = Field(description="Items scored.")
    items_in_file: int
    sampled: bool = Field(description="Whether the items are a seeded sample of the file's.")
    seed: int = Field(description="Seed of the item sample and of the bootstrap.")
    few_shot: int = Field(description="Solved examples put before each question (0: none).")
    chance: float = Field(description="The accuracy of guessing: the mean of 1 / choices over the items.")
    accuracy: Interval = Field(
        description="`acc`: share of items whose right choice is the most likely, 95 % interval."
    )
    accuracy_normalised: Interval = Field(
        description="`acc_norm`: the same with each log-likelihood divided by its choice's length in characters."
    )
    normalisation: str = Field(description="How `acc_norm` normalises, in words.")
    categories: list[BenchmarkCategoryFacts] = Field(description="Per category, when the items name one.")


class BiasCategoryFacts(Fact):
    """One category of sentence pairs that differ only in a group term (one WEAT test)."""

    category: str
    pairs: int
    sampled: bool = Field(description="Whether the pairs are a seeded sample of those the templates make.")
    stereotyped_share: Interval = Field(description="Share of pairs where the stereotyped sentence is more likely.")
    share_p_value: float = Field(description="Two-sided exact sign test of the share against one half.")
    mean_difference: Interval = Field(
        description="Mean of log P(stereotyped) - log P(other), in nats, of the shared continuation."
    )
    difference_p_value: float = Field(description="Two-sided sign-flip permutation test of the mean against 0.")
    example: list[str] = Field(description="One pair: the stereotyped sentence, then the other.")


class LikelihoodBiasFacts(Fact):
    """A likelihood-based bias probe: which of two sentences differing only in a group term the model prefers."""

    source: str = Field(description="The word-set file and its SHA-256.")
    templates: list[str]
    method: str = Field(description="How pairs are built and scored, in words.")
    max_pairs: int = Field(description="Pairs per category at most (a seeded sample above).")
    permutations: int
    categories: list[BiasCategoryFacts]


class SampleOutputFacts(Fact):
    prompt: str
    completion: str = Field(description="The model's greedy completion, as generated (shown escaped).")
    tokens: int = Field(description="Tokens generated.")


class SampleOutputsFacts(Fact):
    """Deterministic completions of the prompts the spec declares (a Model Openness Framework component)."""

    decoding: str = Field(description="How the completions were generated.")
    outputs: list[SampleOutputFacts]


class DocumentOverlapFacts(Fact):
    """Evaluation documents whose word n-grams also occur in the training text the spec provides,
    and the perplexity without them."""

    train_source: str = Field(description="The training data source's id.")
    column: str = Field(description="The column holding the text, in both sources.")
    n: int = Field(description="Words per n-gram.")
    normalisation: str = Field(description="How texts are split into words and n-grams.")
    documents: int = Field(description="Evaluation documents compared (those scored for perplexity).")
    overlapping: OverlapCount = Field(description="Documents with at least one n-gram in the training text.")
    ngrams: int = Field(description="Distinct n-grams of the documents, summed over documents.")
    ngrams_in_training: int = Field(description="Of those, the n-grams that occur in the training text.")
    perplexity_without: Interval | None = Field(
        description="Perplexity over the documents that do not overlap (95 % bootstrap interval); null when every "
        "document overlaps or none does."
    )


class LanguageModelFacts(TaskFacts):
    """A decoder language model run by the build: perplexity, a bias probe and sample outputs."""

    kind: Literal["text_generation"] = "text_generation"
    model_class: str
    tokenizer: str = Field(description="Tokenizer class and vocabulary size.")
    device: str
    perplexity: PerplexityFacts | NotReported
    bias_probe: LikelihoodBiasFacts | NotReported
    samples: SampleOutputsFacts | NotReported
    benchmarks: list[BenchmarkFacts] = Field(
        default_factory=list, description="Multiple-choice benchmarks, as lm-evaluation-harness scores them."
    )
    overlap: DocumentOverlapFacts | NotReported = Field(
        default_factory=lambda: NotReported(not_reported="not measured: the record was written before schema 2.4.0"),
        description="N-gram overlap of the perplexity documents with the training text the spec provides.",
    )
