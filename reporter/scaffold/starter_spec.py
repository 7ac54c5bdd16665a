"""The starter `model.yaml` that `reporter init MODEL [--data CSV]` writes.

Everything the files say is written in (format, architecture-derived task, license, base model,
columns); everything only a person knows is a `FILL IN: …` value that `reporter check` refuses
until it is written; every guess carries a comment saying what it was guessed from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from reporter.scaffold.data_findings import DataFindings
from reporter.scaffold.model_findings import ModelFindings
from reporter.spec.placeholders import PLACEHOLDER

LABELLED_TASKS = ("binary_classification", "multiclass_classification", "regression")
TASK_WORDS = {
    "binary_classification": "binary classification",
    "multiclass_classification": "multiclass classification",
    "regression": "regression",
    "token_classification": "token classification (e.g. named entities)",
    "text_generation": "text generation",
    "sentence_embedding": "sentence embeddings",
}


def fill_in(what: str) -> str:
    """A value left for a person: what to write there."""
    return f"{PLACEHOLDER}: {what}"


@dataclass(frozen=True)
class StarterInputs:
    """What the starter spec is written from: the findings and how the spec names the files."""

    model: ModelFindings
    model_file: dict[str, str]
    data: DataFindings | None = None
    data_file: dict[str, str] | None = None


class _Lines:
    """YAML lines with comments; values are dumped by PyYAML, so any text is quoted correctly."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def comment(self, text: str, indent: int = 0) -> None:
        self.lines.append(" " * indent + f"# {text}")

    def field(self, key: str, value: Any, *, indent: int = 0, note: str | None = None) -> None:
        self.lines.append(" " * indent + f"{key}: {_dumped(value)}" + (f"  # {note}" if note else ""))

    def key(self, key: str, indent: int = 0) -> None:
        self.lines.append(" " * indent + f"{key}:")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _dumped(value: Any) -> str:
    """``value`` as one line of YAML flow style."""
    dumped = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip()
    return dumped.removesuffix("\n...").strip()


def starter_spec(inputs: StarterInputs) -> str:
    """The text of the starter spec."""
    model = inputs.model
    out = _Lines()
    sources = ", ".join(model.read_from) + (f" and {inputs.data.path.name}" if inputs.data else "")
    out.comment(f"Written by `reporter init` from {sources}.")
    out.comment(f'Every value starting with "{PLACEHOLDER}" is yours to write: `reporter check` refuses the spec')
    out.comment('until none is left. Values marked "guessed" were read from the files: check them too.')
    _about(out, model)
    _source(out, inputs)
    if inputs.data is not None and inputs.data_file is not None:
        _data(out, inputs.data_file)
    _evaluation(out, model, inputs.data)
    return out.text()


def _about(out: _Lines, model: ModelFindings) -> None:
    out.field("name", model.name, note="read from the model's files" if model.name else None)
    out.field("version", fill_in("this release's version, e.g. 1.0.0"))
    task = TASK_WORDS.get(model.task or "")
    out.field("task", fill_in("what the model does, in a few words") if task is None else task)
    out.field("description", fill_in("what the model is and how it was made, in a few sentences"))
    out.key("owners")
    out.field("- name", fill_in("the team or person who answers for this model"), indent=2)
    out.field("contact", fill_in("an e-mail address or a URL"), indent=4)
    if model.license:
        out.field("license", model.license, note="read from the model's files")
    else:
        out.field("license", fill_in("the model's license (an SPDX identifier, e.g. Apache-2.0)"))
    for key, what in (
        ("intended_uses", "what the model is for"),
        ("out_of_scope_uses", "uses it must not be put to"),
        ("limitations", "what it does badly or was not tested on"),
    ):
        out.key(key)
        out.lines.append(f"  - {_dumped(fill_in(what))}")
    if model.base_model:
        out.comment(f"Base model, as the model's files declare it: {model.base_model}")
    if model.parameters is not None:
        out.comment(f"Parameters counted in the weight files: {model.parameters:,}")


