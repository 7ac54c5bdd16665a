"""A transformers folder as the extractors see it: its weight files, which stored tensors are
parameters of the loaded model, and the architecture its `config.json` declares."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from reporter.errors import DataError
from reporter.extract.safetensors_file import read_header
from reporter.extract.transformers_folder import TransformersFolder
from reporter.facts import ArchitectureFacts, NotReported
from reporter.runners.outcome import RunOutcome
from reporter.spec import LoadedSpec

CONFIG_KEYS = (
    "model_type",
    "architectures",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "vocab_size",
    "max_position_embeddings",
    "hidden_act",
    "torch_dtype",
    "dtype",
)
"""The `config.json` keys a card shows as the architecture."""

TRAINED_ELSEWHERE = "the model was trained elsewhere; see its data sources for what its authors published"


def described_folder(folder: TransformersFolder, files: list[Path], model: Any) -> RunOutcome:
    """A loaded transformers folder as the extractors see it: its weight files, the stored tensors
    that are parameters of ``model``, and the architecture its `config.json` declares."""
    names = _parameter_names(files, {n for n, _ in model.named_parameters()}, getattr(model, "base_model_prefix", ""))
    described = described_config(folder, files, module_class=type(model).__name__)
    return replace(
        described,
        parameter_names=names,
        trainable_names=names,
        training=NotReported(not_reported=TRAINED_ELSEWHERE),
        inference=NotReported(not_reported="not run yet"),
    )


def described_config(folder: TransformersFolder, files: list[Path], *, module_class: str) -> RunOutcome:
    raw = folder.config
    return RunOutcome(
        weight_files=files,
        parameter_names=None,
        trainable_names=None,
        architecture=ArchitectureFacts(
            source="load",
            recipe=None,
            module_class=module_class,
            config={k: _plain(raw[k]) for k in CONFIG_KEYS if k in raw},
        ),
        training=NotReported(not_reported="the model was trained elsewhere; the spec loads a checkpoint"),
        evaluation_scores=None,
        inference=NotReported(not_reported="not run yet"),
    )


def _plain(value: object) -> object:
    if isinstance(value, list):
        return [str(v) for v in value]
    return value


def _parameter_names(files: list[Path], parameters: set[str], prefix: str) -> set[str]:
    """The stored tensors that are parameters of the model; checkpoints may or may not carry the
    base-model prefix, so names are matched either way."""
    stored: set[str] = set()
    for path in files:
        stored.update(read_header(path)[0])
    return {n for n in stored if n in parameters or n.removeprefix(f"{prefix}.") in parameters}


def require_classification_head(loaded: LoadedSpec, path: Path, architectures: list[str]) -> None:
    """Refuse to score evaluation rows with a folder whose `config.json` names no
    `…ForSequenceClassification` architecture (read from the file, at check time and at load).

    Raises:
        DataError: naming the architectures and the fix.
    """
    if not any(name.endswith("ForSequenceClassification") for name in architectures):
        raise DataError(
            f"{loaded.path}: evaluation: {path}/config.json names {', '.join(architectures or ['no'])} "
            "architecture, which has no classification head, so the build cannot score the evaluation rows. "
            "Fix: load a ...ForSequenceClassification checkpoint, or name `scores_column:` or "
            "`predictions_column:` holding predictions computed elsewhere"
        )
