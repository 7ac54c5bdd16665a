"""A token classifier's part of a model job: read the tagged sentences, train the model with the
`token_classifier` recipe or load a published one, tag the evaluation sentences (and the name
probe's) through the one tagging path, and measure entities, groups and the probe.

Every input is checked before a model is trained or loaded, so a misnamed column or a bad tag
fails in a second, naming the file, the row and the field, rather than after the training.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reporter.datasets import MISSING_GROUP, Table
from reporter.errors import DataError
from reporter.extract.embedding_bias import chosen_word_sets
from reporter.extract.entities import (
    HEADLINE_MODE,
    MODES,
    entity_counts,
    entity_type,
    group_facts,
    is_iob2_tag,
    mode_facts,
    sentence_weights,
    span_errors,
    token_accuracy,
)
from reporter.extract.name_probe import ProbeGroup, name_probe_facts, probe_groups, probe_sentences
from reporter.facts import (
    ArchitectureFacts,
    EpochFacts,
    InferenceFacts,
    NameProbeFacts,
    NotReported,
    TokenClassificationFacts,
    TrainingFacts,
)
from reporter.progress import JobProgress
from reporter.project import Project, resolve_file
from reporter.runners.outcome import RunOutcome
from reporter.settings import BuildSettings
from reporter.spec import Evaluation, LoadedSpec

DEFAULT_BATCH_SIZE = 32


@dataclass(frozen=True)
class Sentences:
    """The tagged sentences of one data source: tokens and IOB2 tags, one list per row."""

    tokens: list[list[str]]
    tags: list[list[str]]


def tagged_sentences(table: Table, evaluation: Evaluation, *, spec_path: Path, field: str) -> Sentences:
    """Each row's tokens and tags, split at spaces, checked: both columns present, every row with
    as many tags as tokens, every tag ``O``, ``B-type`` or ``I-type``.

    Raises:
        DataError: naming the file, the row (as numbered in the file, header excluded) and the fix.
    """
    assert evaluation.tokens_column is not None
    frame = table.frame
    for spec_field, column in (
        ("evaluation.tokens_column", evaluation.tokens_column),
        ("evaluation.label", evaluation.label),
    ):
        if column not in frame.columns:
            raise DataError(
                f"{spec_path}: {spec_field}: column {column!r} is not in {table.path} ({field}). "
                f"Fix: name one of its columns {', '.join(map(str, frame.columns))}"
            )
    tokens, tags = [], []
    for row, (words, labels) in enumerate(zip(frame[evaluation.tokens_column], frame[evaluation.label], strict=True)):
        where = f"{table.path}: row {int(table.positions[row]) + 1} ({spec_path}: {field})"
        split_words = [] if pd.isna(words) else str(words).split()  # a lone number is read as one
        split_tags = [] if pd.isna(labels) else str(labels).split()
        if not split_words:
            raise DataError(f"{where}: the sentence has no tokens. Fix: remove the row or give its tokens")
        if len(split_words) != len(split_tags):
            raise DataError(
                f"{where}: {len(split_words)} tokens but {len(split_tags)} tags. "
                "Fix: give one IOB2 tag per token, both separated by single spaces"
            )
        bad = next((tag for tag in split_tags if not is_iob2_tag(tag)), None)
        if bad is not None:
            raise DataError(f"{where}: {bad!r} is not an IOB2 tag. Fix: tag each token O, B-<type> or I-<type>")
        tokens.append(split_words)
        tags.append(split_tags)
    return Sentences(tokens=tokens, tags=tags)


@dataclass(frozen=True)
class TokenInputs:
    """Everything a token-classification job reads, checked before any model is touched."""

    train: Sentences | None
    evaluation: Sentences
    groups: dict[str, np.ndarray]  # sensitive feature -> group of each evaluation sentence
    probe: tuple[list[ProbeGroup], str] | None  # the name lists and where they come from


def token_inputs(project: Project, loaded: LoadedSpec, train_table: Table | None, eval_table: Table) -> TokenInputs:
    """Read and check the tagged sentences, the sensitive columns and the probe's name lists.

    Raises:
        DataError: a column, row, tag or word-set test is wrong.
    """
    evaluation = loaded.spec.labelled_evaluation
    assert evaluation is not None
    groups = {}
    for feature in evaluation.sensitive_features:
        if feature not in eval_table.frame.columns:
            raise DataError(
                f"{loaded.path}: evaluation.sensitive_features: column {feature!r} is not in {eval_table.path}. "
                f"Fix: name one of its columns {', '.join(map(str, eval_table.frame.columns))}"
            )
        groups[feature] = eval_table.frame[feature].astype("string").fillna(MISSING_GROUP).to_numpy(dtype=str)
    probe = None
    if loaded.spec.name_probe is not None:
        options = loaded.spec.name_probe
        field = f"{loaded.spec.section_field(evaluation)}.name_probe"
        path = resolve_file(project, loaded.path, options.word_sets, field=f"{field}.word_sets", kind="file")
        tests, source = chosen_word_sets(path, options.word_sets, options.tests, spec_path=loaded.path, field=field)
        probe = (probe_groups(tests), f"{options.source}: {source}")
    index = {source.id: i for i, source in enumerate(loaded.spec.data)}
    return TokenInputs(
        train=tagged_sentences(
            train_table, evaluation, spec_path=loaded.path, field=f"data.{index[train_table.source.id]}"
        )
        if train_table is not None and loaded.spec.source.train
        else None,
        evaluation=tagged_sentences(
            eval_table, evaluation, spec_path=loaded.path, field=f"data.{index[eval_table.source.id]}"
        ),
        groups=groups,
        probe=probe,
    )


@dataclass(frozen=True)
class Tagger:
    """A token classifier ready to tag sentences, and the run facts of how it was obtained."""

    tag: Callable[..., Any]  # (sentences, on_progress=None) -> Tagged
    labels: list[str]
    outcome: RunOutcome


def trained_tagger(
    loaded: LoadedSpec,
    sentences: Sentences,
    *,
    device: str,
    checkpoint_dir: Path,
    resolve: Callable[[Any, str], Path],
    progress: JobProgress,
) -> Tagger:
    """Fine-tune with the `token_classifier` recipe and publish the model as a transformers folder."""
    from reporter.runners.device import seed_everything
    from reporter.runners.recipes import check_epoch, validate_hyperparameters
    from reporter.runners.token_classifier import TRAIN_FIGURES, tagging_function, train
    from reporter.runners.train import plain_hyperparameter, publish

    source = loaded.spec.source.train
    assert source is not None
    params = validate_hyperparameters(source)
    history: list[EpochFacts] = []

    def report_epoch(record: EpochFacts) -> None:
        check_epoch(loaded.path, record)
        history.append(record)
        progress.epoch(record)

    seed_everything(source.seed)
    started = time.perf_counter()
    trained = train(
        sentences.tokens,
        sentences.tags,
        hyperparameters=params,
        base_model=resolve(params.base_model, "source.train.hyperparameters.base_model"),
        seed=source.seed,
        device=device,
        spec_path=loaded.path,
        report_epoch=report_epoch,
    )
    wall = time.perf_counter() - started
    checkpoint = publish(checkpoint_dir, save=trained.save, module=trained.model)
    parameters = dict(trained.model.named_parameters())
    outcome = RunOutcome(
        weight_files=[checkpoint],
        parameter_names=set(parameters),
        trainable_names={name for name, p in parameters.items() if p.requires_grad},
        architecture=ArchitectureFacts(
            source="train", recipe=source.recipe, module_class=type(trained.model).__name__, config=trained.architecture
        ),
        training=TrainingFacts(
            hyperparameters={k: plain_hyperparameter(v) for k, v in sorted(params.model_dump(mode="json").items())},
            optimizer=trained.optimizer,
            schedule=trained.schedule,
            seed=source.seed,
            train_rows=trained.train_rows,
            validation_rows=trained.validation_rows,
            history=history,
            train_figures=TRAIN_FIGURES,
            wall_seconds=round(wall, 3),
            device=device,
        ),
        evaluation_scores=None,
        inference=NotReported(not_reported="replaced once the evaluation sentences are tagged"),
    )
    tag = tagging_function(
        trained.model, trained.tokenizer, trained.labels, max_length=params.max_length, batch_size=DEFAULT_BATCH_SIZE
    )
    return Tagger(tag=tag, labels=trained.labels, outcome=outcome)


def loaded_tagger(loaded: LoadedSpec, folder: Path, *, device: str, convert_dir: Path) -> Tagger:
    """A published token classifier, loaded by its format and run the way a trained one is."""
    from reporter.loaders.base import load_model

    outcome = load_model(loaded, path=folder, device=device, convert_dir=convert_dir, needs=frozenset({"tag_words"}))
    assert outcome.tag_words is not None
    return Tagger(tag=outcome.tag_words.tag, labels=outcome.tag_words.labels, outcome=outcome)


def token_classification_facts(
    loaded: LoadedSpec,
    inputs: TokenInputs,
    tagger: Tagger,
    *,
    device: str,
    settings: BuildSettings,
    progress: JobProgress,
    source: str,
) -> tuple[RunOutcome, TokenClassificationFacts]:
    """Tag the evaluation sentences and measure them; the run facts gain how they were tagged."""
    evaluation = loaded.spec.labelled_evaluation
    assert evaluation is not None
    gold = inputs.evaluation
    tagged = tagger.tag(
        gold.tokens,
        on_progress=progress.throttled(f"  {loaded.slug}: tagged {{done:,}} of {{total:,}} sentences"),
    )
    predicted = tagged.tags
    types = sorted({entity_type(t) for tags in (*gold.tags, *predicted) for t in tags if t != "O"})
    weights = sentence_weights(len(gold.tokens), samples=settings.bootstrap_samples, seed=0)
    headline_counts = entity_counts(gold.tags, predicted, mode=HEADLINE_MODE, types=types)
    modes = [
        mode_facts(
            headline_counts if mode == HEADLINE_MODE else entity_counts(gold.tags, predicted, mode=mode, types=types),
            mode=mode,
            weights=weights,
        )
        for mode in MODES
    ]
    groups: Any = NotReported(not_reported="the spec names no sensitive features of the sentences")
    if inputs.groups:
        groups = [
            group_facts(
                headline_counts,
                values,
                feature=feature,
                weights=weights,
                reference=evaluation.reference_groups.get(feature),
                min_group_size=evaluation.min_group_size,
                privacy_threshold=evaluation.privacy_threshold,
                ratio_threshold=evaluation.ratio_threshold,
            )
            for feature, values in inputs.groups.items()
        ]
    facts = TokenClassificationFacts(
        source=source,
        sentences=len(gold.tokens),
        tokens=sum(len(t) for t in gold.tokens),
        entity_types=types,
        headline_mode=HEADLINE_MODE,
        modes=modes,
        token_accuracy=token_accuracy(gold.tags, predicted, weights),
        span_errors=span_errors(gold.tags, predicted, types=types),
        untagged_tokens=tagged.untagged,
        bootstrap_samples=settings.bootstrap_samples,
        min_group_size=evaluation.min_group_size,
        privacy_threshold=evaluation.privacy_threshold,
        ratio_threshold=evaluation.ratio_threshold,
        groups=groups,
        name_probe=_name_probe(loaded, inputs, tagger, settings),
    )
    inference = InferenceFacts(
        device=device,
        rows=len(gold.tokens),
        batch_size=tagged.batch_size,
        max_length=tagged.max_length,
        input=f"the tokens of column {evaluation.tokens_column!r}, each word tagged at its first sub-word token",
        labels={str(i): label for i, label in enumerate(tagger.labels)},
        seconds=round(tagged.seconds, 3),
        rows_per_second=round(len(gold.tokens) / tagged.seconds, 1) if tagged.seconds > 0 else 0.0,
    )
    return replace(tagger.outcome, inference=inference), facts


def _name_probe(
    loaded: LoadedSpec, inputs: TokenInputs, tagger: Tagger, settings: BuildSettings
) -> NameProbeFacts | NotReported:
    options = loaded.spec.name_probe
    if options is None or inputs.probe is None:
        return NotReported(not_reported="the spec asks for no name probe (`name_probe:`)")
    groups, source = inputs.probe
    if f"B-{options.entity_type}" not in tagger.labels:
        types = sorted({label[2:] for label in tagger.labels if label != "O"})
        field = f"{loaded.spec.section_field(loaded.spec.labelled_evaluation)}.name_probe.entity_type"
        raise DataError(
            f"{loaded.path}: {field}: the model has no tag B-{options.entity_type}. "
            f"Fix: choose one of its entity types: {', '.join(types) or '(none)'}"
        )
    sentences = probe_sentences(groups, options.templates)
    tagged = tagger.tag([s.tokens for s in sentences])
    evaluation = loaded.spec.labelled_evaluation
    assert evaluation is not None
    return name_probe_facts(
        groups,
        sentences,
        tagged.tags,
        entity_type=options.entity_type,
        templates=options.templates,
        source=source,
        license=options.license,
        ratio_threshold=evaluation.ratio_threshold,
        samples=settings.bootstrap_samples,
    )