def _source(out: _Lines, inputs: StarterInputs) -> None:
    model = inputs.model
    out.key("source")
    out.key("load", indent=2)
    out.field("format", model.format, indent=4)
    out.field("file", inputs.model_file, indent=4)
    if model.format in ("safetensors", "pytorch"):
        out.comment("To run the model over evaluation rows, name the function that builds its network:", indent=4)
        out.field(
            "module", fill_in("module:function in this folder returning a LoadedModule (see Adding a model)"), indent=4
        )
    if model.format == "pytorch":
        out.comment("A .pt/.pth/.bin file is a pickle: it is read weights-only, and only if you allow it.")
        out.field("allow_pickle", fill_in("true, once you trust where this file comes from"))


def _data(out: _Lines, file: dict[str, str]) -> None:
    out.key("data")
    out.field("- id", "evaluation", indent=2)
    out.field("role", "evaluation", indent=4)
    out.field("file", file, indent=4)
    out.field("license", fill_in("the data's license"), indent=4)
    out.field("description", fill_in("where these rows come from and what they are"), indent=4)


def _evaluation(out: _Lines, model: ModelFindings, data: DataFindings | None) -> None:
    task = model.task
    if task is None and data is not None:
        out.key("evaluation")
        out.field("task", fill_in("binary_classification, multiclass_classification or regression"), indent=2)
        _labelled_columns(out, model, data, task="")
    elif task in LABELLED_TASKS or task == "token_classification":
        if data is None:
            out.comment("Run `reporter init MODEL --data CSV` to add its evaluation data and columns.")
            return
        out.key("evaluation")
        out.field("task", task, indent=2, note="from the architecture in config.json")
        _labelled_columns(out, model, data, task=task)
    elif task == "text_generation":
        out.key("evaluation")
        out.field("task", task, indent=2)
        if data is not None:
            out.key("perplexity", indent=2)
            column = data.text_column or fill_in("the column holding one document per row")
            out.field("text_column", column, indent=4, note="guessed: the column of longest values")
        out.field("prompts", [fill_in("a question your users ask; its answer is printed on the card")], indent=2)
    elif task == "sentence_embedding":
        out.key("evaluation")
        out.field("task", task, indent=2)
        out.field("word_sets", {"path": fill_in("a JSON file of WEAT word sets (see the spec reference)")}, indent=2)


def _labelled_columns(out: _Lines, model: ModelFindings, data: DataFindings, *, task: str) -> None:
    columns = ", ".join(data.columns)
    if task == "token_classification":
        out.field("tokens_column", data.text_column or fill_in(f"the column of tokens; one of {columns}"), indent=2)
        out.field("label", data.tags_column or fill_in(f"the column of IOB2 tags; one of {columns}"), indent=2)
    else:
        note = "guessed: its values are the model's labels" if model.labels else "guessed from its name and values"
        if data.label:
            out.field("label", data.label, indent=2, note=note)
        else:
            out.field("label", fill_in(f"the column the model predicts; one of {columns}"), indent=2)
        if data.text_column and model.format == "transformers":
            out.field("text_column", data.text_column, indent=2, note="guessed: the column of longest values")
        _class_fields(out, model, data, task=task)
    for column in data.too_many_groups:
        out.comment(f"{column} holds too many values to compare as groups: add a column of ranges to use it", indent=2)
    if data.sensitive:
        out.field("sensitive_features", data.sensitive, indent=2, note="guessed from the column names: check them")
    else:
        out.field("sensitive_features", [fill_in(f"the columns of groups to compare; of {columns}")], indent=2)


def _class_fields(out: _Lines, model: ModelFindings, data: DataFindings, *, task: str) -> None:
    values = data.label_values
    if task == "binary_classification":
        shown = ", ".join(map(repr, values[:10])) or "a value of the label column"
        out.field("positive_label", [fill_in(f"the label value a positive prediction means ({shown})")], indent=2)
    if model.labels and values and set(model.labels) != set(values):
        by_lower = {v.lower(): v for v in values}
        mapping = {
            label: by_lower.get(label.lower(), fill_in("the label value it stands for")) for label in model.labels
        }
        out.field("model_labels", mapping, indent=2, note="the model's labels (config.json) → the data's")
