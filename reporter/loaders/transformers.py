"""A transformers folder (`config.json`, tokenizer, weights): checked file by file, described from
its config and weights, and run for whatever its architecture can do: score evaluation rows (a
sequence classifier), embed sentences (an encoder), tag words (a token classifier) or score and
generate text (a causal language model). Remote code is never trusted."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from reporter.errors import ModelFileError
from reporter.extract.transformers_folder import checked_folder
from reporter.formats.declaration import Capability, PathKind
from reporter.loaders.base import LoadRequest
from reporter.loaders.pickled import allowed_pickles, converted_pickle
from reporter.loaders.transformers_description import (
    described_config,
    described_folder,
    require_classification_head,
)
from reporter.runners.outcome import RunOutcome, WordTagger
from reporter.spec import LoadedSpec


class TransformersFormat:
    name: ClassVar[str] = "transformers"
    path_kind: ClassVar[PathKind] = "folder"
    suffix: ClassVar[str | None] = None
    publishable: ClassVar[bool] = True
    takes_module: ClassVar[bool] = False

    def offers(self, *, module: str | None) -> frozenset[Capability]:
        return frozenset({"score_rows", "embed_text", "tag_words", "language_model"})

    def check(self, loaded: LoadedSpec, path: Path) -> None:
        """The folder's JSON files and weight headers, pickles allowed, and, for what its tasks
        need, a tokenizer vocabulary and a classification head (read from `config.json`)."""
        from reporter.runners.pretrained import require_vocabulary
        from reporter.spec import needed_capabilities

        where = f"{loaded.path}: source.load.file"
        folder = checked_folder(path, where=where)
        if not folder.weight_files:
            allowed_pickles(loaded, path)
        needs = needed_capabilities(loaded.spec)
        if needs - {"language_model"}:  # a causal LM may take its tokenizer from elsewhere (a GGUF file)
            require_vocabulary(path, where=where)
        if "score_rows" in needs:
            require_classification_head(loaded, path, folder.architectures)

    def load(self, request: LoadRequest) -> RunOutcome:
        if "tag_words" in request.needs:
            return _word_tagger(request)
        where = f"{request.loaded.path}: source.load.file"
        folder = checked_folder(request.path, where=where)
        files = folder.weight_files or [converted_pickle(request.loaded, request.path, request.convert_dir)]
        if "language_model" in request.needs:
            from reporter.loaders.language import with_language_model

            return with_language_model(described_config(folder, files, module_class=""), request, gguf=False)
        from reporter.loaders.transformers_scoring import classifier_or_encoder

        return classifier_or_encoder(request, folder, files)


@dataclass(frozen=True)
class LoadedTagger:
    """A transformers token classifier loaded from a folder, described for the extractors."""

    model: Any
    tokenizer: Any
    labels: list[str]
    """The data's IOB2 tag of each of the model's label ids."""
    described: RunOutcome


def load_token_classifier(loaded: LoadedSpec, path: Path, *, device: str, convert_dir: Path) -> LoadedTagger:
    """A `...ForTokenClassification` folder, its labels mapped to the data's tags (`model_labels`).

    Raises:
        ModelFileError: a damaged folder, another architecture, or a label that is not an IOB2 tag.
    """
    from transformers import AutoConfig, AutoModelForTokenClassification

    from reporter.extract.entities import is_iob2_tag
    from reporter.runners.pretrained import check_vocabulary, from_pretrained, load_tokenizer

    where = f"{loaded.path}: source.load"
    folder = checked_folder(path, where=where)
    files = folder.weight_files or [converted_pickle(loaded, path, convert_dir)]
    config = from_pretrained(AutoConfig, path, where=where)
    if not any(name.endswith("ForTokenClassification") for name in config.architectures or []):
        raise ModelFileError(
            f"{where}: {path}/config.json names {', '.join(config.architectures or ['no'])} architecture, "
            "not a token classifier. Fix: load a ...ForTokenClassification checkpoint"
        )
    mapping = loaded.spec.labelled_evaluation.model_labels if loaded.spec.labelled_evaluation else {}
    labels = [mapping.get(str(config.id2label[i]), str(config.id2label[i])) for i in range(config.num_labels)]
    bad = [label for label in labels if not is_iob2_tag(label)]
    if bad:
        raise ModelFileError(
            f"{where}: {path}/config.json: the labels {', '.join(map(repr, bad))} are not IOB2 tags (O, B-type, "
            "I-type). Fix: map them to the data's tags in `evaluation.model_labels`"
        )
    model = from_pretrained(
        AutoModelForTokenClassification, path, where=where, config=config, use_safetensors=files[0].parent == path
    ).to(device)
    tokenizer = load_tokenizer(path, where=where, fast=True)
    check_vocabulary(tokenizer, model, where=where)
    return LoadedTagger(
        model=model, tokenizer=tokenizer, labels=labels, described=described_folder(folder, files, model)
    )


def _word_tagger(request: LoadRequest) -> RunOutcome:
    """A token classifier folder bound as a word tagger, batched as the spec's `source.load` says."""
    from reporter.loaders.transformers_scoring import input_length
    from reporter.runners.token_classifier import tagging_function

    found = load_token_classifier(request.loaded, request.path, device=request.device, convert_dir=request.convert_dir)
    load = request.loaded.spec.source.load
    assert load is not None
    tag = tagging_function(
        found.model,
        found.tokenizer,
        found.labels,
        max_length=input_length(load, found.model, found.tokenizer),
        batch_size=load.batch_size,
    )
    return replace(found.described, tag_words=WordTagger(tag=tag, labels=found.labels))
