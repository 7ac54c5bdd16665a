"""Images kept as files, read into rows of pixel columns the way image classification reads them.

A data source's images are either a folder holding one subfolder per class or a CSV naming each
row's image. Only the rows kept after split and sampling are decoded, each image's header is
checked (size, mode, frame count) before its pixels are, and every path stays inside the folder
it is read from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from reporter.errors import DataError
from reporter.extract.weights import sha256_file
from reporter.spec import ImageLayout

PATH_COLUMN = "path"
"""The column of each image's path (relative to its folder) when the rows come from a folder."""
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm"})
EIGHT_BIT_MODES = frozenset({"1", "L", "LA", "P", "PA", "RGB", "RGBA"})
"""Pillow modes whose values are 0 to 255 per channel; 16-bit and floating-point images would be
cut to 8 bits by a conversion, silently, so they are refused."""


def pixel_columns(layout: ImageLayout) -> list[str]:
    """The names of an image's pixel columns, row by row and channel by channel within a pixel."""
    return [f"pixel_{i}" for i in range(layout.height * layout.width * layout.channels)]


def class_folder_rows(folder: Path, *, label_column: str, where: str) -> pd.DataFrame:
    """One row per image of a folder of class subfolders: its path relative to the folder and its
    class (the subfolder's name), in class then file-name order. Hidden entries are skipped.

    Raises:
        DataError: a class subfolder holds a folder or a file that is not an image, or there are no images.
    """
    rows = []
    for subfolder in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for entry in sorted(p for p in subfolder.iterdir() if not p.name.startswith(".")):
            if entry.is_dir() or entry.suffix.lower() not in IMAGE_SUFFIXES:
                raise DataError(
                    f"{where}: {entry} is not an image file; each class subfolder of {folder} holds images only. "
                    f"Fix: move it out, or save it as PNG"
                )
            rows.append((entry.relative_to(folder).as_posix(), subfolder.name))
    if not rows:
        raise DataError(
            f"{where}: {folder} holds no subfolder of images. Fix: put each class's images in a subfolder named after "
            "the class"
        )
    return pd.DataFrame(rows, columns=[PATH_COLUMN, label_column])


def image_paths(frame: pd.DataFrame, column: str, *, csv: Path, where: str) -> list[str]:
    """The CSV's image paths, checked to be written and relative.

    Raises:
        DataError: the column is missing, or a row has no path or an absolute one.
    """
    if column not in frame.columns:
        raise DataError(
            f"{where}.images.path_column: column {column!r} is not in {csv}. "
            f"Fix: use one of the columns {', '.join(map(str, frame.columns))}"
        )
    values = frame[column]
    missing = np.flatnonzero(values.isna().to_numpy())
    if missing.size:
        raise DataError(
            f"{where}.images.path_column: row {int(missing[0]) + 1} of {csv} names no image. Fix: give every row a path"
        )
    return [str(value).strip() for value in values]


def with_pixels(
    frame: pd.DataFrame, paths: Sequence[str], *, folder: Path, layout: ImageLayout, where: str
) -> pd.DataFrame:
    """The frame with each row's image as pixel columns (0 to 255, `uint8`) appended."""
    pixels = np.empty((len(paths), layout.height * layout.width * layout.channels), dtype=np.uint8)
    for row, relative in enumerate(paths):
        pixels[row] = image_pixels(inside(folder, relative, where=where), layout, where=where)
    return pd.concat([frame.reset_index(drop=True), pd.DataFrame(pixels, columns=pixel_columns(layout))], axis=1)


def inside(folder: Path, relative: str, *, where: str) -> Path:
    """The image file a relative path names, refused when it leaves the folder (after symlinks).

    Raises:
        DataError: the path is absolute, leaves the folder, or names no file.
    """
    root = folder.resolve()
    target = (root / relative).resolve()
    if Path(relative).is_absolute() or not target.is_relative_to(root):
        raise DataError(
            f"{where}: image path {relative!r} leads outside {folder}. Fix: keep every image inside the CSV's folder "
            "and write paths relative to it"
        )
    if not target.is_file():
        raise DataError(
            f"{where}: image {relative!r} is not a file in {folder}. Fix: correct the path or add the image"
        )
    return target


def image_pixels(path: Path, layout: ImageLayout, *, where: str) -> np.ndarray:
    """An image's pixels, row by row, as the layout's channels, after its header is checked.

    Raises:
        DataError: the file is no image, or its size, mode, frames or transparency do not fit.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            _check_header(path, image, layout, where=where)
            rgba = np.asarray(image.convert("RGBA"))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DataError(f"{where}: cannot read image {path}: {exc}. Fix: save it as a PNG file") from None
    if (rgba[..., 3] != 255).any():
        raise DataError(
            f"{where}: image {path} is partly transparent, which the model's input cannot show. "
            "Fix: save it without transparency"
        )
    if layout.channels == 3:
        return rgba[..., :3].reshape(-1)
    if not ((rgba[..., 0] == rgba[..., 1]) & (rgba[..., 1] == rgba[..., 2])).all():
        raise DataError(
            f"{where}: image {path} is in colour but evaluation.image states 1 channel (grey levels). "
            "Fix: save the images in grey levels, or state `channels: 3`"
        )
    return rgba[..., 0].reshape(-1)


def _check_header(path: Path, image: object, layout: ImageLayout, *, where: str) -> None:
    """Size, mode and frame count, read from the header before any pixel is decoded."""
    width, height = image.size  # type: ignore[attr-defined]
    if (width, height) != (layout.width, layout.height):
        raise DataError(
            f"{where}: image {path} is {width}×{height} pixels but evaluation.image states "
            f"{layout.width}×{layout.height}. Fix: resize the images to one size and state it in evaluation.image"
        )
    mode = image.mode  # type: ignore[attr-defined]
    if mode not in EIGHT_BIT_MODES:
        raise DataError(
            f"{where}: image {path} has Pillow mode {mode!r}, not 8 bits per channel, so its values would be cut. "
            "Fix: save it as an 8-bit grey or RGB PNG"
        )
    if getattr(image, "n_frames", 1) > 1:
        raise DataError(f"{where}: image {path} has several frames. Fix: save one frame per image")


def images_sha256(folder: Path, paths: Sequence[str], *, listing: Path | None) -> str:
    """SHA-256 over the listing file's hash (a CSV of paths), then each image's relative path and
    hash in listing order: what the datasheet's hash of image data covers."""
    digest = hashlib.sha256()
    if listing is not None:
        digest.update(sha256_file(listing).encode() + b"\n")
    for relative in paths:
        image = inside(folder, relative, where=str(folder))
        digest.update(relative.encode() + b"\0" + sha256_file(image).encode() + b"\n")
    return digest.hexdigest()
