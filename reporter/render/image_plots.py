"""The example images of an image classifier: per true class, images the model classified right,
then images it classified wrong, each titled with the class it predicted and its confidence."""

from __future__ import annotations

import numpy as np

from reporter.facts import ImageExamplesFacts
from reporter.render.plots import svg_figure

CELL_INCHES = 0.9


def example_images(images: ImageExamplesFacts) -> bytes:
    """A grid: one row per true class; up to ``per_class`` right images, then up to as many wrong
    ones (an empty cell where a class has fewer), drawn at the pixel range the spec states."""
    labels = list(dict.fromkeys(example.label for example in images.examples))
    columns = 2 * images.per_class
    low, high = images.pixel_range

    def draw(figure: object) -> None:
        grid = figure.subplots(len(labels), columns, squeeze=False)  # type: ignore[attr-defined]
        for row, label in enumerate(labels):
            of_class = [e for e in images.examples if e.label == label]
            right = [e for e in of_class if e.predicted == e.label][: images.per_class]
            wrong = [e for e in of_class if e.predicted != e.label][: images.per_class]
            cells = right + [None] * (images.per_class - len(right)) + wrong
            for column in range(columns):
                axes = grid[row][column]
                axes.set_axis_off()
                example = cells[column] if column < len(cells) else None
                if example is None:
                    continue
                pixels = np.asarray(example.pixels).reshape(images.height, images.width, images.channels)
                shown = (np.clip((pixels - low) / ((high - low) or 1.0), 0, 1)).squeeze(
                    -1 if images.channels == 1 else ()
                )
                axes.imshow(shown, cmap="gray_r" if images.channels == 1 else None, vmin=0, vmax=1)
                confidence = "" if example.confidence is None else f" {example.confidence:.2f}"
                axes.set_title(
                    f"{example.label} → {example.predicted}{confidence}",
                    fontsize=7,
                    color="#2e7d32" if example.predicted == example.label else "#b71c1c",
                )

    return svg_figure(draw, width=CELL_INCHES * columns, height=(CELL_INCHES + 0.2) * len(labels))
