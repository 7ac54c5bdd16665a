"""Loading models trained elsewhere: transformers folders, safetensors files and GGUF files.

Remote code is never trusted, and pickle checkpoints are refused unless the spec opts in (then
they are loaded with ``weights_only=True`` and converted to safetensors before anything reads them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reporter.datasets import LabelledData
from reporter.errors import DataError, ModelFileError, RecipeError
from reporter.extract.safetensors_file import read_header
from reporter.facts import ArchitectureFacts, InferenceFacts, NotReported
from reporter.formats.transformers_folder import TransformersFolder, checked_folder
from reporter.runners.attributions import Attributor
from reporter.runners.outcome import RunOutcome
from reporter.runners.pretrained import check_vocabulary, from_pretrained, load_tokenizer
from reporter.spec import Evaluation, LoadedSpec, LoadSource

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


def run_load(
    loaded: LoadedSpec,
    *,
    path: Path,
    device: str,
    convert_dir: Path,
    evaluation: LabelledData | None,
    sentences: list[str] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> RunOutcome:
    """Load the model the spec names, describe it for the extractors and, when it can be run (a
    transformers sequence classifier) and the spec has evaluation data, score the evaluation rows;
    embed ``sentences`` with a transformers encoder."""
    load = loaded.spec.source.load
    assert load is not None
    if loaded.spec.language_model is not None:
        return _load_language_model(loaded, path, device=device, convert_dir=convert_dir)
    if load.format == "gguf":
        return _load_gguf(loaded, path)
    if load.format == "safetensors":
        if path.is_dir() or path.suffix != ".safetensors":
            raise ModelFileError(
                f"{loaded.path}: source.load.file: {path} is not a .safetensors file. "
                "Fix: name the file, or use `format: transformers` for a folder"
            )
        if load.module is not None:
            return _load_own_architecture(loaded, path, device=device, evaluation=evaluation)
        return RunOutcome(
            weight_files=[path],
            parameter_names=None,
            trainable_names=None,
            architecture=ArchitectureFacts(source="load", recipe=None, module_class="(safetensors file)", config={}),
            training=NotReported(not_reported="the model was trained elsewhere; the spec loads a checkpoint"),
            evaluation_scores=None,
            inference=NotReported(not_reported=GIVEN_PREDICTIONS),
        )
    return _load_transformers(
        loaded,
        path,
        device=device,
        convert_dir=convert_dir,
        evaluation=evaluation,
        sentences=sentences,
        on_progress=on_progress,
    )


GIVEN_PREDICTIONS = "the build does not run this model: its predictions were computed elsewhere"


LANGUAGE_MODEL_RUN = "the build runs this language model on the text and prompts the spec declares (see Metrics)"


def _load_language_model(loaded: LoadedSpec, path: Path, *, device: str, convert_dir: Path) -> RunOutcome:
    """A decoder language model from a GGUF file or a causal-LM folder, described as its format is
    and bound for the language extractors (perplexity, bias probe, sample outputs)."""
    from reporter.runners.language_model import language_scoring, load_causal_lm

    load, options = loaded.spec.source.load, loaded.spec.language_model
    assert load is not None and options is not None
    gguf = load.format == "gguf"
    if gguf:
        described = _load_gguf(loaded, path)  # the header is checked before transformers reads the file
    else:
        folder = checked_folder(path, where=f"{loaded.path}: source.load.file")
        raw = folder.config
        described = RunOutcome(
            weight_files=folder.weight_files or [_convert_pickle(loaded, path, convert_dir)],
            parameter_names=None,
            trainable_names=None,
            architecture=ArchitectureFacts(
                source="load", recipe=None, module_class="", config={k: _plain(raw[k]) for k in CONFIG_KEYS if k in raw}
            ),
            training=NotReported(not_reported="the model was trained elsewhere; the spec loads a checkpoint"),
            evaluation_scores=None,
            inference=NotReported(not_reported=LANGUAGE_MODEL_RUN),
        )
    model, tokenizer = load_causal_lm(path, gguf=gguf, spec_path=loaded.path, device=device)
    scoring = language_scoring(
        model,
        tokenizer,
        batch_size=options.batch_size,
        max_new_tokens=options.max_new_tokens,
        chat_template=options.chat_template,
    )
    module_class = described.architecture.module_class
    architecture = described.architecture.model_copy(
        update={"module_class": f"{type(model).__name__} {module_class}".strip()}
    )
    return replace(
        described,
        architecture=architecture,
        inference=NotReported(not_reported=LANGUAGE_MODEL_RUN),
        language=scoring,
    )


def _load_gguf(loaded: LoadedSpec, path: Path) -> RunOutcome:
    """A GGUF file, described from its header: the architecture as the file declares it (every
    tensor in a GGUF file is a parameter; it holds no buffers)."""
    from reporter.extract.gguf_file import read_gguf_header

    if path.is_dir() or path.suffix != ".gguf":
        raise ModelFileError(
            f"{loaded.path}: source.load.file: {path} is not a .gguf file. Fix: name the file, "
            "or use `format: transformers` for a folder"
        )
    metadata = read_gguf_header(path).metadata
    architecture = str(metadata.get("general.architecture", ""))
    config: dict[str, Any] = {"architecture": architecture or "(not declared)"}
    if architecture:
        own = f"{architecture}."
        config.update({k.removeprefix(own): v for k, v in sorted(metadata.items()) if k.startswith(own)})
    return RunOutcome(
        weight_files=[path],
        parameter_names=None,
        trainable_names=None,
        architecture=ArchitectureFacts(source="load", recipe=None, module_class="(GGUF file)", config=config),
        training=NotReported(not_reported="the model was trained elsewhere; the spec loads a checkpoint"),
        evaluation_scores=None,
        inference=NotReported(not_reported=GIVEN_PREDICTIONS),
    )


def _load_own_architecture(
    loaded: LoadedSpec, path: Path, *, device: str, evaluation: LabelledData | None
) -> RunOutcome:
    """A safetensors checkpoint loaded strictly into the network the spec's `module:` builds, then
    scored on the evaluation rows like a model trained in the build.

    Raises:
        ModelFileError: the file's tensors do not match the network's (missing, unexpected or
            differently shaped), each named.
        RecipeError: the builder fails or returns something else than a LoadedModule.
    """
    import time

    import torch
    from safetensors.torch import load_file

    from reporter.runners.recipes import LoadedModule, import_user_function
    from reporter.runners.train import checked_scores

    load = loaded.spec.source.load
    assert load is not None and load.module is not None
    field = "source.load.module"
    builder = import_user_function(loaded, load.module, field=field, signature="()")
    try:
        built = builder()
    except Exception as exc:  # user code may fail in any way; name it and the error
        raise RecipeError(f"{loaded.path}: {field}: {load.module!r} raised {type(exc).__name__}: {exc}") from None
    if not isinstance(built, LoadedModule) or not isinstance(built.module, torch.nn.Module):
        raise RecipeError(
            f"{loaded.path}: {field}: {load.module!r} returned {type(built).__name__}. "
            "Fix: return reporter.runners.recipes.LoadedModule(module=..., predict_scores=...)"
        )
    if not (isinstance(built.architecture, dict) and all(isinstance(k, str) for k in built.architecture)):
        raise RecipeError(
            f"{loaded.path}: {field}: {load.module!r} returned an architecture that is a "
            f"{type(built.architecture).__name__}. Fix: return a dict with text keys"
        )
    read_header(path)  # the file's layout is checked before safetensors allocates anything
    state = load_file(str(path))
    _check_fits(path, state, built.module.state_dict(), builder=load.module)
    built.module.load_state_dict(state, strict=True)
    module = built.module.to(device).eval()
    scores = None
    inference: InferenceFacts | NotReported = NotReported(not_reported="the spec declares no evaluation data")
    if evaluation is not None:
        task = loaded.spec.evaluation.task if loaded.spec.evaluation else "binary_classification"
        started = time.perf_counter()
        with torch.inference_mode():
            scores = checked_scores(built.predict_scores, evaluation, task=task, where=f"{loaded.path}: {field}")
        seconds = time.perf_counter() - started
        rows = int(evaluation.labels.shape[0])
        inference = InferenceFacts(
            device=device,
            rows=rows,
            batch_size=None,
            max_length=None,
            input="the evaluation features, through the module's own predict_scores",
            labels={},
            seconds=round(seconds, 3),
            rows_per_second=round(rows / seconds, 1) if seconds > 0 else 0.0,
        )
    parameters = dict(module.named_parameters())
    return RunOutcome(
        weight_files=[path],
        parameter_names=set(parameters),
        trainable_names={k for k, p in parameters.items() if p.requires_grad},
        architecture=ArchitectureFacts(
            source="load", recipe=None, module_class=type(module).__name__, config=built.architecture
        ),
        training=NotReported(not_reported="the model was trained elsewhere; the spec loads a checkpoint"),
        evaluation_scores=scores,
        inference=inference,
        score_rows=_without_gradients(built.predict_scores),
    )


def _check_fits(path: Path, state: dict[str, Any], expected: dict[str, Any], *, builder: str) -> None:
    """The checkpoint's tensors are exactly the network's, shape for shape.

    Raises:
        ModelFileError: naming the missing, unexpected and reshaped tensors (the first five of each).
    """
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    reshaped = sorted(k for k in set(state) & set(expected) if state[k].shape != expected[k].shape)
    if missing or unexpected or reshaped:
        parts = [
            f"{what}: {', '.join(names[:5])}{' …' if len(names) > 5 else ''}"
            for what, names in (("missing", missing), ("unexpected", unexpected), ("shape differs", reshaped))
            if names
        ]
        raise ModelFileError(
            f"{path}: the tensors do not fit the network {builder!r} builds ({'; '.join(parts)}). "
            "Fix: build the architecture the checkpoint was saved from, or load the matching checkpoint"
        )


def _without_gradients(predict_scores: Callable[[Any], Any]) -> Callable[[Any], np.ndarray]:
    """A loaded module's scoring function, run without autograd and returning float64."""

    def score_rows(frame: Any) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return np.asarray(predict_scores(frame), dtype=np.float64)

    return score_rows


