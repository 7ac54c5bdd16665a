"""Reading Keras model files (`.keras` archives and legacy HDF5 `.h5`) without importing Keras.

A `.keras` file is a zip holding `config.json` (the layers), `metadata.json` (the Keras version)
and `model.weights.h5`, whose groups are numbered by layer class (`layers/dense_1` may hold the
layer named `dense_2`; its `vars` group's `name` attribute says which) and whose variables are
numbered, not named (a Dense layer's 0 is its kernel, 1 its bias). A legacy `.h5` (TensorFlow 2,
tf-keras, Keras 3's `save(..., "x.h5")`) keeps the configuration in root attributes and names its
weights under `model_weights/<layer>`. Both are read with h5py, one tensor at a time, and every
tensor is given the name Keras itself gives it (`<layer name>/<variable>`).

A model file from a stranger is untrusted: the archive's members and sizes, every HDF5 link
(external links and soft links are refused), every dataset's storage (virtual and external
datasets, and filters h5py does not implement itself, are refused) and every weight's shape
against the layer's configuration are checked before the tensor is read.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

import numpy as np

from reporter.errors import ModelFileError
from reporter.extract.safetensors_file import StoredTensor

KERAS_SUFFIXES = (".keras", ".h5")
MAX_CONFIG_BYTES = 16 * 1024 * 1024
MAX_DEFLATE_RATIO = 1100
"""DEFLATE cannot compress by much more than 1032:1; a member declaring more is a forged size."""
KNOWN_FILTERS = {1: "gzip", 2: "shuffle", 3: "fletcher32", 4: "szip", 6: "scaleoffset", 32000: "lzf"}
"""HDF5 filters h5py implements itself; a dataset using any other needs a plugin and is refused."""
DTYPE_NAMES = {
    "float64": "F64",
    "float32": "F32",
    "float16": "F16",
    "int64": "I64",
    "int32": "I32",
    "int16": "I16",
    "int8": "I8",
    "uint8": "U8",
    "bool": "BOOL",
}
VARIABLE_NAMES = {
    "Dense": ("kernel", "bias"),
    "EinsumDense": ("kernel", "bias"),
    "Conv1D": ("kernel", "bias"),
    "Conv2D": ("kernel", "bias"),
    "Conv3D": ("kernel", "bias"),
    "Conv1DTranspose": ("kernel", "bias"),
    "Conv2DTranspose": ("kernel", "bias"),
    "Conv3DTranspose": ("kernel", "bias"),
    "DepthwiseConv2D": ("kernel", "bias"),
    "Embedding": ("embeddings",),
    "LayerNormalization": ("gamma", "beta"),
    "Normalization": ("mean", "variance", "count"),
}
"""The variables each layer class creates, in the order Keras stores them (optional ones, such as a
bias turned off, are dropped in :func:`variable_names`)."""
FIX = "Fix: re-save the model with Keras (`model.save('model.keras')`)"


@dataclass(frozen=True)
class KerasFile:
    """What a Keras file declares about itself, read without Keras."""

    config: dict[str, Any]
    """The model's configuration (`config.json`, or the `.h5` root attribute `model_config`)."""
    keras_version: str | None
    layers: list[dict[str, Any]]
    """Every layer's configuration (`class_name`, `config`), nested models' layers included."""


def is_keras(path: Path) -> bool:
    return path.suffix in KERAS_SUFFIXES


def read_keras_file(path: Path) -> KerasFile:
    """The configuration and version a `.keras` or `.h5` file declares, its archive and weights checked.

    Raises:
        ModelFileError: naming the file, what is wrong with it, and the fix.
    """
    with _weights(path) as (h5, config, version):
        _check_links(path, h5)
    return KerasFile(config=config, keras_version=version, layers=list(_layers(config)))


def iter_keras_tensors(path: Path) -> Iterator[StoredTensor]:
    """Every weight of the model in a `.keras` or `.h5` file, one at a time, named as Keras names it
    (`<layer>/<variable>`), in name order; optimizer state is not a weight and is left out."""
    with _weights(path) as (h5, config, _version):
        _check_links(path, h5)
        by_name = {str(layer["config"].get("name")): layer for layer in _layers(config)}
        located = dict(_legacy_datasets(path, h5, by_name) if path.suffix == ".h5" else _archive_datasets(h5, config))
        for name in sorted(located):
            dataset, layer = located[name]
            yield _read(path, name, dataset, layer)


