"""A transformers sequence classifier scoring the evaluation rows (and explaining them through the
same scoring), or a transformers encoder embedding sentences."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reporter.datasets import LabelledData
from reporter.errors import DataError
from reporter.extract.transformers_folder import TransformersFolder
from reporter.facts import InferenceFacts, NotReported
from reporter.loaders.base import LoadRequest
from reporter.loaders.transformers_description import described_folder, require_classification_head
from reporter.runners.attributions import Attributor
from reporter.runners.outcome import GIVEN_PREDICTIONS, RunOutcome
from reporter.runners.pretrained import check_vocabulary, from_pretrained, load_tokenizer
from reporter.spec import Evaluation, LoadedSpec, LoadSource


def classifier_or_encoder(request: LoadRequest, folder: TransformersFolder, files: list[Path]) -> RunOutcome:
    """The folder's model, run over the evaluation rows when it is a sequence classifier and the
    spec names no predictions computed elsewhere, and bound to embed sentences when a task asks.

    Raises:
        DataError: evaluation rows to score, but the folder's architecture has no classification head.
    """
    from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification

    loaded, path, where = request.loaded, request.path, f"{request.loaded.path}: source.load.file"
    config = from_pretrained(AutoConfig, path, where=where)
    classifier = any(name.endswith("ForSequenceClassification") for name in config.architectures or [])
    spec_evaluation = loaded.spec.labelled_evaluation
    given = spec_evaluation is not None and bool(spec_evaluation.scores_column or spec_evaluation.predictions_column)
    if request.evaluation is not None and not given:
        require_classification_head(loaded, path, list(config.architectures or []))
    auto = AutoModelForSequenceClassification if classifier else AutoModel
    model = from_pretrained(auto, path, where=where, config=config, use_safetensors=files[0].parent == path)
    model = model.to(request.device)
    outcome = replace(
        described_folder(folder, files, model),
        inference=NotReported(
            not_reported=GIVEN_PREDICTIONS
            if given
            else "the spec declares no labelled evaluation data"
            + (
                "; the build ran the encoder to embed the association-test sentences (see Metrics)"
                if "embed_text" in request.needs
                else ""
            )
        ),
    )
    if request.evaluation is not None and not given:
        assert spec_evaluation is not None
        scores, inference, score_rows, attribute_rows = _evaluate(
            loaded,
            path,
            model,
            spec_evaluation,
            request.evaluation,
            device=request.device,
            on_progress=request.on_progress,
        )
        outcome = replace(
            outcome, evaluation_scores=scores, inference=inference, score_rows=score_rows, attribute_rows=attribute_rows
        )
    if "embed_text" in request.needs:
        outcome = replace(outcome, embed_text=partial(_embeddings, loaded, path, model))
    return outcome


def _embeddings(loaded: LoadedSpec, folder: Path, model: Any, sentences: list[str]) -> np.ndarray:
    from reporter.runners.inference import embed_texts

    tokenizer = checked_tokenizer(loaded, folder, model)
    load = loaded.spec.source.load
    assert load is not None
    return embed_texts(
        model, tokenizer, sentences, batch_size=load.batch_size, max_length=input_length(load, model, tokenizer)
    )


def _evaluate(
    loaded: LoadedSpec,
    folder: Path,
    model: Any,
    spec_evaluation: Evaluation,
    evaluation: LabelledData,
    *,
    device: str,
    on_progress: Callable[[int, int], None] | None,
) -> tuple[np.ndarray, InferenceFacts, Callable[[pd.DataFrame], np.ndarray], Attributor]:
    """Scores of a loaded sequence classifier on the evaluation rows, in the task's shape, how
    they were computed, and for explanations the same scoring and token attributions as functions
    of rows."""
    from reporter.runners.attributions import text_attributor, whole_text
    from reporter.runners.inference import classify_texts
    from reporter.runners.text_classifier import rows_as_text, rows_as_text_with_spans

    load = loaded.spec.source.load
    assert load is not None
    tokenizer = checked_tokenizer(loaded, folder, model)
    labels = label_mapping(loaded, model.config.id2label, spec_evaluation, evaluation.classes)
    column = spec_evaluation.text_column
    if column is not None and column not in evaluation.features.columns:
        raise DataError(
            f"{loaded.path}: evaluation.text_column: {column!r} is not among the evaluation features. "
            f"Fix: name one of {', '.join(map(str, evaluation.features.columns))}"
        )
    max_length = input_length(load, model, tokenizer)
    if spec_evaluation.task == "multiclass_classification":
        assert evaluation.classes is not None
        columns = [next(i for i, name in labels.items() if name == c) for c in evaluation.classes]
    else:
        columns = [i for i, name in labels.items() if name in (spec_evaluation.positive_label or [])]

    def texts_of(frame: pd.DataFrame) -> list[str]:
        if column is None:
            return rows_as_text(frame)
        return ["" if value is None else str(value) for value in frame[column].tolist()]

    def classify(frame: pd.DataFrame, progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, Any]:
        classified = classify_texts(
            model, tokenizer, texts_of(frame), batch_size=load.batch_size, max_length=max_length, on_progress=progress
        )
        probabilities = classified.probabilities[:, columns]
        if spec_evaluation.task != "multiclass_classification":
            probabilities = probabilities.sum(axis=1)
        return probabilities, classified

    scores, classified = classify(evaluation.features, on_progress)
    rows = len(scores)
    return (
        scores,
        InferenceFacts(
            device=device,
            rows=rows,
            batch_size=classified.batch_size,
            max_length=classified.max_length,
            input=f"the text column {column!r}"
            if column
            else "each row's features written as text (`column: value; …`)",
            labels={str(model.config.id2label[i]): name for i, name in sorted(labels.items())},
            seconds=round(classified.seconds, 3),
            rows_per_second=round(rows / classified.seconds, 1) if classified.seconds > 0 else 0.0,
        ),
        lambda frame: classify(frame)[0],
        text_attributor(
            model,
            tokenizer,
            max_length=max_length,
            texts_and_spans=whole_text(column, list(map(str, evaluation.features.columns)))
            if column
            else rows_as_text_with_spans,
            positive=columns[0] if spec_evaluation.task != "multiclass_classification" else None,
        ),
    )


def checked_tokenizer(loaded: LoadedSpec, folder: Path, model: Any) -> Any:
    """The folder's tokenizer, checked to be the model's (a real vocabulary that fits its embedding)."""
    where = f"{loaded.path}: source.load.file"
    tokenizer = load_tokenizer(folder, where=where)
    check_vocabulary(tokenizer, model, where=where)
    return tokenizer


def input_length(load: LoadSource, model: Any, tokenizer: Any) -> int:
    """The spec's `max_length`, else the tokenizer's, capped at the model's positions (and 512)."""
    limits = [n for n in (getattr(model.config, "max_position_embeddings", None), 512) if isinstance(n, int)]
    return load.max_length or min([int(tokenizer.model_max_length), *limits])


