"""Importing MLflow runs without MLflow: the SQLite store a real Trainer run wrote gives the series
MLflow's own client reads back, the same series as the run's TensorBoard files and its
`trainer_state.json`; a file store MLflow writes gives the same; a damaged store or a run that is
not there is a located error."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from reporter.errors import ModelFileError
from reporter.facts import DeclaredTrainingFacts
from reporter.training_logs import import_training_log

WHERE = "spec: source.load.training_log.file"


def imported(path: Path, run: str | None = None) -> DeclaredTrainingFacts:
    return import_training_log("mlflow", path, where=WHERE, named=path.name, run=run)


@pytest.fixture(scope="module")
def client(trainer_run: Path) -> Iterator[object]:
    """MLflow's own client on the run's SQLite store: the oracle."""
    from mlflow.tracking import MlflowClient

    yield MlflowClient(tracking_uri=f"sqlite:///{trainer_run / 'mlflow.db'}")


def only_run(client: object) -> object:
    [experiment] = [e for e in client.search_experiments() if e.name == "adult-text"]  # type: ignore[attr-defined]
    [run] = client.search_runs([experiment.experiment_id])  # type: ignore[attr-defined]
    return run


def test_every_metric_mlflows_own_client_reads(trainer_run: Path, client: object) -> None:
    run = only_run(client)
    facts = imported(trainer_run / "mlflow.db")
    assert facts.run is not None and facts.run.run_id == run.info.run_id  # type: ignore[attr-defined]
    assert facts.run.experiment == "adult-text" and facts.run.status == "FINISHED"
    assert sorted(s.name for s in facts.series) == sorted(run.data.metrics)  # type: ignore[attr-defined]
    for series in facts.series:
        history = client.get_metric_history(run.info.run_id, series.name)  # type: ignore[attr-defined]
        history = sorted(history, key=lambda m: (m.timestamp, m.step))
        assert series.steps == [m.step for m in history], series.name
        assert series.values == [m.value for m in history], series.name
    assert facts.settings == run.data.params  # type: ignore[attr-defined]
    assert facts.settings["num_train_epochs"] == "2" and facts.settings["seed"] == "0"
    assert facts.wall_seconds == (run.info.end_time - run.info.start_time) / 1000  # type: ignore[attr-defined]


def test_mlflow_and_tensorboard_give_the_same_series(trainer_run: Path) -> None:
    mlflow = {s.name: s for s in imported(trainer_run / "mlflow.db").series}
    [folder] = {p.parent for p in trainer_run.rglob("events.out.tfevents.*")}
    tensorboard = {s.name: s for s in import_training_log("tensorboard", folder, where=WHERE, named="runs").series}
    compared = 0
    for tag, series in tensorboard.items():
        section, name = tag.split("/", 1)
        key = f"eval_{name}" if section == "eval" else name
        assert mlflow[key].steps == series.steps, tag
        # TensorBoard stores a scalar as float32; MLflow keeps the float64 Trainer logged.
        assert [float(np.float32(v)) for v in mlflow[key].values if v is not None] == series.values, tag
        compared += 1
    assert compared >= 5 and {"loss", "eval_loss", "learning_rate"} <= set(mlflow)


def test_mlflow_holds_the_trainer_states_values_exactly(trainer_run: Path) -> None:
    mlflow = {s.name: s for s in imported(trainer_run / "mlflow.db").series}
    state = json.loads((trainer_run / "trainer_state.json").read_text())
    for key in ("loss", "grad_norm", "learning_rate", "eval_loss"):
        logged = [(e["step"], e[key]) for e in state["log_history"] if key in e and "train_runtime" not in e]
        assert list(zip(mlflow[key].steps, mlflow[key].values, strict=True)) == logged, key


def test_a_file_store_gives_what_the_sqlite_store_gives(
    trainer_run: Path, client: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow writes the same run into a legacy file store; both imports must agree."""
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    source = only_run(client)
    files = MlflowClient(tracking_uri=(tmp_path / "mlruns").as_uri())
    experiment = files.create_experiment("adult-text")
    copy = files.create_run(experiment, run_name="copy", start_time=source.info.start_time)  # type: ignore[attr-defined]
    run_id = copy.info.run_id
    metrics = [
        Metric(m.key, m.value, m.timestamp, m.step)
        for key in source.data.metrics  # type: ignore[attr-defined]
        for m in client.get_metric_history(source.info.run_id, key)  # type: ignore[attr-defined]
    ]
    params = [Param(k, v) for k, v in source.data.params.items()]  # type: ignore[attr-defined]
    for start in range(0, max(len(metrics), len(params)), 100):
        files.log_batch(run_id, metrics=metrics[start : start + 100], params=params[start : start + 100])
    files.set_terminated(run_id, end_time=source.info.end_time)  # type: ignore[attr-defined]
    from_sqlite, from_files = imported(trainer_run / "mlflow.db"), imported(tmp_path / "mlruns")
    assert from_files.series == from_sqlite.series and from_files.settings == from_sqlite.settings
    assert from_files.wall_seconds == from_sqlite.wall_seconds
    assert from_files.run is not None and (from_files.run.run_id, from_files.run.name) == (run_id, "copy")
    assert imported(tmp_path / "mlruns" / experiment / run_id).series == from_sqlite.series


