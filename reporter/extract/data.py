"""Datasheet facts for one data source: what the author declared plus what the build measured."""

from __future__ import annotations

from reporter.datasets import MISSING_GROUP, Table
from reporter.extract.identifiers import RULE as IDENTIFIER_RULE
from reporter.extract.identifiers import find_identifiers
from reporter.extract.weights import sha256_file
from reporter.facts import ColumnFacts, CompositionFacts, DataMeasurements, DataSourceFacts, NotReported
from reporter.spec import DataSource, Evaluation

NOT_READ = "the build did not read this source's file"


def extract_data_source(
    source: DataSource,
    table: Table | None,
    evaluation: Evaluation | None,
    *,
    composition: CompositionFacts | NotReported | None = None,
) -> DataSourceFacts:
    """Declared facts of a source, with rows, columns, missing values, label balance and hash
    when its file was read in this build, and its ``composition`` when measured."""
    return DataSourceFacts(
        id=source.id,
        role=source.role,
        location=source.file.describe() if source.file else None,
        license=source.license,
        origin_url=source.origin_url,
        description=source.description,
        collection=source.collection,
        preprocessing=source.preprocessing,
        acquisition=source.acquisition,
        rows_declared=source.rows_declared,
        row_selection=row_selection(source),
        measurements=_measure(table, evaluation)
        if table is not None
        else NotReported(not_reported="the data is described by its publishers but not available to this build"),
        composition=composition or NotReported(not_reported=NOT_READ),
    )


def row_selection(source: DataSource) -> str | None:
    """The spec's row selection in words, so a reader can redo it from the file."""
    steps = []
    if source.split is not None:
        part = "held out" if source.role == "evaluation" else "left after holding out"
        steps.append(
            f"the rows {part} by the evaluation split: rows shuffled with numpy's default_rng(seed "
            f"{source.split.seed}).permutation, the first {source.split.evaluation_fraction:.0%} held out"
        )
    if source.sample_rows is not None:
        steps.append(
            f"a sample of {source.sample_rows:,} rows (pandas DataFrame.sample, random_state {source.sample_seed})"
        )
    text = "; then ".join(steps)
    return text[:1].upper() + text[1:] if text else None


def _measure(table: Table, evaluation: Evaluation | None) -> DataMeasurements:
    frame = table.frame
    label_balance: dict[str, int] | NotReported
    if evaluation is not None and evaluation.task == "regression":
        label_balance = NotReported(not_reported="the label is a number (regression); the model card gives its mean")
    elif evaluation is not None and evaluation.task == "token_classification" and evaluation.label in frame.columns:
        tags = frame[evaluation.label].dropna().astype(str).str.split().explode()
        label_balance = {str(k): int(v) for k, v in sorted(tags.value_counts().items())}
    elif evaluation is not None and evaluation.label in frame.columns:
        counts = frame[evaluation.label].astype("string").str.strip().fillna("(missing)").value_counts()
        label_balance = {str(k): int(v) for k, v in sorted(counts.items())}
    else:
        label_balance = NotReported(not_reported="the spec names no label column for this source")
    group_counts: dict[str, dict[str, int]] = {}
    suppressed: dict[str, int] = {}
    for feature in evaluation.sensitive_features if evaluation else []:
        assert evaluation is not None
        if feature not in frame.columns:
            continue
        counts = frame[feature].astype("string").fillna(MISSING_GROUP).value_counts()
        group_counts[feature] = {str(g): int(c) for g, c in sorted(counts.items()) if c >= evaluation.privacy_threshold}
        suppressed[feature] = int((counts < evaluation.privacy_threshold).sum())
    return DataMeasurements(
        sha256=table.sha256 or sha256_file(table.path),
        sha256_covers=table.sha256_covers,
        rows_in_file=table.rows_in_file,
        rows_used=len(frame),
        columns=[
            ColumnFacts(name=str(c), dtype=str(frame[c].dtype), missing=int(frame[c].isna().sum()))
            for c in frame.columns
        ],
        label_balance=label_balance,
        group_counts=group_counts,
        suppressed_groups=suppressed,
        identifiers=find_identifiers(frame),
        identifier_rule=IDENTIFIER_RULE,
    )
