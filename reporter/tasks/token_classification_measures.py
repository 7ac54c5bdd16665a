"""What the token-classification task measures: entities in both readings, per type and per
group, token accuracy, and the name probe, from the tags the model gives the evaluation sentences.

Its inputs (the tagged sentences, the sensitive columns and the probe's name lists) are read and
checked before any model is touched, so a misnamed column or a bad tag fails in a second, naming
the file, the row and the field, rather than after a fine-tuning; the model is reached only through
its `tag_words` capability (:class:`reporter.runners.outcome.WordTagger`), the one tagging path of
a recogniser fine-tuned in the build and of one loaded from its published folder.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from reporter.facts import InferenceFacts, NameProbeFacts, NotReported, TokenClassificationFacts
from reporter.runners.outcome import WordTagger
from reporter.spec import Evaluation
from reporter.tasks.base import TaskContext


@dataclass(frozen=True)
class Sentences:
    """The tagged sentences of one data source: tokens and IOB2 tags, one list per row."""

    tokens: list[list[str]]
    tags: list[list[str]]


def tagged_sentences(table: Table, section: Evaluation, *, spec_path: Path) -> Sentences:
    """Each row's tokens and tags, split at spaces, checked: both columns present, every row with
    as many tags as tokens, every tag ``O``, ``B-type`` or ``I-type``. Read for the evaluation (by
    the task) and for the fine-tuning (by the `token_classifier` recipe's runner) alike.

    Raises:
        DataError: naming the file, the row (as numbered in the file, header excluded) and the fix.
    """
    assert section.tokens_column is not None
    frame = table.frame
    for spec_field, column in (
        ("evaluation.tokens_column", section.tokens_column),
        ("evaluation.label", section.label),
    ):
        if column not in frame.columns:
            raise DataError(
                f"{spec_path}: {spec_field}: column {column!r} is not in {table.path} ({table.field}). "
                f"Fix: name one of its columns {', '.join(map(str, frame.columns))}"
            )
    tokens, tags = [], []
    for row, (words, labels) in enumerate(zip(frame[section.tokens_column], frame[section.label], strict=True)):
        where = f"{table.path}: row {int(table.positions[row]) + 1} ({spec_path}: {table.field})"
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
    """What a token classifier is measured on, read and checked before any model is touched."""

    section: Evaluation
    evaluation: Sentences
    source: str
    """The evaluation data as the card names it: source id, tokens and tags columns."""
    groups: dict[str, np.ndarray]
    """Sensitive feature -> the group of each evaluation sentence."""
    probe: tuple[list[ProbeGroup], str] | None
    """The name probe's name lists and where they come from."""


def token_inputs(section: Evaluation, context: TaskContext) -> TokenInputs:
    """Read and check the tagged evaluation sentences, the sensitive columns and the probe's name
    lists.

    Raises:
        DataError: a column, row, tag or word-set test is wrong.
    """
    table = context.evaluation_table
    if table is None:
        raise DataError(
            f"{context.spec_path}: data: token classification is measured on tagged sentences, and the spec "
            "declares no data source with `role: evaluation`. Fix: add one"
        )
    groups = {}
    for feature in section.sensitive_features:
        if feature not in table.frame.columns:
            raise DataError(
                f"{context.spec_path}: evaluation.sensitive_features: column {feature!r} is not in {table.path}. "
                f"Fix: name one of its columns {', '.join(map(str, table.frame.columns))}"
            )
        groups[feature] = table.frame[feature].astype("string").fillna(MISSING_GROUP).to_numpy(dtype=str)
    probe = None
    if section.name_probe is not None:
        options = section.name_probe
        field = f"{context.section_field}.name_probe"
        path = context.resolve(options.word_sets, f"{field}.word_sets")
        tests, source = chosen_word_sets(
            path, options.word_sets, options.tests, spec_path=context.spec_path, field=field
        )
        probe = (probe_groups(tests), f"{options.source}: {source}")
    return TokenInputs(
        section=section,
        evaluation=tagged_sentences(table, section, spec_path=context.spec_path),
        source=f"{table.source.id}, tokens {section.tokens_column!r}, tags {section.label!r}",
        groups=groups,
        probe=probe,
    )


def token_classification_facts(
    inputs: TokenInputs, tagger: WordTagger, context: TaskContext
) -> tuple[TokenClassificationFacts, InferenceFacts]:
    """Tag the evaluation sentences and measure them; also how they were tagged (the record's
    inference facts)."""
    section, gold = inputs.section, inputs.evaluation
    tagged = tagger.tag(
        gold.tokens, on_progress=context.throttled(f"  {context.slug}: tagged {{done:,}} of {{total:,}} sentences")
    )
    predicted = tagged.tags
    types = sorted({entity_type(t) for tags in (*gold.tags, *predicted) for t in tags if t != "O"})
    weights = sentence_weights(len(gold.tokens), samples=context.samples, seed=0)
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
                reference=section.reference_groups.get(feature),
                min_group_size=section.min_group_size,
                privacy_threshold=section.privacy_threshold,
                ratio_threshold=section.ratio_threshold,
            )
            for feature, values in inputs.groups.items()
        ]
    facts = TokenClassificationFacts(
        source=inputs.source,
        sentences=len(gold.tokens),
        tokens=sum(len(t) for t in gold.tokens),
        entity_types=types,
        headline_mode=HEADLINE_MODE,
        modes=modes,
        token_accuracy=token_accuracy(gold.tags, predicted, weights),
        span_errors=span_errors(gold.tags, predicted, types=types),
        untagged_tokens=tagged.untagged,
        bootstrap_samples=context.samples,
        min_group_size=section.min_group_size,
        privacy_threshold=section.privacy_threshold,
        ratio_threshold=section.ratio_threshold,
        groups=groups,
        name_probe=_name_probe(inputs, tagger, context),
    )
    return facts, _inference(section, tagger, tagged, context)