def weight_count(path: Path) -> int:
    """How many values the model's weights hold, from their shapes (no value is read)."""
    with _weights(path) as (h5, config, _version):
        _check_links(path, h5)
        by_name = {str(layer["config"].get("name")): layer for layer in _layers(config)}
        located = _legacy_datasets(path, h5, by_name) if path.suffix == ".h5" else _archive_datasets(h5, config)
        return sum(math.prod(dataset.shape) for _, (dataset, _layer) in located)


@contextmanager
def _weights(path: Path) -> Iterator[tuple[Any, dict[str, Any], str | None]]:
    """The open HDF5 weights, the model configuration and the Keras version of a Keras file."""

    if path.suffix == ".h5":
        with _open_h5(path, path) as h5:
            config = _json(path, "model_config", h5.attrs.get("model_config"))
            version = h5.attrs.get("keras_version")
            yield h5, config, None if version is None else _text(version)
        return
    with _open_zip(path) as archive:
        config = _json(path, "config.json", _member_bytes(path, archive, "config.json"))
        metadata = (
            _json(path, "metadata.json", _member_bytes(path, archive, "metadata.json"))
            if "metadata.json" in archive.namelist()
            else {}
        )
        info = _member(path, archive, "model.weights.h5")
        with _member_file(path, archive, info) as member, _open_h5(path, member) as h5:
            yield h5, config, metadata.get("keras_version")