def test_a_run_that_is_not_there_is_named_with_the_runs_that_are(trainer_run: Path, client: object) -> None:
    with pytest.raises(ModelFileError) as error:
        imported(trainer_run / "mlflow.db", run="0123456789abcdef")
    message = str(error.value)
    assert "no active run '0123456789abcdef'" in message and only_run(client).info.run_id in message  # type: ignore[attr-defined]
    assert WHERE in message and "Fix: set `source.load.training_log.run`" in message


def test_a_store_of_two_runs_asks_which(trainer_run: Path, tmp_path: Path) -> None:
    store = tmp_path / "mlflow.db"
    shutil.copy(trainer_run / "mlflow.db", store)
    with sqlite3.connect(store) as connection:
        [row] = connection.execute("SELECT * FROM runs").fetchall()
        connection.execute(f"INSERT INTO runs VALUES ({', '.join('?' * len(row))})", ("f" * 32, *row[1:]))
    with pytest.raises(ModelFileError, match="holds 2 runs: .*which one trained this model"):
        imported(store)
    assert imported(store, run="f" * 32).run.run_id == "f" * 32  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("damage", "phrase"),
    [
        (lambda data: b"not a database" + data[14:], "not an SQLite database"),
        (lambda data: data[: len(data) // 3], "not an MLflow tracking store"),
    ],
)
def test_a_damaged_store_is_a_located_error(trainer_run: Path, tmp_path: Path, damage: object, phrase: str) -> None:
    store = tmp_path / "mlflow.db"
    store.write_bytes(damage((trainer_run / "mlflow.db").read_bytes()))  # type: ignore[operator]
    with pytest.raises(ModelFileError) as error:
        imported(store)
    assert phrase in str(error.value) and str(store) in str(error.value) and "Fix:" in str(error.value)


def test_an_sqlite_file_that_is_not_a_store_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "other.db"
    with sqlite3.connect(store) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(ModelFileError, match="not an MLflow tracking store.*no such table"):
        imported(store)


def test_a_malformed_metric_line_is_named_by_file_and_line(tmp_path: Path) -> None:
    run = tmp_path / "mlruns" / "1" / ("a" * 32)
    (run / "metrics").mkdir(parents=True)
    (run / "meta.yaml").write_text(f"run_id: {'a' * 32}\nrun_name: r\nstatus: 3\nstart_time: 1\nend_time: 2\n")
    (run / "metrics" / "loss").write_text("1000 0.5 0\n1001 half 1\n")
    with pytest.raises(ModelFileError) as error:
        imported(tmp_path / "mlruns")
    assert f"{run / 'metrics' / 'loss'}, line 2, is '1001 half 1'" in str(error.value)
