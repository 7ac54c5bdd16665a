"""Hugging Face Trainer's `trainer_state.json`: the run's settings, every logged scalar and the
end-of-training summary.

The file's `log_history` is a list of the dictionaries `Trainer.log` wrote, in order: training
entries (`loss`, `grad_norm`, `learning_rate`), evaluation entries (`eval_*`), each with its
`step` and `epoch`, and one final entry holding the run's summary (`train_runtime`, `train_loss`,
`total_flos`, …). Every numeric key becomes one series of (step, epoch, value) points, exactly as
logged; the summary entry is kept apart, since its values are not points of a curve.
`training_args.bin`, the pickle beside it, is never read.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from reporter.errors import ModelFileError
from reporter.facts import DeclaredTrainingFacts, LoggedSeries

STATE_FILE = "trainer_state.json"
RESULTS_FILES = "*_results.json"
"""What `Trainer.save_metrics` writes: `train_results.json`, `eval_results.json`, … and
`all_results.json`, their union."""
POSITION_KEYS = ("step", "epoch")
SUMMARY_MARKER = "train_runtime"
"""The key only the end-of-training entry holds."""
SETTING_KEYS = (
    "num_train_epochs",
    "max_steps",
    "global_step",
    "epoch",
    "train_batch_size",
    "logging_steps",
    "eval_steps",
    "save_steps",
    "num_input_tokens_seen",
)


def read_trainer_state(
    path: Path, *, where: str, named: str, sha256: str, run: str | None = None
) -> DeclaredTrainingFacts:
    """The training report `trainer_state.json` declares; given the run's output folder, also the
    end-of-run figures of its `*_results.json` files, as part of the summary.

    Raises:
        ModelFileError: naming the file and the entry at fault (truncated JSON, a history that is
            not a list of entries, an entry without its step, a value that is not a number).
    """
    state_file = path / STATE_FILE if path.is_dir() else path
    if not state_file.is_file():
        raise _malformed(path, where, f"the folder holds no `{STATE_FILE}`")
    state = _json_object(state_file, where=where)
    history = state.get("log_history")
    if not isinstance(history, list):
        raise _malformed(path, where, "`log_history` is missing or not a list")
    series: dict[str, tuple[list[int], list[float | None], list[float | None]]] = {}
    summary: dict[str, float | None] = {}
    for index, entry in enumerate(history):
        if not isinstance(entry, dict):
            raise _malformed(path, where, f"`log_history[{index}]` is not an object")
        if SUMMARY_MARKER in entry:
            summary.update({k: _number(path, where, index, k, v) for k, v in entry.items() if k not in POSITION_KEYS})
            continue
        _add_points(series, entry, path=path, where=where, index=index)
    if path.is_dir():
        summary.update(_results(path, where=where))
    best = state.get("best_metric")
    flos = state.get("total_flos", summary.get("total_flos"))
    return DeclaredTrainingFacts(
        log_format="trainer_state",
        log_file=named,
        log_sha256=sha256,
        settings={key: state[key] for key in SETTING_KEYS if _is_setting(state.get(key))},
        series=[LoggedSeries(name=n, steps=s, epochs=e, values=v) for n, (s, e, v) in series.items()],
        summary=summary,
        wall_seconds=summary.get(SUMMARY_MARKER),
        total_flos=_number(path, where, None, "total_flos", flos) if flos is not None else None,
        best_checkpoint=str(state["best_model_checkpoint"]) if state.get("best_model_checkpoint") else None,
        best_metric=_number(path, where, None, "best_metric", best) if best is not None else None,
    )


def _add_points(
    series: dict[str, tuple[list[int], list[float | None], list[float | None]]],
    entry: dict[str, Any],
    *,
    path: Path,
    where: str,
    index: int,
) -> None:
    """Add each numeric value of one logged entry to its series, at the entry's step and epoch."""
    step = entry.get("step")
    if not isinstance(step, int) or isinstance(step, bool):
        raise _malformed(path, where, f"`log_history[{index}]` has no integer `step`")
    epoch = entry.get("epoch")
    epoch_value = _number(path, where, index, "epoch", epoch) if epoch is not None else None
    for key, value in entry.items():
        if key in POSITION_KEYS or isinstance(value, str):
            continue  # text entries (a run's notes) are not curves
        steps, epochs, values = series.setdefault(key, ([], [], []))
        steps.append(step)
        epochs.append(epoch_value)
        values.append(_number(path, where, index, key, value))


def _results(folder: Path, *, where: str) -> dict[str, float | None]:
    """The end-of-run figures `Trainer.save_metrics` wrote beside the state, the union file last so
    that it decides where files disagree."""
    files = sorted(folder.glob(RESULTS_FILES), key=lambda file: (file.name == "all_results.json", file.name))
    figures: dict[str, float | None] = {}
    for file in files:
        results = _json_object(file, where=where)
        figures.update({key: _number(file, where, None, key, value) for key, value in results.items()})
    return figures


def _number(path: Path, where: str, index: int | None, key: str, value: object) -> float | None:
    """A logged number as a float; None for NaN or infinity (which JSON written by Python may hold)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        at = f"`log_history[{index}].{key}`" if index is not None else f"`{key}`"
        raise _malformed(path, where, f"{at} is {value!r}, not a number")
    return float(value) if math.isfinite(value) else None


def _is_setting(value: object) -> bool:
    return isinstance(value, str | int | float | bool) and not (isinstance(value, float) and not math.isfinite(value))


def _json_object(path: Path, *, where: str) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise _malformed(path, where, "it is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise _malformed(
            path, where, f"it is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(value, dict):
        raise _malformed(path, where, f"it holds a JSON {type(value).__name__}, not an object")
    return value


def _malformed(path: Path, where: str, problem: str) -> ModelFileError:
    return ModelFileError(
        f"{where}: {path} is not what Hugging Face's Trainer writes: {problem}. Fix: name the run's output "
        "folder or its `trainer_state.json` (there or in its last checkpoint), restored if truncated"
    )
