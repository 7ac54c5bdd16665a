"""Occlusion maps of an image classifier's example images: which parts of each image its predicted
class depends on (captum's `Occlusion`, Zeiler and Fergus 2014).

A square window of pixels is set to black (the image's `pixel_range` low end) at every position
on a stride of one pixel; a pixel's value is the mean drop, over the windows covering it, of the
probability the model gives the class it predicted for the unoccluded image. Only the model's
outputs are used (no gradients), so a model run by onnxruntime is explained as a Keras or PyTorch
one is. Permuting a pixel column across images, as the tabular explanations do, says nothing about
how a model reads an image and is not done.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from reporter.facts import ImageClassificationEvaluation, NotReported, OcclusionFacts

NO_CAPTUM = "captum is not installed (install reporter[explain]); occlusion maps need it"
WINDOW_SHARE = 4
"""The window's side is the image's smaller side over this (at least 2 pixels): a quarter of an 8×8 digit."""
ROWS_PER_CALL = 512


def window_side(height: int, width: int) -> int:
    return max(2, min(height, width) // WINDOW_SHARE)


def with_occlusion_maps(
    evaluation: ImageClassificationEvaluation,
    score_rows: Callable[[pd.DataFrame], np.ndarray],
    columns: list[str],
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImageClassificationEvaluation:
    """The evaluation with an occlusion map for each of its example images (their pixels are in
    the facts), or the reason there are none."""
    try:
        from captum.attr import Occlusion
    except ImportError:
        reason = NotReported(not_reported=NO_CAPTUM)
        return evaluation.model_copy(update={"images": evaluation.images.model_copy(update={"occlusion": reason})})
    import torch

    images = evaluation.images
    side = window_side(images.height, images.width)
    shape = (images.height, images.width, images.channels)
    pixels = torch.tensor([example.pixels for example in images.examples], dtype=torch.float64).reshape(-1, *shape)
    classes = evaluation.performance.classes
    targets = [classes.index(example.predicted) for example in images.examples]
    done = [0]

    def forward(batch: torch.Tensor) -> torch.Tensor:
        frame = pd.DataFrame(batch.reshape(len(batch), -1).numpy(), columns=columns)
        done[0] += len(batch)
        if on_progress is not None:
            on_progress(min(done[0], total), total)
        return torch.from_numpy(np.asarray(score_rows(frame), dtype=np.float64))

    positions = (images.height - side + 1) * (images.width - side + 1)
    total = len(images.examples) * (positions + 1)
    attributions = Occlusion(forward).attribute(
        pixels,
        sliding_window_shapes=(side, side, images.channels),
        strides=(1, 1, images.channels),
        baselines=float(images.pixel_range[0]),
        target=targets,
        perturbations_per_eval=max(1, ROWS_PER_CALL // max(1, len(images.examples))),
    )
    maps = attributions.sum(dim=-1).reshape(len(images.examples), -1).numpy()
    examples = [
        example.model_copy(update={"occlusion": [round(float(v), 6) for v in values]})
        for example, values in zip(images.examples, maps, strict=True)
    ]
    occlusion = OcclusionFacts(window=side, stride=1, baseline=float(images.pixel_range[0]))
    return evaluation.model_copy(
        update={"images": images.model_copy(update={"examples": examples, "occlusion": occlusion})}
    )
