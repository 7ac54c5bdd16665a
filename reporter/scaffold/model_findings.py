"""What a model's own files say about it, read for a starter spec without loading the model.

Only headers and metadata are read, with the same checks the build applies (a transformers folder's
JSON files and safetensors headers, a GGUF header): `reporter init` on a malformed file fails with
the build's message. Nothing is unpickled and no framework is imported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reporter.errors import InputError
from reporter.extract.gguf_file import read_gguf_header
from reporter.extract.keras_file import read_keras_file
from reporter.extract.keras_file import weight_count as keras_weight_count
from reporter.extract.onnx_file import read_onnx_graph, weight_names
from reporter.extract.safetensors_file import read_header
from reporter.extract.transformers_folder import TransformersFolder, checked_folder

PICKLE_ENDINGS = (".pt", ".pth", ".bin")
HEAD_TASKS = {
    "ForTokenClassification": "token_classification",
    "ForCausalLM": "text_generation",
}
MODEL_CARD_BYTES = 65_536
"""Front matter beyond this many bytes of a model card's README.md is not read."""


@dataclass
class ModelFindings:
    """What the files declare; None where they say nothing."""

    format: str
    name: str
    task: str | None = None
    architecture: str | None = None
    labels: list[str] = field(default_factory=list)
    """The classifier's label names in id order (`config.json` `id2label`)."""
    license: str | None = None
    base_model: str | None = None
    parameters: int | None = None
    read_from: list[str] = field(default_factory=list)
    """Which files the findings come from, for the starter spec's comments."""


def find_model(path: Path) -> ModelFindings:
    """Read what ``path`` (a transformers folder, a safetensors, GGUF or PyTorch file) says.

    Raises:
        InputError: for a file reporter cannot read (naming the conversion) or a malformed one.
    """
    if path.is_dir():
        return _transformers(checked_folder(path, where=str(path)))
    if not path.is_file():
        raise InputError(f"{path}: no such file or folder. Fix: give the path of the model's weights or folder")
    ending = path.suffix.lower()
    if ending == ".safetensors":
        return _safetensors(path)
    if ending == ".gguf":
        return _gguf(path)
    if ending in (".keras", ".h5"):
        return _keras(path)
    if ending == ".onnx":
        return _onnx(path)
    if ending in PICKLE_ENDINGS:
        # Reading it would mean unpickling it; the spec's `allow_pickle` is the person's decision.
        return ModelFindings(format="pytorch", name=path.stem, read_from=[f"{path.name} (a pickle: not opened)"])
    raise InputError(
        f"{path}: not a model reporter reads (a transformers folder, or a .safetensors, .gguf, .keras, .h5, .onnx, "
        ".pt, .pth or .bin file). Fix: point at one of those"
    )


def _transformers(folder: TransformersFolder) -> ModelFindings:
    config = folder.config
    architecture = folder.architectures[0] if folder.architectures else None
    labels = _labels(config.get("id2label"))
    card = _model_card(folder.path / "README.md")
    findings = ModelFindings(
        format="transformers",
        name=str(card.get("model_name") or _last_part(config.get("_name_or_path")) or folder.path.name),
        task=_task_of(architecture, labels, config),
        architecture=architecture or str(config.get("model_type") or "") or None,
        labels=labels if architecture and architecture.endswith("ForSequenceClassification") else [],
        license=_text(card.get("license")),
        base_model=_text(card.get("base_model")),
        parameters=sum(_safetensors_parameters(p) for p in folder.weight_files) if folder.weight_files else None,
        read_from=["config.json", *(["README.md (its metadata)"] if card else [])],
    )
    return findings


def _task_of(architecture: str | None, labels: list[str], config: dict[str, Any]) -> str | None:
    """The evaluation task the model's head serves, from its architecture's name."""
    if architecture is None:
        return None
    if architecture.endswith("ForSequenceClassification"):
        if config.get("problem_type") == "regression" or len(labels) == 1:
            return "regression"
        return "binary_classification" if len(labels) == 2 else "multiclass_classification"
    for suffix, task in HEAD_TASKS.items():
        if architecture.endswith(suffix):
            return task
    if architecture.endswith("Model"):
        return "sentence_embedding"  # a bare encoder: what the build measures of it is its embeddings
    return None


def _labels(id2label: object) -> list[str]:
    if not isinstance(id2label, dict):
        return []
    try:
        return [str(label) for _, label in sorted((int(key), label) for key, label in id2label.items())]
    except (TypeError, ValueError):
        return []


def _model_card(path: Path) -> dict[str, Any]:
    """The YAML metadata block at the top of a Hugging Face model card, if any."""
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        head = handle.read(MODEL_CARD_BYTES).decode("utf-8", errors="replace")
    if not head.startswith("---"):
        return {}
    block = head[3:].split("\n---", 1)
    if len(block) < 2:
        return {}
    try:
        metadata = yaml.safe_load(block[0])
    except yaml.YAMLError:
        return {}
    return metadata if isinstance(metadata, dict) else {}


def _last_part(value: object) -> str | None:
    """The last part of `config.json`'s `_name_or_path` (a Hub id or the folder it was saved from)."""
    return str(value).rstrip("/").rsplit("/", 1)[-1] or None if isinstance(value, str) else None


def _text(value: object) -> str | None:
    """A metadata value as one string (the first of a list)."""
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value not in (None, "") else None


def _safetensors(path: Path) -> ModelFindings:
    header, _ = read_header(path)
    metadata = header.get("__metadata__") or {}
    return ModelFindings(
        format="safetensors",
        name=path.stem,
        parameters=_safetensors_parameters(path),
        read_from=[f"{path.name} (its header)"],
        license=_text(metadata.get("license")) if isinstance(metadata, dict) else None,
    )


def _safetensors_parameters(path: Path) -> int:
    header, _ = read_header(path)
    return sum(math.prod(entry["shape"]) for name, entry in header.items() if name != "__metadata__")


def _gguf(path: Path) -> ModelFindings:
    header = read_gguf_header(path)
    metadata = header.metadata
    base = metadata.get("general.base_model.0.repo_url") or metadata.get("general.base_model.0.name")
    return ModelFindings(
        format="gguf",
        name=str(metadata.get("general.name") or path.stem),
        task="text_generation",
        architecture=_text(metadata.get("general.architecture")),
        license=_text(metadata.get("general.license")),
        base_model=_text(base),
        parameters=sum(math.prod(tensor.shape) for tensor in header.tensors),
        read_from=[f"{path.name} (its header and metadata)"],
    )


def _keras(path: Path) -> ModelFindings:
    found = read_keras_file(path)
    return ModelFindings(
        format="keras",
        name=str((found.config.get("config") or {}).get("name") or path.stem),
        architecture=_text(found.config.get("class_name")),
        parameters=keras_weight_count(path),
        read_from=[f"{path.name} (its configuration and weight shapes)"],
    )


def _onnx(path: Path) -> ModelFindings:
    graph = read_onnx_graph(path)
    weights = weight_names(graph)
    return ModelFindings(
        format="onnx",
        name=path.stem,  # exporters name every graph alike (`main_graph`)
        architecture=f"ONNX graph (opset {graph.opset}, {graph.producer or 'producer not stated'})",
        parameters=sum(math.prod(t.dims) for t in graph.model.graph.initializer if t.name in weights),
        read_from=[f"{path.name} (its graph)"],
    )
