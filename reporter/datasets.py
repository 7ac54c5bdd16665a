"""Reading the data sources a spec declares, and shaping them for training and evaluation.

Every check here names the file and the column or rows at fault, because data problems are the
most common reason a build fails and the least obvious from a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reporter.errors import DataError
from reporter.image_files import (
    PATH_COLUMN,
    class_folder_rows,
    image_paths,
    images_sha256,
    inside,
    pixel_columns,
    with_pixels,
)
from reporter.spec import MULTICLASS_TASKS, CsvFormat, DataSource, Evaluation, ImageLayout

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
    pixel_columns: tuple[str, ...] = ()
    """The columns of images read from files: an image classifier's features unless the spec lists them."""
    sha256: str | None = None
    """The data's hash when it is not the file's bytes alone (images in files), with what it covers."""
    sha256_covers: str | None = None

    def aligned(self, path: Path, *, spec_path: Path, field: str) -> Table:
        """Another file holding one row per row of this table's file, in the same order, cut to the
        rows this table kept (after split and sampling).

        Raises:
            DataError: the file cannot be read, or its row count differs from this table's file.
        """
        plain = self.source.model_copy(
            update={"split": None, "sample_rows": None, "format": CsvFormat(), "images": None, "columns_file": None}
        )
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
    image_layout: ImageLayout | None = None,
) -> Table:
    """Read a delimited file as the spec's `format` describes (with the further columns of
    ``columns_path``, the source's `columns_file`, joined row by row), or a source's images in
    files as pixel columns of ``image_layout``, sampling rows if asked.

    Values are read as strings where pandas cannot infer numbers, and leading spaces are dropped
    (many public CSVs, such as UCI Adult, pad values after the separator).
    """
    repeated: frozenset[str] = frozenset()
    if source.images is not None and source.images.path_column is None:
        where = f"{spec_path}: {field}.file"
        frame = class_folder_rows(path, label_column=source.images.label_column, where=where)
    else:
        frame, repeated = _read_frame(source.format, path, spec_path=spec_path, field=field, file_field=file_field)
    if columns_path is not None and source.columns_file is not None:
        more_field = f"{field}.columns_file"
        more, _ = _read_frame(
            source.columns_file.format, columns_path, spec_path=spec_path, field=more_field, file_field=None
        )
        frame = _joined(frame, more, spec_path=spec_path, field=more_field, paths=(path, columns_path))
    rows_in_file = len(frame)
    listed = _image_column(source, frame, path, where=f"{spec_path}: {field}") if source.images else []
    if source.split is not None:
        order = np.random.default_rng(source.split.seed).permutation(rows_in_file)
        held_out = round(rows_in_file * source.split.evaluation_fraction)
        part = order[:held_out] if source.role == "evaluation" else order[held_out:]
        frame = frame.iloc[np.sort(part)]
    if source.sample_rows is not None and source.sample_rows < len(frame):
        frame = frame.sample(n=source.sample_rows, random_state=source.sample_seed).sort_index()
    table = Table(
        source=source,
        path=path,
        frame=frame.reset_index(drop=True),
        rows_in_file=rows_in_file,
        positions=frame.index.to_numpy(),
        field=field,
        repeated_columns=repeated,
    )
    return table if source.images is None else _with_images(table, listed, spec_path=spec_path, layout=image_layout)


def listed_images(source: DataSource, path: Path, *, spec_path: Path, field: str) -> list[Path]:
    """The image files a CSV of paths names (none for other sources): inputs of the model's facts
    like the CSV itself, hashed into its cache key and sent with its job."""
    if source.images is None or source.images.path_column is None:
        return []
    frame, _ = _read_frame(source.format, path, spec_path=spec_path, field=field, file_field=None)
    where = f"{spec_path}: {field}"
    return [inside(path.parent, relative, where=where) for relative in _image_column(source, frame, path, where=where)]


def _image_column(source: DataSource, frame: pd.DataFrame, path: Path, *, where: str) -> list[str]:
    """Every image path the source lists, checked, in row order."""
    assert source.images is not None
    return image_paths(frame, source.images.path_column or PATH_COLUMN, csv=path, where=where)


def _with_images(table: Table, listed: list[str], *, spec_path: Path, layout: ImageLayout | None) -> Table:
    """The table with the pixels of its kept rows' images, hashed with every image it ``listed``."""
    images = table.source.images
    assert images is not None
    where = f"{spec_path}: {table.field}"
    if layout is None:
        raise DataError(f"{where}.images: images are read as an image classifier's pixels. Fix: state evaluation.image")
    in_folder = images.path_column is None
    folder = table.path if in_folder else table.path.parent
    kept = [listed[int(position)] for position in table.positions]
    covers = (
        "each image's path in the folder and SHA-256, in class then name order"
        if in_folder
        else "the CSV's SHA-256, then each image's path and SHA-256, in the CSV's row order"
    )
    return replace(
        table,
        frame=with_pixels(table.frame, kept, folder=folder, layout=layout, where=where),
        pixel_columns=tuple(pixel_columns(layout)),
        sha256=images_sha256(folder, listed, listing=None if in_folder else table.path),
        sha256_covers=covers,
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
        return _split(table, evaluation, labels)
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
    return _split(table, evaluation, labels, classes if evaluation.task in MULTICLASS_TASKS else None)


def _split(table: Table, evaluation: Evaluation, labels: np.ndarray, classes: list[str] | None = None) -> LabelledData:
    """The features are the spec's, or the pixels of images in files, or every column but the label's."""
    frame = table.frame
    excluded = {evaluation.label, evaluation.scores_column, evaluation.predictions_column}
    feature_columns = (
        evaluation.features or list(table.pixel_columns) or [c for c in frame.columns if c not in excluded]
    )
    sensitive = frame[evaluation.sensitive_features].astype("string").fillna(MISSING_GROUP)
    return LabelledData(features=frame[feature_columns], labels=labels, sensitive=sensitive, classes=classes)