def _inference(section: Evaluation, tagger: WordTagger, tagged: Any, context: TaskContext) -> InferenceFacts:
    """How the evaluation sentences were tagged: where, in what batches, how fast."""
    sentences = len(tagged.tags)
    return InferenceFacts(
        device=context.device,
        rows=sentences,
        batch_size=tagged.batch_size,
        max_length=tagged.max_length,
        input=f"the tokens of column {section.tokens_column!r}, each word tagged at its first sub-word token",
        labels={str(i): label for i, label in enumerate(tagger.labels)},
        seconds=round(tagged.seconds, 3),
        rows_per_second=round(sentences / tagged.seconds, 1) if tagged.seconds > 0 else 0.0,
    )


def _name_probe(inputs: TokenInputs, tagger: WordTagger, context: TaskContext) -> NameProbeFacts | NotReported:
    """How often each group's names are recognised as the probe's entity type, in the same templates."""
    options = inputs.section.name_probe
    if options is None or inputs.probe is None:
        return NotReported(not_reported="the spec asks for no name probe (`name_probe:`)")
    groups, source = inputs.probe
    if f"B-{options.entity_type}" not in tagger.labels:
        types = sorted({label[2:] for label in tagger.labels if label != "O"})
        raise DataError(
            f"{context.spec_path}: {context.section_field}.name_probe.entity_type: the model has no tag "
            f"B-{options.entity_type}. Fix: choose one of its entity types: {', '.join(types) or '(none)'}"
        )
    sentences = probe_sentences(groups, options.templates)
    tagged = tagger.tag([s.tokens for s in sentences])
    return name_probe_facts(
        groups,
        sentences,
        tagged.tags,
        entity_type=options.entity_type,
        templates=options.templates,
        source=source,
        license=options.license,
        ratio_threshold=inputs.section.ratio_threshold,
        samples=context.samples,
    )
