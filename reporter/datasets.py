"""Reading the data sources a spec declares, and shaping them for training and evaluation.

Every check here names the file and the column or rows at fault, because data problems are the
most common reason a build fails and the least obvious from a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reporter.errors import DataError
from reporter.spec import MULTICLASS_TASKS, CsvFormat, DataSource, Evaluation

MISSING_GROUP = "(missing)"


@dataclass(frozen=True)
class Table:
    """One data source read into memory, with the path it came from for error messages."""

    source: DataSource
    path: Path
    frame: pd.DataFrame
    rows_in_file: int
    positions: np.ndarray  # the file row (0-based, after the header) of each frame row
    field: str
    """Where the spec names this file (`data.N`), for error messages about its rows."""
    repeated_columns: frozenset[str] = frozenset()
    """Names the header gives more than one column (public files have them, e.g. COMPAS); pandas
    reads the later ones as `name.1`, so a spec naming one of them would read the first silently."""

    def aligned(self, path: Path, *, spec_path: Path, field: str) -> Table:
        """Another file holding one row per row of this table's file, in the same order, cut to the
        rows this table kept (after split and sampling).

        Raises:
            DataError: the file cannot be read, or its row count differs from this table's file.
        """
        plain = self.source.model_copy(update={"split": None, "sample_rows": None, "format": CsvFormat()})
        companion = read_table(plain, path, spec_path=spec_path, field=field, file_field=field)
        if companion.rows_in_file != self.rows_in_file:
            raise DataError(
                f"{spec_path}: {field}: {path} has {companion.rows_in_file} data rows but the evaluation file "
                f"{self.path} has {self.rows_in_file}. Fix: give one row per evaluation row, in the same order"
            )
        frame = companion.frame.iloc[self.positions].reset_index(drop=True)
        return Table(
            source=self.source,
            path=path,
            frame=frame,
            rows_in_file=companion.rows_in_file,
            positions=self.positions,
            field=field,
        )


def _ambiguous_columns(frame: pd.DataFrame, header: pd.Series) -> frozenset[str]:
    """Header names given to several columns that hold different values (pandas reads the later
    ones as `name.1`, …). Repeats holding the same values, as in ProPublica's COMPAS file, are not
    ambiguous: the first is read."""
    ambiguous = set()
    for name in set(header[header.duplicated()].astype(str)):
        copies = [str(c) for c in frame.columns if re.fullmatch(rf"{re.escape(name)}(\.\d+)?", str(c))]
        if any(not frame[name].equals(frame[copy]) for copy in copies[1:]):
            ambiguous.add(name)
    return frozenset(ambiguous)


def read_table(
    source: DataSource,
    path: Path,
    *,
    spec_path: Path,
    field: str,
    file_field: str | None = None,
    columns_path: Path | None = None,
) -> Table:
    """Read a delimited file as the spec's `format` describes (with the further columns of
    ``columns_path``, the source's `columns_file`, joined row by row), sampling rows if asked.

    Values are read as strings where pandas cannot infer numbers, and leading spaces are dropped
    (many public CSVs, such as UCI Adult, pad values after the separator).
    """
    frame, repeated = _read_frame(source.format, path, spec_path=spec_path, field=field, file_field=file_field)
    if columns_path is not None and source.columns_file is not None:
        more_field = f"{field}.columns_file"
        more, _ = _read_frame(
            source.columns_file.format, columns_path, spec_path=spec_path, field=more_field, file_field=None
        )
        frame = _joined(frame, more, spec_path=spec_path, field=more_field, paths=(path, columns_path))
    rows_in_file = len(frame)
    if source.split is not None:
        order = np.random.default_rng(source.split.seed).permutation(rows_in_file)
        held_out = round(rows_in_file * source.split.evaluation_fraction)
        part = order[:held_out] if source.role == "evaluation" else order[held_out:]
        frame = frame.iloc[np.sort(part)]
    if source.sample_rows is not None and source.sample_rows < len(frame):
        frame = frame.sample(n=source.sample_rows, random_state=source.sample_seed).sort_index()
    positions = frame.index.to_numpy()
    return Table(
        source=source,
        path=path,
        frame=frame.reset_index(drop=True),
        rows_in_file=rows_in_file,
        positions=positions,
        field=field,
        repeated_columns=repeated,
    )


def _joined(
    frame: pd.DataFrame, more: pd.DataFrame, *, spec_path: Path, field: str, paths: tuple[Path, Path]
) -> pd.DataFrame:
    """The columns of two files holding the same rows in the same order, side by side.

    Raises:
        DataError: the row counts differ, or a column name is in both files.
    """
    if len(more) != len(frame):
        raise DataError(
            f"{spec_path}: {field}.file: {paths[1]} has {len(more)} rows but {paths[0]} has {len(frame)}. "
            "Fix: name a file with one row per row of the data file, in the same order"
        )
    clash = sorted(set(map(str, frame.columns)) & set(map(str, more.columns)))
    if clash:
        raise DataError(
            f"{spec_path}: {field}.format: both files have column(s) {', '.join(clash[:5])}. "
            f"Fix: give the further columns other names in {field}.format.column_names"
        )
    return pd.concat([frame, more], axis=1)


def _read_frame(
    fmt: CsvFormat, path: Path, *, spec_path: Path, field: str, file_field: str | None
) -> tuple[pd.DataFrame, frozenset[str]]:
    """One delimited file as a frame (columns named by position when it has neither header nor
    names), and the header names it repeats ambiguously."""
    where = f"{spec_path}: {file_field or field + '.file'}"
    options: dict[str, Any] = {"sep": fmt.separator, "skiprows": fmt.skip_rows, "encoding": fmt.encoding}
    try:
        frame = pd.read_csv(
            path,
            header=0 if fmt.header else None,
            names=fmt.column_names,
            na_values=fmt.na_values or None,
            skipinitialspace=True,
            index_col=False,
            **options,
        )
        header = pd.read_csv(path, header=None, nrows=1, dtype=str, **options).iloc[0] if fmt.header else None
    except UnicodeError as exc:
        raise DataError(
            f"{where}: cannot read {path} as {fmt.encoding} text: {exc}. "
            + ("Fix: save it as UTF-8" if file_field else f"Fix: save it as UTF-8, or set {field}.format.encoding")
        ) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise DataError(
            f"{where}: cannot read {path} as CSV: {exc}. "
            + (
                "Fix: save it as comma-separated text with a header row"
                if file_field
                else f"Fix: check {field}.format (separator, header, column_names, skip_rows)"
            )
        ) from None
    repeated = _ambiguous_columns(frame, header) if header is not None else frozenset()
    if frame.empty:
        raise DataError(
            f"{spec_path}: {file_field or field + '.file'}: {path} has no data rows. "
            f"Fix: point {file_field or field + '.file'} at a file with data"
        )
    if not fmt.header and not fmt.column_names:
        frame.columns = [str(position) for position in range(frame.shape[1])]
    return frame, repeated


def given_scores(table: Table, evaluation: Evaluation, *, spec_path: Path) -> np.ndarray:
    """The positive-class probabilities a model evaluated elsewhere left in the evaluation data.

    Raises:
        DataError: scores are missing, not numbers, or outside [0, 1], with the rows' count.
    """
    column = evaluation.scores_column
    assert column is not None
    values = pd.to_numeric(table.frame[column], errors="coerce").to_numpy(dtype=np.float64)
    bad = int((~np.isfinite(values) | (values < 0) | (values > 1)).sum())
    if bad:
        raise DataError(
            f"{table.path}: {bad} row(s) of scores column {column!r} are missing, not numbers or outside [0, 1] "
            f"({spec_path}: evaluation.scores_column). Fix: give every row a probability of the positive class"
        )
    return values


def given_predictions(table: Table, evaluation: Evaluation, *, spec_path: Path) -> np.ndarray:
    """What a model evaluated elsewhere predicted: 0/1 labels (positive when in ``positive_label``)
    for classification, float64 values for regression.

    Raises:
        DataError: predictions are missing (or, for regression, not finite numbers), with the rows' count.
    """
    column = evaluation.predictions_column
    assert column is not None
    raw = table.frame[column]
    if evaluation.task == "regression":
        return numeric_column(table, column, field="evaluation.predictions_column", spec_path=spec_path)
    missing = int(raw.isna().sum())
    if missing:
        raise DataError(
            f"{table.path}: {missing} row(s) have no value in predictions column {column!r} "
            f"({spec_path}: evaluation.predictions_column). Fix: give every row the model's predicted label"
        )
    if evaluation.task in MULTICLASS_TASKS:
        return pd.Index(class_names([table], evaluation)).get_indexer(pd.Index(raw.astype(str).str.strip()))
    return raw.astype(str).str.strip().isin(evaluation.positive_label or []).to_numpy(dtype=np.int8)


def check_given_predictions(table: Table, evaluation: Evaluation, *, spec_path: Path) -> None:
    """The predictions a model evaluated elsewhere left in the data, checked as its task reads
    them (scores first, as binary classification prefers them): what `reporter check` can see of
    a model it never runs.

    Raises:
        DataError: as :func:`given_scores` or :func:`given_predictions`.
    """
    if evaluation.scores_column:
        given_scores(table, evaluation, spec_path=spec_path)
    elif evaluation.predictions_column:
        given_predictions(table, evaluation, spec_path=spec_path)


def prediction_columns(evaluation: Evaluation, *, in_predictions_file: bool) -> list[tuple[str, list[str]]]:
    """The prediction columns a file must hold (by the field naming them): those of the evaluation
    data, or those of the predictions file when the spec names one."""
    if (evaluation.predictions_file is not None) != in_predictions_file:
        return []
    return [
        (f"evaluation.{name}", [getattr(evaluation, name)])
        for name in ("scores_column", "predictions_column")
        if getattr(evaluation, name)
    ]


def class_names(tables: list[Table], evaluation: Evaluation) -> list[str]:
    """Every class of a multiclass task: the values of the label (and predictions) columns of the
    tables, stripped and sorted, so training and evaluation code classes alike."""
    values: set[str] = set()
    for table in tables:
        for column in (evaluation.label, evaluation.predictions_column):
            if column and column in table.frame.columns:
                values.update(table.frame[column].dropna().astype(str).str.strip())
    return sorted(values)


def numeric_column(table: Table, column: str, *, field: str, spec_path: Path) -> np.ndarray:
    """A column of finite numbers as float64.

    Raises:
        DataError: some rows are missing, not numbers or infinite, with their count.
    """
    values = pd.to_numeric(table.frame[column], errors="coerce").to_numpy(dtype=np.float64)
    bad = int((~np.isfinite(values)).sum())
    if bad:
        raise DataError(
            f"{table.path}: {bad} row(s) of column {column!r} are missing, not numbers or infinite "
            f"({spec_path}: {field}). Fix: give every row a finite number, or drop those rows"
        )
    return values


@dataclass(frozen=True)
class LabelledData:
    """Features, labels and sensitive columns of one table, checked for the evaluation."""

    features: pd.DataFrame
    labels: np.ndarray  # 0/1 int8 (binary), class codes (multiclass), float64 (regression)
    sensitive: pd.DataFrame
    classes: list[str] | None = None  # multiclass: the class of each code


def label_data(
    table: Table, evaluation: Evaluation, *, spec_path: Path, classes: list[str] | None = None
) -> LabelledData:
    """Split a table into features, labels (0/1, or numbers for regression) and sensitive columns.

    Raises:
        DataError: a named column is missing, labels are missing, not numbers for regression, or
            hold one class only for classification.
    """
    frame = table.frame
    named = [
        ("evaluation.label", [evaluation.label]),
        *prediction_columns(evaluation, in_predictions_file=False),
        ("evaluation.sensitive_features", evaluation.sensitive_features),
        ("evaluation.features", evaluation.features or []),
    ]
    for field, columns in named:
        ambiguous = [c for c in columns if c in table.repeated_columns]
        if ambiguous:
            raise DataError(
                f"{spec_path}: {field}: the header of {table.path} names column(s) {', '.join(map(repr, ambiguous))} "
                "more than once, so which one is meant cannot be told. Fix: give every column its own name"
            )
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DataError(
                f"{spec_path}: {field}: column(s) {', '.join(map(repr, missing))} are not in data source "
                f"{table.source.id!r} ({table.path}). Fix: use one of the columns {', '.join(map(str, frame.columns))}"
            )
    raw = frame[evaluation.label]
    if evaluation.task == "regression":
        labels = numeric_column(table, evaluation.label, field="evaluation.label", spec_path=spec_path)
        return _split(frame, evaluation, labels)
    absent = int(raw.isna().sum())
    if absent:
        raise DataError(
            f"{table.path}: {absent} row(s) have no value in label column {evaluation.label!r} "
            f"({spec_path}: evaluation.label). Fix: drop or fill those rows"
        )
    if pd.api.types.is_numeric_dtype(raw) and not np.isfinite(raw.to_numpy(dtype=np.float64)).all():
        bad = int((~np.isfinite(raw.to_numpy(dtype=np.float64))).sum())
        raise DataError(
            f"{table.path}: {bad} row(s) have an infinite value in label column {evaluation.label!r} "
            f"({spec_path}: evaluation.label). Fix: correct or drop those rows"
        )
    if evaluation.task in MULTICLASS_TASKS:
        classes = classes or class_names([table], evaluation)
        labels = pd.Index(classes).get_indexer(pd.Index(raw.astype(str).str.strip()))
    else:
        labels = raw.astype(str).str.strip().isin(evaluation.positive_label or []).to_numpy(dtype=np.int8)
    if labels.min() == labels.max():
        seen = ", ".join(sorted(raw.astype(str).unique())[:5])
        fix = (
            f"set evaluation.positive_label in {spec_path} to the positive value(s)"
            if evaluation.task == "binary_classification"
            else "evaluate on data holding at least two classes"
        )
        raise DataError(
            f"{table.path}: label column {evaluation.label!r} holds one class only (values: {seen}). Fix: {fix}"
        )
    return _split(frame, evaluation, labels, classes if evaluation.task in MULTICLASS_TASKS else None)


def _split(
    frame: pd.DataFrame, evaluation: Evaluation, labels: np.ndarray, classes: list[str] | None = None
) -> LabelledData:
    excluded = {evaluation.label, evaluation.scores_column, evaluation.predictions_column}
    feature_columns = evaluation.features or [c for c in frame.columns if c not in excluded]
    sensitive = frame[evaluation.sensitive_features].astype("string").fillna(MISSING_GROUP)
    return LabelledData(features=frame[feature_columns], labels=labels, sensitive=sensitive, classes=classes)
