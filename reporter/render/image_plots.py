"""The example images of an image classifier: per true class, images the model classified right,
then images it classified wrong, each titled with the class it predicted and its confidence; and
the same grid of their occlusion maps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from reporter.facts import ImageExample, ImageExamplesFacts
from reporter.render.plots import svg_figure

CELL_INCHES = 0.9


def example_images(images: ImageExamplesFacts) -> bytes:
    """The images, drawn at the pixel range the spec states (low white, high black for grey levels)."""
    low, high = images.pixel_range

    def cell(axes: Any, example: ImageExample) -> None:
        pixels = np.asarray(example.pixels).reshape(images.height, images.width, images.channels)
        shown = np.clip((pixels - low) / ((high - low) or 1.0), 0, 1)
        grey = images.channels == 1
        axes.imshow(shown[:, :, 0] if grey else shown, cmap="gray_r" if grey else None, vmin=0, vmax=1)

    return _grid(images, cell)


def occlusion_maps(images: ImageExamplesFacts) -> bytes:
    """Each example's occlusion map on one colour scale for all: red where hiding the pixels lowers
    the probability of the predicted class (evidence for it), blue where it raises it."""
    maps = [np.asarray(e.occlusion) for e in images.examples if e.occlusion is not None]
    extent = max((float(np.abs(m).max()) for m in maps), default=0.0) or 1.0

    def cell(axes: Any, example: ImageExample) -> None:
        if example.occlusion is not None:
            values = np.asarray(example.occlusion).reshape(images.height, images.width)
            axes.imshow(values, cmap="RdBu_r", vmin=-extent, vmax=extent)

    return _grid(images, cell)


def _grid(images: ImageExamplesFacts, cell: Callable[[Any, ImageExample], None]) -> bytes:
    """One row per true class: up to ``per_class`` right images, then up to as many wrong ones (an
    empty cell where a class has fewer), each drawn by ``cell`` under its title."""
    labels = list(dict.fromkeys(example.label for example in images.examples))
    columns = 2 * images.per_class

    def draw(figure: Any) -> None:
        grid = figure.subplots(len(labels), columns, squeeze=False)
        for row, label in enumerate(labels):
            of_class = [e for e in images.examples if e.label == label]
            right = [e for e in of_class if e.predicted == e.label][: images.per_class]
            wrong = [e for e in of_class if e.predicted != e.label][: images.per_class]
            cells: list[ImageExample | None] = [*right, *[None] * (images.per_class - len(right)), *wrong]
            for column in range(columns):
                axes = grid[row][column]
                axes.set_axis_off()
                example = cells[column] if column < len(cells) else None
                if example is not None:
                    cell(axes, example)
                    confidence = "" if example.confidence is None else f" {example.confidence:.2f}"
                    axes.set_title(
                        f"{example.label} → {example.predicted}{confidence}",
                        fontsize=7,
                        color="#2e7d32" if example.predicted == example.label else "#b71c1c",
                    )

    return svg_figure(draw, width=CELL_INCHES * columns, height=(CELL_INCHES + 0.2) * len(labels))