@contextmanager
def _member_file(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[IO[bytes]]:
    """The member as a seekable file: a window onto the archive's bytes when it is stored as Keras
    stores it (reads go straight to the file, so a large model is never copied into memory), else
    the decompressing reader."""
    if info.compress_type != zipfile.ZIP_STORED:
        with archive.open(info) as member:
            yield member
        return
    with path.open("rb") as handle:
        handle.seek(info.header_offset)
        local = handle.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise ModelFileError(f"{path}: member {info.filename!r} has no local header: the archive is corrupt. {FIX}")
        start = (
            info.header_offset + 30 + int.from_bytes(local[26:28], "little") + int.from_bytes(local[28:30], "little")
        )
        if start + info.file_size > path.stat().st_size:
            raise ModelFileError(
                f"{path}: member {info.filename!r} runs past the end of the archive: the file is truncated. {FIX}"
            )
        yield io.BufferedReader(_Window(handle, start, info.file_size), buffer_size=1 << 20)


class _Window(io.RawIOBase):
    """Bytes ``start`` to ``start + size`` of an open file, as a file of their own."""

    def __init__(self, handle: Any, start: int, size: int) -> None:
        super().__init__()
        self._handle, self._start, self._size, self._position = handle, start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        wanted = max(0, min(len(buffer), self._size - self._position))
        if not wanted:
            return 0
        self._handle.seek(self._start + self._position)
        count = self._handle.readinto(memoryview(buffer)[:wanted])
        self._position += count
        return count


@contextmanager
def _open_zip(path: Path) -> Iterator[zipfile.ZipFile]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelFileError(
            f"{path}: not a readable .keras archive ({exc}): the file is truncated or corrupt. {FIX}"
        ) from None
    with archive:
        for info in archive.infolist():
            _check_member(path, info)
        yield archive


def _check_member(path: Path, info: zipfile.ZipInfo) -> None:
    """A member name that would leave the archive's folder, or a size the member cannot have, is refused."""
    name = PurePosixPath(info.filename.replace("\\", "/"))
    if name.is_absolute() or ".." in name.parts or ":" in info.filename:
        raise ModelFileError(
            f"{path}: the archive holds a member named {info.filename!r}, a path outside the archive. "
            "Fix: the file is not a Keras archive or was tampered with; re-save the model with Keras"
        )
    stored = info.compress_type == zipfile.ZIP_STORED
    if (stored and info.file_size != info.compress_size) or info.file_size > MAX_DEFLATE_RATIO * max(
        info.compress_size, 1
    ):
        raise ModelFileError(
            f"{path}: member {info.filename!r} declares {info.file_size} bytes from {info.compress_size} stored. "
            f"The archive is corrupt. {FIX}"
        )


def _member(path: Path, archive: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    try:
        return archive.getinfo(name)
    except KeyError:
        raise ModelFileError(
            f"{path}: the archive has no {name} (members: {', '.join(archive.namelist()) or 'none'}). {FIX}"
        ) from None


def _member_bytes(path: Path, archive: zipfile.ZipFile, name: str) -> bytes:
    info = _member(path, archive, name)
    if info.file_size > MAX_CONFIG_BYTES:
        raise ModelFileError(f"{path}: {name} declares {info.file_size} bytes, more than a configuration has. {FIX}")
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ModelFileError(
            f"{path}: {name} cannot be read ({exc}): the archive is truncated or corrupt. {FIX}"
        ) from None


@contextmanager
def _open_h5(path: Path, source: Any) -> Iterator[Any]:
    import h5py

    try:
        h5 = h5py.File(source, "r")
    except OSError as exc:
        raise ModelFileError(
            f"{path}: not a readable HDF5 file ({exc}): the file is truncated or corrupt. {FIX}"
        ) from None
    with h5:
        yield h5


def _json(path: Path, where: str, raw: Any) -> dict[str, Any]:
    if raw is None:
        raise ModelFileError(f"{path}: it has no {where}, so it is not a Keras model file. {FIX}")
    try:
        value = json.loads(_text(raw))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{path}: {where} is not valid JSON ({exc}). {FIX}") from None
    if not isinstance(value, dict):
        raise ModelFileError(f"{path}: {where} is not a JSON object. {FIX}")
    return value


def _text(raw: Any) -> str:
    return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)


def _layers(config: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every layer configuration of a model configuration, depth first (a nested model and its layers)."""
    for layer in (config.get("config") or {}).get("layers") or []:
        if isinstance(layer, dict) and isinstance(layer.get("config"), dict):
            yield layer
            yield from _layers(layer)


def _check_links(path: Path, h5: Any) -> None:
    """Refuse links that leave the file or point elsewhere in it, and datasets whose bytes are not
    the file's own (virtual or external storage) or need a filter h5py does not implement."""
    import h5py

    found: list[ModelFileError] = []

    def check(name: str, link: Any) -> bool | None:
        """The first problem is kept and stops the visit (an exception raised inside h5py's visit
        would surface as a SystemError)."""
        try:
            if isinstance(link, (h5py.ExternalLink, h5py.SoftLink)):
                kind = "an external link" if isinstance(link, h5py.ExternalLink) else "a soft link"
                raise ModelFileError(
                    f"{path}: the HDF5 entry {name!r} is {kind}, which a Keras weight file never holds and "
                    f"reporter does not follow. {FIX}"
                )
            item = h5.get(name)
            if isinstance(item, h5py.Dataset):
                _check_storage(path, name, item)
        except ModelFileError as problem:
            found.append(problem)
            return True
        return None

    h5.visititems_links(check)
    if found:
        raise found[0]


def _check_storage(path: Path, name: str, dataset: Any) -> None:
    if dataset.is_virtual or dataset.external:
        raise ModelFileError(
            f"{path}: the HDF5 dataset {name!r} keeps its values outside the file "
            f"({'a virtual dataset' if dataset.is_virtual else 'external storage'}), which reporter refuses. {FIX}"
        )
    plist = dataset.id.get_create_plist()
    for index in range(plist.get_nfilters()):
        code = plist.get_filter(index)[0]
        if code not in KNOWN_FILTERS:
            raise ModelFileError(
                f"{path}: the HDF5 dataset {name!r} is stored with filter {code}, which reporter does not read. "
                f"{FIX} (no compression, or gzip)"
            )


def _archive_datasets(h5: Any, container: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(Keras name, (dataset, layer configuration)) of each variable under `layers/` of a `.keras`
    weights file, nested models followed. A group is the layer its `vars` group's `name` attribute
    names (Keras 3), or else the layer its own name numbers (tf-keras: `dense_1` is the container's
    second Dense layer, whatever that layer is called)."""
    layers = h5.get("layers")
    if layers is None:
        return
    members = [layer for layer in (container.get("config") or {}).get("layers") or [] if isinstance(layer, dict)]
    by_name = {str(layer.get("config", {}).get("name")): layer for layer in members}
    by_group = _numbered_by_class(members)
    for group_name in layers:
        group = layers[group_name]
        variables = group.get("vars")
        named = variables.attrs.get("name") if variables is not None else None
        layer = by_name.get(_text(named), {}) if named is not None else by_group.get(group_name, {})
        layer_name = str((layer.get("config") or {}).get("name") or (_text(named) if named is not None else group_name))
        if variables is not None and len(variables):
            for index, variable in enumerate(variable_names(layer, len(variables))):
                yield f"{prefix}{layer_name}/{variable}", (variables[str(index)], layer)
        yield from _archive_datasets(group, layer, prefix=f"{prefix}{layer_name}/")


def _numbered_by_class(layers: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each layer by the group name Keras saves it under: its class in snake case, numbered from the
    second layer of that class in the container (`dense`, `dense_1`, …)."""
    seen: dict[str, int] = {}
    found = {}
    for layer in layers:
        base = _snake_case(str(layer.get("class_name", "")))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found[base if count == 0 else f"{base}_{count}"] = layer
    return found


def _snake_case(name: str) -> str:
    """A class name as Keras writes it in snake case (`BatchNormalization` → `batch_normalization`)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _legacy_datasets(path: Path, h5: Any, by_name: dict[str, dict[str, Any]]) -> Iterator[tuple[str, Any]]:
    """(Keras name, (dataset, layer configuration)) of each weight a legacy `.h5` file lists under
    `model_weights` (attributes `layer_names`, then each layer's `weight_names`)."""
    weights = h5.get("model_weights")
    if weights is None:
        raise ModelFileError(f"{path}: the HDF5 file has no model_weights group, so it holds no Keras model. {FIX}")
    for layer_name in (_text(n) for n in weights.attrs.get("layer_names", [])):
        group = weights.get(layer_name)
        if group is None:
            raise ModelFileError(f"{path}: model_weights lists layer {layer_name!r} but has no group for it. {FIX}")
        for weight_name in (_text(n) for n in group.attrs.get("weight_names", [])):
            dataset = group.get(weight_name)
            if dataset is None:
                raise ModelFileError(f"{path}: layer {layer_name!r} lists weight {weight_name!r} but lacks it. {FIX}")
            variable = weight_name.rsplit("/", 1)[-1].split(":")[0]
            yield f"{layer_name}/{variable}", (dataset, by_name.get(layer_name, {}))


def variable_names(layer: dict[str, Any], count: int) -> list[str]:
    """The names of a layer's ``count`` stored variables, as Keras names them; by position
    (`0`, `1`, …) for a layer class whose variables reporter does not know."""
    config = layer.get("config") or {}
    known = VARIABLE_NAMES.get(str(layer.get("class_name")))
    if layer.get("class_name") == "BatchNormalization":
        known = tuple(
            n for n, kept in (("gamma", config.get("scale", True)), ("beta", config.get("center", True))) if kept
        ) + ("moving_mean", "moving_variance")
    elif known and known[-1] == "bias" and not config.get("use_bias", True):
        known = known[:-1]
    elif known == VARIABLE_NAMES["LayerNormalization"]:
        known = tuple(
            n for n, kept in (("gamma", config.get("scale", True)), ("beta", config.get("center", True))) if kept
        )
    if known is None or len(known) != count:
        return [str(index) for index in range(count)]
    return list(known)


def _read(path: Path, name: str, dataset: Any, layer: dict[str, Any]) -> StoredTensor:
    """One weight, its dtype, shape and stored size checked (and its shape against the layer's
    configuration) before its values are read."""
    dtype = DTYPE_NAMES.get(dataset.dtype.name)
    if dtype is None:
        raise ModelFileError(f"{path}: weight {name!r} has dtype {dataset.dtype}, which reporter does not read. {FIX}")
    shape = tuple(int(d) for d in dataset.shape)
    needed = math.prod(shape) * dataset.dtype.itemsize
    stored = int(dataset.id.get_storage_size())
    filtered = dataset.id.get_create_plist().get_nfilters() > 0
    if (not filtered and needed and stored != needed) or (filtered and needed > MAX_DEFLATE_RATIO * max(stored, 1)):
        raise ModelFileError(
            f"{path}: weight {name!r} of shape {shape} and dtype {dataset.dtype} needs {needed} bytes but "
            f"{stored} are stored. The file is truncated or corrupt. {FIX}"
        )
    _check_shape(path, name, shape, layer)
    data = np.asarray(dataset[()]).reshape(-1)
    kernel = name.rsplit("/", 1)[-1] == "kernel" and len(shape) >= 2
    return StoredTensor(name=name, dtype=dtype, shape=shape, data=data, outputs_last=kernel)


def _check_shape(path: Path, name: str, shape: tuple[int, ...], layer: dict[str, Any]) -> None:
    """A kernel or bias whose size disagrees with the layer's `units` or `filters` is refused."""
    config = layer.get("config") or {}
    width = config.get("units", config.get("filters"))
    variable = name.rsplit("/", 1)[-1]
    if not isinstance(width, int) or variable not in ("kernel", "bias"):
        return
    if (variable == "bias" and shape != (width,)) or (variable == "kernel" and (not shape or shape[-1] != width)):
        raise ModelFileError(
            f"{path}: weight {name!r} has shape {shape} but layer {config.get('name')!r} "
            f"({layer.get('class_name')}) is configured with {width} {'units' if 'units' in config else 'filters'}. "
            f"The configuration and the weights disagree. {FIX}"
        )
