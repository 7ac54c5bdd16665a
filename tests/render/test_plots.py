"""Plots are cropped to what they draw, as matplotlib's own ``bbox_inches="tight"`` crops them."""

from __future__ import annotations

import io
import re

import pytest

from reporter.render.plots import CROP_PAD, STYLE, svg_figure


def draw_with_labels_past_the_edges(figure) -> None:  # noqa: ANN001 - a matplotlib Figure
    axes = figure.subplots()
    axes.bar(range(3), [0.2, 0.9, 0.5])
    names = ["Amer-Indian-Eskimo × Female", "Asian-Pac-Islander × Male", "Other"]
    axes.set_xticks(range(3), names, rotation=30, ha="right")  # reaches far below and left of the figure
    axes.set(ylabel="a rate", title="a title")
    figure.subplots_adjust(left=0.02, bottom=0.02)


def svg_box(svg: bytes) -> tuple[float, float, list[float]]:
    width, height, view = re.search(rb'width="([0-9.]+)pt" height="([0-9.]+)pt" viewBox="([-0-9. ]+)"', svg).groups()
    return float(width), float(height), [float(v) for v in view.split()]


def test_the_svg_is_cropped_to_its_content_like_a_tight_bounding_box() -> None:
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(STYLE):
        cropped = svg_figure(draw_with_labels_past_the_edges, width=4.0, height=3.0)
        oracle_figure = Figure(figsize=(4.0, 3.0))
        draw_with_labels_past_the_edges(oracle_figure)
        buffer = io.BytesIO()
        oracle_figure.savefig(buffer, format="svg", bbox_inches="tight", pad_inches=CROP_PAD)

    width, height, view = svg_box(cropped)
    oracle_width, oracle_height, _ = svg_box(buffer.getvalue())
    assert width == pytest.approx(oracle_width, abs=0.5) and height == pytest.approx(oracle_height, abs=0.5)
    assert view[2:] == [width, height]
    assert view[0] < 0  # the labels hang past the figure's left edge and stay in view
    assert height > 3.0 * 72  # and below its bottom edge


def tick_labels(svg: bytes) -> list[str]:
    return re.findall(rb"<text[^>]*>([^<]*)</text>", svg)


@pytest.mark.parametrize(("epochs", "expected"), [(1, [b"1"]), (3, [b"1", b"2", b"3"])])
def test_training_curves_tick_every_epoch_of_a_short_run(epochs: int, expected: list[bytes]) -> None:
    import matplotlib

    from reporter.facts import EpochFacts, TrainingFacts
    from reporter.render.plots import training_curves

    history = [
        EpochFacts(epoch=e, train_loss=1 / e, train_accuracy=None, validation_loss=1.1 / e, validation_accuracy=None)
        for e in range(1, epochs + 1)
    ]
    training = TrainingFacts.model_construct(history=history)  # only the history is drawn
    with matplotlib.rc_context(STYLE):
        labels = tick_labels(training_curves(training))
    x_labels = labels[: labels.index(b"epoch")]  # the x tick labels come before the axis label
    assert x_labels == expected  # never fractional epochs such as 0.950 … 1.050
