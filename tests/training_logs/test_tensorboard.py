"""Importing TensorBoard event files: the same Trainer run's event files give the series its
`trainer_state.json` holds (as float32, which is how TensorBoard stores a scalar), every point as
TensorBoard's own reader sees it, and a damaged file is refused with the byte at fault."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from reporter.errors import ModelFileError
from reporter.facts import DeclaredTrainingFacts
from reporter.training_logs import import_training_log


def imported(path: Path) -> DeclaredTrainingFacts:
    return import_training_log("tensorboard", path, where="spec: source.load.training_log.file", named=path.name)


def event_folder(run: Path) -> Path:
    [folder] = {p.parent for p in run.rglob("events.out.tfevents.*")}
    return folder


def test_the_event_files_give_the_trainer_states_series(trainer_run: Path) -> None:
    facts = imported(event_folder(trainer_run))
    series = {s.name: s for s in facts.series}
    state = json.loads((trainer_run / "trainer_state.json").read_text())
    for key in ("loss", "learning_rate", "grad_norm", "eval_loss"):
        tag = f"eval/{key.removeprefix('eval_')}" if key.startswith("eval_") else f"train/{key}"
        logged = [(e["step"], e[key]) for e in state["log_history"] if key in e and "train_runtime" not in e]
        assert series[tag].steps == [step for step, _ in logged], tag
        assert series[tag].values == [float(np.float32(value)) for _, value in logged], tag
    assert facts.settings["num_train_epochs"] == 2 and facts.settings["per_device_train_batch_size"] == 16
    assert facts.settings["seed"] == 0


def test_every_point_tensorboards_own_reader_sees(trainer_run: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    folder = event_folder(trainer_run)
    oracle = EventAccumulator(str(folder), size_guidance={"scalars": 0})  # 0: keep every point
    oracle.Reload()
    facts = imported(folder)
    assert sorted(s.name for s in facts.series) == sorted(oracle.Tags()["scalars"])
    for series in facts.series:
        points = oracle.Scalars(series.name)
        assert series.steps == [p.step for p in points] and series.values == [p.value for p in points]


@pytest.mark.parametrize(("cut", "phrase"), [(-3, "past the end of the file"), (5, "inside a record's header")])
def test_a_truncated_event_file_is_refused_with_the_byte(
    trainer_run: Path, tmp_path: Path, cut: int, phrase: str
) -> None:
    source = sorted(event_folder(trainer_run).glob("events.out.tfevents.*"))[0]
    data = source.read_bytes()
    damaged = tmp_path / source.name
    damaged.write_bytes(data[:cut] if cut < 0 else data[:cut])
    with pytest.raises(ModelFileError) as error:
        imported(damaged)
    message = str(error.value)
    assert phrase in message and str(damaged) in message
    # The byte named is where the damaged record starts: the file's start for a cut header, else
    # the last record, whose end the cut removed.
    assert f"at byte {0 if cut > 0 else last_record_offset(data)}," in message


def last_record_offset(data: bytes) -> int:
    """Where the last record of an intact event file starts, walking the records' lengths."""
    offset = last = 0
    while offset < len(data):
        last = offset
        offset += 12 + int.from_bytes(data[offset : offset + 8], "little") + 4
    return last


def test_a_flipped_byte_fails_the_checksum(trainer_run: Path, tmp_path: Path) -> None:
    source = sorted(event_folder(trainer_run).glob("events.out.tfevents.*"))[0]
    data = bytearray(source.read_bytes())
    data[len(data) // 2] ^= 0x40
    damaged = tmp_path / source.name
    damaged.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"at byte \d+, the record's (data|length) fails its checksum"):
        imported(damaged)


def test_a_folder_without_event_files_is_named(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="holds no TensorBoard event file"):
        imported(tmp_path)


def test_a_trainer_output_folder_must_hold_the_state(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="the folder holds no `trainer_state.json`. Fix: name the run's output"):
        import_training_log("trainer_state", tmp_path, where="spec", named="x")
