"""The files a spec names, kept even when other sections are invalid, so one `reporter check`
reports missing files alongside every other mistake."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from reporter.formats import format_named
from reporter.formats.declaration import PathKind
from reporter.spec.evaluation import SECTIONS_BY_TASK
from reporter.spec.measurements import BiasProbe
from reporter.spec.model import LoadedSpec, ModelSpec
from reporter.spec.sections import DataSource, FileRef, LoadSource, Source
from reporter.spec.yaml_source import StrictSafeLoader


@dataclass(frozen=True)
class SpecFiles:
    """The sections of a spec that name files, kept even when other sections are invalid so one
    `reporter check` reports missing files and bad hyperparameters alongside other mistakes."""

    path: Path
    data: list[tuple[int, DataSource]]
    source: Source | None
    task: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    """Where each task's section is written (`evaluation`, or `evaluation.N` in a list), by task."""
    predictions_file: FileRef | None = None
    word_sets: FileRef | None = None
    probe_word_sets: FileRef | None = None
    name_word_sets: FileRef | None = None
    added: list[NamedFile] = field(default_factory=list)
    """The files named in the sections of tasks other packages add (found by walking them)."""
    benchmark_data: list[NamedFile] = field(default_factory=list)
    """The items files of the language model's benchmarks (built-in ones too: their data is an input)."""

    @classmethod
    def of(cls, loaded: LoadedSpec) -> SpecFiles:
        evaluation = loaded.spec.labelled_evaluation
        return cls(
            path=loaded.path,
            data=list(enumerate(loaded.spec.data)),
            source=loaded.spec.source,
            task=evaluation.task if evaluation else None,
            fields={s.task: loaded.spec.section_field(s) for s in loaded.spec.evaluation},
            predictions_file=evaluation.predictions_file if evaluation else None,
            word_sets=loaded.spec.embedding_bias.word_sets if loaded.spec.embedding_bias else None,
            probe_word_sets=probe.word_sets if (probe := _bias_probe(loaded.spec)) else None,
            name_word_sets=loaded.spec.name_probe.word_sets if loaded.spec.name_probe else None,
            benchmark_data=_benchmark_data(loaded),
            added=[
                named
                for section in loaded.spec.evaluation
                if section.task not in SECTIONS_BY_TASK
                for named in files_in_section(section, loaded.spec.section_field(section))
            ],
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
        refs = [NamedFile(f"data.{i}.file", d.file, data_file_kind(d)) for i, d in self.data if d.file is not None]
        refs += [
            NamedFile(f"data.{i}.columns_file.file", d.columns_file.file, "file")
            for i, d in self.data
            if d.columns_file is not None
        ]
        section = self.fields.get(self.task or "", "evaluation")
        if self.predictions_file is not None:
            refs.append(NamedFile(f"{section}.predictions_file", self.predictions_file, "file"))
        if self.name_word_sets is not None:
            refs.append(NamedFile(f"{section}.name_probe.word_sets", self.name_word_sets, "file"))
        if self.word_sets is not None:
            refs.append(NamedFile(f"{self.fields['sentence_embedding']}.word_sets", self.word_sets, "file"))
        if self.probe_word_sets is not None:
            refs.append(
                NamedFile(f"{self.fields['text_generation']}.bias_probe.word_sets", self.probe_word_sets, "file")
            )
        refs.extend(self.added)
        refs.extend(self.benchmark_data)
        if self.source and self.source.load and self.source.load.file:
            load = self.source.load
            assert load.file is not None
            refs.append(NamedFile("source.load.file", load.file, load_file_kind(load)))
        if self.source and self.source.load and self.source.load.tokenizer:
            refs.append(NamedFile("source.load.tokenizer", self.source.load.tokenizer, "folder"))
        if self.source and self.source.load and self.source.load.training_log:
            refs.append(NamedFile("source.load.training_log.file", self.source.load.training_log.file, None))
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


def files_in_section(value: object, where: str) -> list[NamedFile]:
    """Every file reference inside a spec section, however deep, with the field that names it: a
    task another package adds may name files of its own, and the build confines them to the
    project, checks they exist and hashes them into the cache key like any other."""
    if isinstance(value, FileRef):
        return [NamedFile(where, value, None)]
    if isinstance(value, BaseModel):
        return [
            found
            for name in type(value).model_fields
            for found in files_in_section(getattr(value, name), f"{where}.{name}")
        ]
    if isinstance(value, list | tuple):
        return [found for index, item in enumerate(value) for found in files_in_section(item, f"{where}.{index}")]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in files_in_section(item, f"{where}.{key}")]
    return []


def _benchmark_data(loaded: LoadedSpec) -> list[NamedFile]:
    from reporter.benchmarks import bias_data, data_field, declaration_of

    language = loaded.spec.language_model
    if language is None:
        return []
    section = loaded.spec.section_field(language)
    found = [
        NamedFile(data_field(run, index, section), declaration_of(run).data, "file")
        for index, run in enumerate(language.benchmarks)
    ]
    for index, bias_run in enumerate(language.bias_benchmarks):
        ref, where = bias_data(bias_run, index, section)
        found.append(NamedFile(where, ref, "file"))
    return found


def _bias_probe(spec: ModelSpec) -> BiasProbe | None:
    return spec.language_model.bias_probe if spec.language_model else None


def data_file_kind(source: DataSource) -> PathKind:
    """A data source's file is a CSV, except a folder of class subfolders of images."""
    return "folder" if source.images is not None and source.images.path_column is None else "file"


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
