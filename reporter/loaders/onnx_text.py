"""An ONNX text classifier run through its tokenizer folder (as Hugging Face exports a model to
ONNX: `model.onnx` beside `tokenizer.json` and `config.json`): the evaluation text tokenized as
the tokenizer would for the original model, fed to the graph's token inputs by name, and the
logits turned into the task's probabilities with the labels `config.json` names."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reporter.errors import DataError, ModelFileError
from reporter.extract.onnx_file import OnnxGraph
from reporter.spec import LoadedSpec

TOKEN_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
"""The inputs a tokenizer gives; a text graph's inputs must be among them."""
FIELD = "source.load.tokenizer"
BATCH = 32


@dataclass(frozen=True)
class TextScorer:
    """Scores rows of text, and what the card says of how."""

    score_rows: Callable[[pd.DataFrame], np.ndarray]
    input_text: str
    max_length: int
    labels: dict[str, str]
    """The model's label names and the data label each stands for."""


def text_scorer(
    session: Any, graph: OnnxGraph, loaded: LoadedSpec, folder: Path, classes: list[str] | None
) -> TextScorer:
    """A scorer of the evaluation text through the folder's tokenizer.

    Raises:
        ModelFileError: the graph takes inputs no tokenizer gives, or the folder's labels are unreadable.
        DataError: the text column is not among the evaluation features.
    """
    from reporter.loaders.transformers_scoring import label_mapping
    from reporter.runners.pretrained import load_tokenizer
    from reporter.runners.text_classifier import rows_as_text

    where = f"{loaded.path}: {FIELD}"
    names = [name for name, _ in graph.inputs]
    other = [name for name in names if name not in TOKEN_INPUTS]
    if other:
        raise ModelFileError(
            f"{where}: the graph takes input(s) {', '.join(map(repr, other))}, which a tokenizer does not give "
            f"(it gives {', '.join(TOKEN_INPUTS)}). Fix: export the model with the tokenizer's inputs, or remove "
            "`tokenizer:` for a model of numeric features"
        )
    tokenizer = load_tokenizer(folder, where=where)
    evaluation = loaded.spec.labelled_evaluation
    assert evaluation is not None
    id2label = _id2label(folder, where=where)
    mapping = label_mapping(loaded, id2label, evaluation, classes)
    if evaluation.task == "multiclass_classification":
        assert classes is not None
        columns = [next(i for i, name in mapping.items() if name == c) for c in classes]
    else:
        columns = [i for i, name in mapping.items() if name in (evaluation.positive_label or [])]
    load = loaded.spec.source.load
    assert load is not None
    max_length = load.max_length or min(int(tokenizer.model_max_length), 512)
    column = evaluation.text_column

    def score_rows(frame: pd.DataFrame) -> np.ndarray:
        if column is not None and column not in frame.columns:
            raise DataError(
                f"{loaded.path}: evaluation.text_column: {column!r} is not among the evaluation features. "
                f"Fix: name one of {', '.join(map(str, frame.columns))}"
            )
        texts = rows_as_text(frame) if column is None else ["" if v is None else str(v) for v in frame[column]]
        logits = np.concatenate(
            [
                _logits(session, tokenizer, texts[start : start + BATCH], names, max_length)
                for start in range(0, len(texts), BATCH)
            ]
        )
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities = (shifted / shifted.sum(axis=1, keepdims=True))[:, columns]
        return probabilities if evaluation.task == "multiclass_classification" else probabilities.sum(axis=1)

    return TextScorer(
        score_rows=score_rows,
        input_text=(
            f"the text column {column!r}" if column else "each row's features written as text (`column: value; …`)"
        )
        + f", tokenized by {folder.name}/ (at most {max_length} tokens), through onnxruntime",
        max_length=max_length,
        labels={id2label[index]: name for index, name in sorted(mapping.items())},
    )


def _logits(session: Any, tokenizer: Any, texts: list[str], names: list[str], max_length: int) -> np.ndarray:
    encoded = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="np")
    feeds = {name: np.asarray(encoded[name], dtype=np.int64) for name in names}
    return np.asarray(session.run(None, feeds)[0], dtype=np.float64)


def _id2label(folder: Path, *, where: str) -> dict[int, str]:
    """The model's labels by output index, from the folder's `config.json`.

    Raises:
        ModelFileError: the file is missing, not JSON, or holds no `id2label` of numbered names.
    """
    path = folder / "config.json"
    try:
        labels = json.loads(path.read_text(encoding="utf-8")).get("id2label")
        found = {int(index): str(name) for index, name in labels.items()}
    except (OSError, UnicodeDecodeError, ValueError, AttributeError, TypeError):
        raise ModelFileError(
            f"{where}: {path} gives no `id2label` (the model's label per output). "
            "Fix: save the model's config.json (with id2label) into the tokenizer folder"
        ) from None
    if sorted(found) != list(range(len(found))):
        raise ModelFileError(f"{where}: {path}: id2label does not number the outputs 0, 1, …. Fix: correct it")
    return found
