"""TensorBoard event files: every scalar a run logged, and the settings Trainer writes as text.

An event file is a sequence of TFRecord records (a length, its checksum, an `Event` protocol
buffer, its checksum). They are read here record by record with both CRC-32C checksums checked,
rather than with TensorBoard's `EventAccumulator` (which keeps a sample of 10,000 points per tag)
or its `EventFileLoader` (which stops quietly at a damaged record): every point is kept, and a
truncated or corrupt file is an error naming the record and its byte offset. The protocol buffers
and the checksum come from the `tensorboard` package.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reporter.errors import ModelFileError
from reporter.facts import DeclaredTrainingFacts, LoggedSeries

EVENT_FILE_PATTERN = "events.out.tfevents.*"
HEADER = struct.Struct("<QI")
"""A record's length (8 bytes) and the masked CRC-32C of those 8 bytes."""
ARGUMENTS_TAG = "args"
"""The text entry in which Hugging Face's TensorBoard callback writes the run's TrainingArguments."""


def read_tensorboard(
    path: Path, *, where: str, named: str, sha256: str, run: str | None = None
) -> DeclaredTrainingFacts:
    """The training report an event file (or a folder of them, read in name order) declares.

    Raises:
        ModelFileError: the `tensorboard` package is missing, the folder holds no event file, or a
            record is truncated or fails its checksum (named with its file and byte offset).
    """
    event_pb2, tensor_util = _tensorboard()
    files = sorted(path.glob(EVENT_FILE_PATTERN)) if path.is_dir() else [path]
    if not files:
        raise ModelFileError(
            f"{where}: {path} holds no TensorBoard event file ({EVENT_FILE_PATTERN}). Fix: name the run's log folder"
        )
    points: dict[str, tuple[list[int], list[float | None], list[float | None]]] = {}
    settings: dict[str, str | int | float | bool | None] = {}
    for file in files:
        for record in _records(file, where=where):
            event = event_pb2.Event.FromString(record)
            for value in event.summary.value:
                _take(value, event.step, points, settings, tensor_util)
    return DeclaredTrainingFacts(
        log_format="tensorboard",
        log_file=named,
        log_sha256=sha256,
        settings=settings,
        series=[LoggedSeries(name=n, steps=s, epochs=e, values=v) for n, (s, e, v) in points.items()],
        summary={},
        wall_seconds=None,
        total_flos=None,
        best_checkpoint=None,
        best_metric=None,
    )


def _take(
    value: Any,
    step: int,
    points: dict[str, tuple[list[int], list[float | None], list[float | None]]],
    settings: dict[str, str | int | float | bool | None],
    tensor_util: Any,
) -> None:
    """One summary value: a scalar joins its tag's series; Trainer's arguments become settings."""
    plugin = value.metadata.plugin_data.plugin_name
    if value.HasField("simple_value"):
        number = float(value.simple_value)
    elif plugin == "scalars":
        number = float(tensor_util.make_ndarray(value.tensor).item())
    else:
        if plugin == "text" and value.tag.split("/")[0] == ARGUMENTS_TAG:
            settings.update(_arguments(tensor_util.make_ndarray(value.tensor)))
        return
    steps, epochs, values = points.setdefault(value.tag, ([], [], []))
    steps.append(int(step))
    epochs.append(None)
    values.append(number if math.isfinite(number) else None)


def _arguments(text: Any) -> dict[str, str | int | float | bool | None]:
    """The scalar settings of the JSON TrainingArguments Trainer logs as text (empty if not JSON)."""
    try:
        raw = text.item() if hasattr(text, "item") else text
        decoded = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else str(raw))
    except (ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(decoded, dict):
        return {}
    return {
        key: value
        for key, value in sorted(decoded.items())
        if value is None or (isinstance(value, str | int | float | bool) and not _non_finite(value))
    }


def _non_finite(value: object) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _records(file: Path, *, where: str) -> Iterator[bytes]:
    """Each record's data, with its length and data checksums verified."""
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    data = file.read_bytes()
    offset = 0
    while offset < len(data):
        if offset + HEADER.size > len(data):
            raise _damaged(file, where, offset, "the file ends inside a record's header (truncated)")
        length, length_crc = HEADER.unpack_from(data, offset)
        if masked_crc32c(data[offset : offset + 8]) != length_crc:
            raise _damaged(file, where, offset, "the record's length fails its checksum")
        start, end = offset + HEADER.size, offset + HEADER.size + length
        if end + 4 > len(data):
            raise _damaged(file, where, offset, f"the record claims {length} bytes, past the end of the file")
        (data_crc,) = struct.unpack_from("<I", data, end)
        if masked_crc32c(data[start:end]) != data_crc:
            raise _damaged(file, where, offset, "the record's data fails its checksum")
        yield data[start:end]
        offset = end + 4


def _damaged(file: Path, where: str, offset: int, problem: str) -> ModelFileError:
    return ModelFileError(
        f"{where}: {file} is not a complete TensorBoard event file: at byte {offset}, {problem}. "
        "Fix: name the run's event files as the run left them (copy them again if they were cut short)"
    )


def _tensorboard() -> tuple[Any, Any]:
    try:
        from tensorboard.compat.proto import event_pb2
        from tensorboard.util import tensor_util
    except ImportError:
        raise ModelFileError(
            "reading TensorBoard event files needs the `tensorboard` package. Fix: pip install 'reporter[logs]'"
        ) from None
    return event_pb2, tensor_util
