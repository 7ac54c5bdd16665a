"""A transformers model folder, checked file by file before transformers reads any of it.

A folder from a stranger is no more trusted than a lone weight file: its `config.json` and every
other JSON file transformers reads (generation config, tokenizer, shard index) must parse as JSON objects, and every
weight file gets the same strict safetensors header checks as `format: safetensors` (ranges that
tile the data section, dtype × shape). transformers' own errors for such files are tracebacks
(`SafetensorError`, `OSError`) that name neither the file nor a fix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reporter.errors import ModelFileError
from reporter.extract.safetensors_file import read_header, weight_files_in

TOKENIZER_VOCABULARY_FILES = (
    "tokenizer.json",
    "vocab.txt",
    "vocab.json",
    "tokenizer.model",
    "spiece.model",
    "sentencepiece.bpe.model",
)
"""Files a transformers tokenizer takes its vocabulary from; a folder with none of them gets a
tokenizer of special tokens only, which turns every word into the unknown token."""

TRANSFORMERS_JSON_FILES = (
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "preprocessor_config.json",
)
"""The JSON files besides `config.json` that transformers reads, each a JSON object. Other JSON
files (a sentence-transformers folder's `data_config.json` is a list) are not transformers' and
are left alone."""


@dataclass(frozen=True)
class TransformersFolder:
    """A folder whose files passed their format's checks."""

    path: Path
    config: dict[str, Any]
    weight_files: list[Path]
    """Its safetensors files (empty when it holds only pickle checkpoints)."""

    @property
    def architectures(self) -> list[str]:
        names = self.config.get("architectures")
        return [str(n) for n in names] if isinstance(names, list) else []

    def has_tokenizer_vocabulary(self) -> bool:
        return any((self.path / name).is_file() for name in TOKENIZER_VOCABULARY_FILES)


def checked_folder(folder: Path, *, where: str) -> TransformersFolder:
    """Check a transformers folder's JSON files and safetensors headers; ``where`` is the spec and
    field that named the folder, for the message.

    Raises:
        ModelFileError: naming the file, what is wrong with it and the fix.
    """
    if not folder.is_dir():
        raise ModelFileError(f"{where}: {folder} is not a folder. Fix: point at a transformers model folder")
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise ModelFileError(f"{where}: {folder} has no config.json. Fix: point at a transformers model folder")
    config = json_object(config_path, where=where)
    for name in TRANSFORMERS_JSON_FILES:
        if (folder / name).is_file():
            json_object(folder / name, where=where)
    files = weight_files_in(folder)
    for path in files:
        read_header(path)
    return TransformersFolder(path=folder, config=config, weight_files=files)


def json_object(path: Path, *, where: str) -> dict[str, Any]:
    """A JSON file of a model folder, which must hold one JSON object."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(
            f"{where}: {path} is not valid JSON ({exc}). Fix: the file is corrupt; save the model again "
            "(save_pretrained) or restore the file"
        ) from None
    if not isinstance(value, dict):
        raise ModelFileError(
            f"{where}: {path} holds a JSON {type(value).__name__}, not an object. Fix: save the model again "
            "(save_pretrained) or restore the file"
        )
    return value