def _load_transformers(
    loaded: LoadedSpec,
    folder: Path,
    *,
    device: str,
    convert_dir: Path,
    evaluation: LabelledData | None,
    sentences: list[str] | None,
    on_progress: Callable[[int, int], None] | None,
) -> RunOutcome:
    from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    where = f"{loaded.path}: source.load.file"
    checked = checked_folder(folder, where=where)
    files = checked.weight_files or [_convert_pickle(loaded, folder, convert_dir)]
    config = from_pretrained(AutoConfig, folder, where=where)
    classifier = any(name.endswith("ForSequenceClassification") for name in config.architectures or [])
    spec_evaluation = loaded.spec.evaluation
    given = spec_evaluation is not None and bool(spec_evaluation.scores_column or spec_evaluation.predictions_column)
    if evaluation is not None and not given and not classifier:
        raise DataError(
            f"{loaded.path}: evaluation: {folder}/config.json names {', '.join(config.architectures or ['no'])} "
            "architecture, which has no classification head, so the build cannot score the evaluation rows. "
            "Fix: load a ...ForSequenceClassification checkpoint, or name `scores_column:` or "
            "`predictions_column:` holding predictions computed elsewhere"
        )
    auto = AutoModelForSequenceClassification if classifier else AutoModel
    model = from_pretrained(auto, folder, where=where, config=config, use_safetensors=files[0].parent == folder).to(
        device
    )
    scores: np.ndarray | None = None
    score_rows = attribute_rows = None
    inference: InferenceFacts | NotReported = NotReported(
        not_reported=GIVEN_PREDICTIONS
        if given
        else "the spec declares no labelled evaluation data"
        + ("; the build ran the encoder to embed the association-test sentences (see Metrics)" if sentences else "")
    )
    if evaluation is not None and not given:
        assert spec_evaluation is not None
        scores, inference, score_rows, attribute_rows = _evaluate(
            loaded, folder, model, spec_evaluation, evaluation, device=device, on_progress=on_progress
        )
    embeddings = None
    if sentences:
        from reporter.runners.inference import embed_texts

        tokenizer = _checked_tokenizer(loaded, folder, model)
        load = loaded.spec.source.load
        assert load is not None
        embeddings = embed_texts(
            model, tokenizer, sentences, batch_size=load.batch_size, max_length=input_length(load, model, tokenizer)
        )
    return replace(
        _described_folder(checked, files, model),
        evaluation_scores=scores,
        inference=inference,
        embeddings=embeddings,
        score_rows=score_rows,
        attribute_rows=attribute_rows,
    )


