"""A decoder language model: perplexity, the likelihood bias probe and sample outputs."""

from __future__ import annotations

from typing import Annotated, Literal

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


class BenchmarkSource(Fact):
    """What any benchmark's figures were computed on: its items file, its provenance and the sample."""

    name: str = Field(description="Short identifier (`mmlu`); the benchmark's figures are named after it.")
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


class BenchmarkFacts(BenchmarkSource):
    """A multiple-choice benchmark scored as lm-evaluation-harness scores it: each choice's
    log-likelihood after the prompt, the most likely choice taken as the answer."""

    skipped_lines: list[int] = Field(
        default_factory=list, description="Lines of malformed items skipped, as the declaration allows."
    )
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


class PublishedResultFacts(Fact):
    """A figure published elsewhere, and the build's own figure of the same name when it has one."""

    benchmark: str
    metric: str
    value: float = Field(description="The published figure, as a share.")
    source: str
    settings: str = Field(description="How the published figure was obtained, as the spec declares.")
    ours: Interval | None = Field(description="The build's `<benchmark>_<metric>`, or null when not measured.")
    our_settings: str | None = Field(description="How the build's figure was obtained, or null.")


class CrowsPairsCategoryFacts(Fact):
    category: str
    items: int
    stereotyped_share: Interval
    likelihood_difference: Interval


class CrowsPairsFacts(BenchmarkSource):
    """CrowS-Pairs: how often the more stereotyping sentence of a pair is the more likely."""

    kind: Literal["crows_pairs"] = "crows_pairs"
    stereotyped_share: Interval = Field(
        description="`pct_stereotype`: share of pairs whose more stereotyping sentence has the higher "
        "log-likelihood (0.5 is no preference), 95 % interval over pairs."
    )
    likelihood_difference: Interval = Field(
        description="`likelihood_diff`: mean absolute difference of the two sentences' log-likelihoods, in nats."
    )
    categories: list[CrowsPairsCategoryFacts] = Field(description="Per bias type.")


class StereoSetCategoryFacts(Fact):
    category: str
    items: int
    targets: int = Field(description="Target terms the scores are averaged over.")
    language_modeling_score: Interval
    stereotype_score: Interval
    icat: Interval


class StereoSetFacts(BenchmarkSource):
    """StereoSet's intrasentence test: whether the model prefers meaningful fillings to unrelated
    ones (LMS), stereotypes to anti-stereotypes (SS), and both combined (ICAT), in per cent."""

    kind: Literal["stereoset"] = "stereoset"
    targets: int = Field(description="Target terms the scores are averaged over, as StereoSet's code averages.")
    language_modeling_score: Interval = Field(
        description="LMS: per cent of (stereotype, unrelated) and (anti-stereotype, unrelated) comparisons the "
        "meaningful sentence wins (100 is ideal), averaged over target terms, 95 % interval over items."
    )
    stereotype_score: Interval = Field(
        description="SS: per cent of items whose stereotype beats its anti-stereotype (50 is ideal), averaged over "
        "target terms."
    )
    icat: Interval = Field(description="ICAT = LMS × min(SS, 100 − SS) / 50 (100 is ideal).")
    categories: list[StereoSetCategoryFacts] = Field(description="Per domain (gender, profession, race, religion).")


class BbqCategoryFacts(Fact):
    category: str
    items: int
    accuracy_ambiguous: Interval
    accuracy_disambiguated: Interval
    bias_ambiguous: Interval
    bias_disambiguated: Interval


class BbqFacts(BenchmarkSource):
    """BBQ: whether the model answers questions about people from the context, or from a stereotype
    when the context does not tell."""

    kind: Literal["bbq"] = "bbq"
    accuracy: Interval = Field(description="Share of questions answered right, 95 % interval over items.")
    accuracy_ambiguous: Interval = Field(description="The same on ambiguous contexts (the right answer is unknown).")
    accuracy_disambiguated: Interval = Field(description="The same on disambiguated contexts.")
    bias_disambiguated: Interval = Field(
        description="s_DIS = 2 × (biased answers / answers other than unknown) − 1 on disambiguated contexts: from "
        "−1 (always against the stereotype) to 1 (always with it); null when every answer is unknown."
    )
    bias_ambiguous: Interval = Field(
        description="s_AMB = (1 − accuracy) × s_DIS, s_DIS taken on ambiguous contexts: bias scaled by how often "
        "the model answers where it should say unknown."
    )
    categories: list[BbqCategoryFacts] = Field(description="Per BBQ category.")


BiasBenchmarkFacts = Annotated[CrowsPairsFacts | StereoSetFacts | BbqFacts, Field(discriminator="kind")]


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
    published_results: list[PublishedResultFacts] = Field(
        default_factory=list, description="Benchmark figures published elsewhere, beside the build's own."
    )
    bias_benchmarks: list[BiasBenchmarkFacts] = Field(
        default_factory=list, description="Social-bias benchmarks, as their authors define the figures."
    )
    overlap: DocumentOverlapFacts | NotReported = Field(
        default_factory=lambda: NotReported(not_reported="not measured: the record was written before schema 2.4.0"),
        description="N-gram overlap of the perplexity documents with the training text the spec provides.",
    )
