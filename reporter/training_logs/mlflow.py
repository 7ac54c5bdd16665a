"""MLflow runs: every metric a run logged, its parameters and its identity, read without MLflow.

Two stores are read. The SQLite store (`mlflow.db`, MLflow's default since 3.7) through Python's
`sqlite3`, opened read-only; its tables `experiments`, `runs`, `metrics` and `params` are the ones
MLflow's SQLAlchemy store has written since 1.x. The legacy file store (`mlruns/`) as the folders
MLflow writes: `<experiment>/<run>/meta.yaml`, one file per metric (`timestamp value step` lines,
NaN written as `nan`) and one per parameter, under `metrics/` and `params/`. Both are read in the
order of (timestamp, step, name), so the two stores of one run give the same series in the same
order. Importing MLflow
instead would pull in a web server's dependencies to read two tables, and would run its database
migrations on the user's store. Parameters are kept as the text MLflow stores them as.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import yaml

from reporter.errors import ModelFileError
from reporter.facts import DeclaredTrainingFacts, LoggedRun, LoggedSeries

SQLITE_MAGIC = b"SQLite format 3\x00"
FINISHED = {"FINISHED", "3"}
"""A finished run's status: its name in the SQLite store, its enum value in a file store's meta.yaml."""
RUN_FIX = "Fix: set `source.load.training_log.run` to one of the run ids above"

Points = dict[str, tuple[list[int], list[float | None], list[float | None]]]


@dataclass(frozen=True)
class _Run:
    run_id: str
    name: str
    experiment: str
    status: str
    start_ms: int | None
    end_ms: int | None


def read_mlflow(path: Path, *, where: str, named: str, sha256: str, run: str | None) -> DeclaredTrainingFacts:
    """The training report one MLflow run declares: from an SQLite store file, a file store
    (`mlruns/`) or one run's folder in it.

    Raises:
        ModelFileError: the file is not an SQLite database or not an MLflow store, the run named
            does not exist (the runs there are listed), or a metric line is malformed.
    """
    if path.is_dir():
        found, params, points = _read_file_store(path, where=where, run=run)
    else:
        found, params, points = _read_sqlite_store(path, where=where, run=run)
    wall = (found.end_ms - found.start_ms) / 1000 if found.end_ms and found.start_ms else None
    return DeclaredTrainingFacts(
        log_format="mlflow",
        log_file=named,
        log_sha256=sha256,
        settings=dict(sorted(params.items())),
        series=[LoggedSeries(name=n, steps=s, epochs=e, values=v) for n, (s, e, v) in points.items()],
        summary={},
        wall_seconds=wall if found.status in FINISHED else None,
        total_flos=None,
        best_checkpoint=None,
        best_metric=None,
        run=LoggedRun(run_id=found.run_id, name=found.name, experiment=found.experiment, status=found.status),
    )


def _read_sqlite_store(path: Path, *, where: str, run: str | None) -> tuple[_Run, dict[str, str], Points]:
    """The run, its parameters and its metrics from an SQLite store, opened read-only."""
    with path.open("rb") as handle:
        if handle.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise _not_a_store(path, where, "it is not an SQLite database (its first bytes are not SQLite's header)")
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise _not_a_store(path, where, f"SQLite cannot open it ({exc})") from None
    try:
        with connection:
            runs = [
                _Run(str(r[0]), str(r[1] or ""), str(r[2] or ""), str(r[3] or ""), r[4], r[5])
                for r in connection.execute(
                    "SELECT r.run_uuid, r.name, e.name, r.status, r.start_time, r.end_time FROM runs r "
                    "LEFT JOIN experiments e ON e.experiment_id = r.experiment_id "
                    "WHERE r.lifecycle_stage = 'active' ORDER BY r.start_time, r.run_uuid"
                )
            ]
            found = _choose(runs, run, path=path, where=where)
            params = dict(connection.execute("SELECT key, value FROM params WHERE run_uuid = ?", (found.run_id,)))
            rows = connection.execute(
                "SELECT key, value, step, is_nan FROM metrics WHERE run_uuid = ? ORDER BY timestamp, step, key, rowid",
                (found.run_id,),
            ).fetchall()
    except sqlite3.DatabaseError as exc:
        raise _not_a_store(path, where, f"it is not an MLflow tracking store ({exc})") from None
    finally:
        connection.close()
    points: Points = {}
    for key, value, step, is_nan in rows:
        _append(points, str(key), int(step), None if is_nan else float(value))
    return found, {str(k): str(v) for k, v in params.items()}, points


def _read_file_store(path: Path, *, where: str, run: str | None) -> tuple[_Run, dict[str, str], Points]:
    """The run, its parameters and its metrics from a file store, or from one run's folder."""
    run_folders = [path] if (path / "meta.yaml").is_file() and (path / "metrics").is_dir() else _run_folders(path)
    runs = {folder: _meta(folder, path=path, where=where) for folder in run_folders}
    found = _choose(sorted(runs.values(), key=lambda r: (r.start_ms or 0, r.run_id)), run, path=path, where=where)
    folder = next(folder for folder, meta in runs.items() if meta == found)
    params = {_key(f, folder / "params"): f.read_text(encoding="utf-8") for f in _files(folder / "params")}
    lines: list[tuple[int, int, str, int, float | None]] = []
    for file in _files(folder / "metrics"):
        key = _key(file, folder / "metrics")
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            timestamp, value, step = _metric_line(line, file=file, number=number, where=where)
            lines.append((timestamp, step, key, len(lines), value))
    points: Points = {}
    for _, step, key, _, value in sorted(lines):
        _append(points, key, step, value)
    return found, params, points