def _described_folder(folder: TransformersFolder, files: list[Path], model: Any) -> RunOutcome:
    """A loaded transformers folder as the extractors see it: its weight files, the stored tensors
    that are parameters of ``model``, and the architecture its `config.json` declares."""
    raw = folder.config
    names = _parameter_names(files, {n for n, _ in model.named_parameters()}, getattr(model, "base_model_prefix", ""))
    return RunOutcome(
        weight_files=files,
        parameter_names=names,
        trainable_names=names,
        architecture=ArchitectureFacts(
            source="load",
            recipe=None,
            module_class=type(model).__name__,
            config={k: _plain(raw[k]) for k in CONFIG_KEYS if k in raw},
        ),
        training=NotReported(
            not_reported="the model was trained elsewhere; see its data sources for what its authors published"
        ),
        evaluation_scores=None,
        inference=NotReported(not_reported="not run yet"),
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
    tokenizer = _checked_tokenizer(loaded, folder, model)
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


def _checked_tokenizer(loaded: LoadedSpec, folder: Path, model: Any) -> Any:
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


def _plain(value: object) -> object:
    if isinstance(value, list):
        return [str(v) for v in value]
    return value


def _parameter_names(files: list[Path], parameters: set[str], prefix: str) -> set[str]:
    """The stored tensors that are parameters of the model; checkpoints may or may not carry the
    base-model prefix, so names are matched either way."""
    return {n for n in _stored_names(files) if n in parameters or n.removeprefix(f"{prefix}.") in parameters}


@dataclass(frozen=True)
class LoadedTagger:
    """A transformers token classifier loaded from a folder, described for the extractors."""

    model: Any
    tokenizer: Any
    labels: list[str]  # the data's IOB2 tag of each of the model's label ids
    described: RunOutcome


def load_token_classifier(loaded: LoadedSpec, folder: Path, *, device: str, convert_dir: Path) -> LoadedTagger:
    """A `...ForTokenClassification` folder, its labels mapped to the data's tags (`model_labels`).

    Raises:
        ModelFileError: no config.json, another architecture, or a label that is not an IOB2 tag.
    """
    from transformers import AutoConfig, AutoModelForTokenClassification
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    where = f"{loaded.path}: source.load"
    checked = checked_folder(folder, where=where)
    files = checked.weight_files or [_convert_pickle(loaded, folder, convert_dir)]
    config = from_pretrained(AutoConfig, folder, where=where)
    if not any(name.endswith("ForTokenClassification") for name in config.architectures or []):
        raise ModelFileError(
            f"{where}: {folder}/config.json names {', '.join(config.architectures or ['no'])} architecture, "
            "not a token classifier. Fix: load a ...ForTokenClassification checkpoint"
        )
    mapping = loaded.spec.evaluation.model_labels if loaded.spec.evaluation else {}
    labels = [mapping.get(str(config.id2label[i]), str(config.id2label[i])) for i in range(config.num_labels)]
    bad = [label for label in labels if not is_iob2_tag(label)]
    if bad:
        raise ModelFileError(
            f"{where}: {folder}/config.json: the labels {', '.join(map(repr, bad))} are not IOB2 tags (O, B-type, "
            "I-type). Fix: map them to the data's tags in `evaluation.model_labels`"
        )
    model = from_pretrained(
        AutoModelForTokenClassification, folder, where=where, config=config, use_safetensors=files[0].parent == folder
    ).to(device)
    described = _described_folder(checked, files, model)
    tokenizer = load_tokenizer(folder, where=where, fast=True)
    check_vocabulary(tokenizer, model, where=where)
    return LoadedTagger(model=model, tokenizer=tokenizer, labels=labels, described=described)


def is_iob2_tag(tag: str) -> bool:
    """``O``, or ``B-``/``I-`` followed by a type name without spaces."""
    return tag == "O" or (tag[:2] in ("B-", "I-") and len(tag) > 2 and not any(c.isspace() for c in tag))


def _stored_names(files: list[Path]) -> set[str]:
    from reporter.extract.safetensors_file import read_header

    names: set[str] = set()
    for path in files:
        names.update(read_header(path)[0])
    return names


def _convert_pickle(loaded: LoadedSpec, folder: Path, convert_dir: Path) -> Path:
    """Refuse a pickle checkpoint unless allowed; if allowed, load weights-only and convert."""
    pickles = sorted(folder.glob("*.bin")) + sorted(folder.glob("*.pt"))
    if not pickles:
        raise ModelFileError(f"{folder}: no .safetensors weights found. Fix: add model.safetensors")
    if not loaded.spec.allow_pickle:
        raise ModelFileError(
            f"{pickles[0]}: pickle checkpoints can run code when loaded and are refused. "
            f"Fix: convert it to safetensors, or set `allow_pickle: true` in {loaded.path} "
            "(it is then loaded with weights_only=True)"
        )
    import torch
    from safetensors.torch import save_file

    state: dict[str, torch.Tensor] = {}
    for path in pickles:
        try:
            part = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types for corrupt or unsafe pickles
            raise ModelFileError(
                f"{path}: cannot load weights-only ({type(exc).__name__}: {exc}). "
                "Fix: re-export the checkpoint as safetensors"
            ) from None
        state.update({k: v.contiguous() for k, v in part.items()})
    convert_dir.mkdir(parents=True, exist_ok=True)
    target = convert_dir / "model.safetensors"
    save_file(state, str(target))
    return target