def label_mapping(
    loaded: LoadedSpec, id2label: dict[int, str], evaluation: Evaluation, classes: list[str] | None
) -> dict[int, str]:
    """Each of the model's label ids and the data label value it stands for (through the spec's
    `model_labels` where given).

    Binary: exactly one label must be a positive_label value. Multiclass: the model's labels and
    the data's classes must be the same set.

    Raises:
        DataError: naming the label that cannot be placed and the field that places it.
    """
    names = {int(i): evaluation.model_labels.get(str(label), str(label)) for i, label in id2label.items()}
    unknown = sorted(set(evaluation.model_labels) - {str(label) for label in id2label.values()})
    where = f"{loaded.path}: evaluation.model_labels"
    if unknown:
        raise DataError(
            f"{where}: {', '.join(map(repr, unknown))} are not labels of the model "
            f"(its labels: {', '.join(repr(str(v)) for v in id2label.values())}). Fix: map the model's own label names"
        )
    if evaluation.task == "multiclass_classification":
        assert classes is not None
        unplaced = [f"{id2label[i]!r}" for i, name in sorted(names.items()) if name not in classes]
        missing = [c for c in classes if c not in names.values()]
        if unplaced or missing or len(set(names.values())) != len(names):
            raise DataError(
                f"{where}: the model's labels {', '.join(repr(str(v)) for v in id2label.values())} do not match "
                f"the classes of the label column ({', '.join(map(repr, classes))})"
                + (f"; unplaced: {', '.join(unplaced)}" if unplaced else "")
                + ". Fix: map each model label to one class, e.g. `model_labels: {LABEL_0: "
                + f"{classes[0]!r}}}`"
            )
        return names
    positive = [i for i, name in names.items() if name in (evaluation.positive_label or [])]
    if len(names) != 2 or len(positive) != 1:
        raise DataError(
            f"{where}: a binary classifier needs two labels, exactly one of them a `positive_label` value; the "
            f"model's labels are {', '.join(repr(str(v)) for v in id2label.values())} and the positive labels "
            f"{evaluation.positive_label}. Fix: map the model's positive label, e.g. "
            f"`model_labels: {{{str(id2label[max(id2label)])}: {(evaluation.positive_label or ['?'])[0]!r}}}`"
        )
    return names