def _run_folders(store: Path) -> list[Path]:
    """Every run folder of a file store: `<experiment id>/<run id>/` holding a meta.yaml."""
    return sorted(
        meta.parent
        for meta in store.glob("*/*/meta.yaml")
        if meta.parent.parent.name != ".trash" and (meta.parent / "metrics").is_dir()
    )


def _meta(folder: Path, *, path: Path, where: str) -> _Run:
    """A run's identity from its meta.yaml, and its experiment's name from the folder above."""
    meta = _yaml(folder / "meta.yaml", where=where)
    experiment = _yaml(folder.parent / "meta.yaml", where=where) if (folder.parent / "meta.yaml").is_file() else {}
    if not meta.get("run_id") and not meta.get("run_uuid"):
        raise _not_a_store(path, where, f"{folder / 'meta.yaml'} names no run id")
    start, end = meta.get("start_time"), meta.get("end_time")
    return _Run(
        run_id=str(meta.get("run_id") or meta.get("run_uuid")),
        name=str(meta.get("run_name") or ""),
        experiment=str(experiment.get("name") or ""),
        status=str(meta.get("status", "")),
        start_ms=start if isinstance(start, int) else None,
        end_ms=end if isinstance(end, int) else None,
    )


def _yaml(file: Path, *, where: str) -> dict[str, object]:
    try:
        value = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise _not_a_store(file, where, f"its meta.yaml is not YAML ({exc})") from None
    return value if isinstance(value, dict) else {}


def _metric_line(line: str, *, file: Path, number: int, where: str) -> tuple[int, float | None, int]:
    """One `timestamp value step` line of a file store's metric file (older stores omit the step)."""
    fields = line.split()
    try:
        if len(fields) not in (2, 3):
            raise ValueError(line)
        value = float(fields[1])
        return int(fields[0]), value if math.isfinite(value) else None, int(fields[2]) if len(fields) == 3 else 0
    except ValueError:
        raise ModelFileError(
            f"{where}: {file}, line {number}, is {line!r}, not `timestamp value step` as MLflow writes metrics. "
            "Fix: restore the run's metric files as MLflow wrote them"
        ) from None


def _files(folder: Path) -> list[Path]:
    return sorted(file for file in folder.rglob("*") if file.is_file()) if folder.is_dir() else []


def _key(file: Path, folder: Path) -> str:
    """A metric's or parameter's name: its path under the folder (a `/` in a name is a subfolder)."""
    return file.relative_to(folder).as_posix()


def _append(points: Points, key: str, step: int, value: float | None) -> None:
    steps, epochs, values = points.setdefault(key, ([], [], []))
    steps.append(step)
    epochs.append(None)
    values.append(value if value is None or math.isfinite(value) else None)


def _choose(runs: list[_Run], run: str | None, *, path: Path, where: str) -> _Run:
    """The run the spec names, or the store's only run."""
    listed = "; ".join(f"{r.run_id} ({r.name or 'unnamed'}, experiment {r.experiment or '?'})" for r in runs[:8])
    if run is not None:
        for candidate in runs:
            if candidate.run_id == run:
                return candidate
        there = f"the runs there: {listed}" if runs else "it holds no run"
        raise ModelFileError(f"{where}: {path} has no active run {run!r}; {there}. {RUN_FIX}")
    if len(runs) != 1:
        there = f"{len(runs)} runs: {listed}" if runs else "no run"
        raise ModelFileError(f"{where}: {path} holds {there}; which one trained this model? {RUN_FIX}")
    return runs[0]


def _not_a_store(path: Path, where: str, problem: str) -> ModelFileError:
    return ModelFileError(
        f"{where}: {path} is not an MLflow tracking store: {problem}. "
        "Fix: name the run's `mlflow.db` (the SQLite store) or its `mlruns` folder"
    )
