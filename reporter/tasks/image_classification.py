"""Image classification: a model that gives each image a probability per class, measured as a
multiclass classifier (overall, per class, per group when the data names groups of people) on
labelled images whose pixels are the evaluation rows' feature columns, with example images the
card shows, right and wrong, per class."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from reporter.extract.explanations import HeadlineMetric
from reporter.extract.multiclass import ClassPredictions
from reporter.facts import ImageClassificationEvaluation, ImageExample, ImageExamplesFacts
from reporter.tasks._grouped import ScoredRows
from reporter.tasks.multiclass_classification import MulticlassTask

EXAMPLES_PER_CLASS = 3
"""At most this many right and this many wrong images of each class are shown."""
EXAMPLES_SEED = 0
NOT_EXPLAINED = (
    "shuffling one pixel column across images (permutation importance) says nothing about how an image "
    "classifier reads an image; the card's example images carry occlusion maps instead"
)


class ImageClassificationTask(MulticlassTask):
    name: ClassVar[str] = "image_classification"
    partial: ClassVar[str] = "partials/tasks/image_classification.md.j2"
    explanation_metric: ClassVar[str | None] = None
    not_explained: ClassVar[str | None] = NOT_EXPLAINED

    def importance_metric(self, classes: list[str] | None) -> HeadlineMetric:
        raise NotImplementedError(NOT_EXPLAINED)

    def evaluate(self, rows: ScoredRows) -> ImageClassificationEvaluation:
        """The multiclass figures, and the example images."""
        predictions = self.predictions(rows)
        measured = self.measured(rows, predictions)
        return ImageClassificationEvaluation(
            performance=measured.performance, fairness=measured.fairness, images=image_examples(rows, predictions)
        )


def image_examples(rows: ScoredRows, predictions: ClassPredictions) -> ImageExamplesFacts:
    """Up to :data:`EXAMPLES_PER_CLASS` right and as many wrong images of each true class, chosen
    with a seeded generator, in class order then file order."""
    layout = rows.evaluation.image
    assert layout is not None, "an image classification section states its image layout"
    rng = np.random.default_rng(EXAMPLES_SEED)
    pixels = rows.data.features.to_numpy(dtype=np.float64)
    right = predictions.predicted == predictions.labels
    chosen: list[int] = []
    for code in range(len(predictions.classes)):
        for outcome in (True, False):
            candidates = np.flatnonzero((predictions.labels == code) & (right == outcome))
            picked = rng.permutation(candidates)[:EXAMPLES_PER_CLASS]
            chosen.extend(sorted(int(i) for i in picked))
    confidence = predictions.probabilities
    return ImageExamplesFacts(
        height=layout.height,
        width=layout.width,
        channels=layout.channels,
        pixel_range=layout.pixel_range,
        per_class=EXAMPLES_PER_CLASS,
        seed=EXAMPLES_SEED,
        examples=[
            ImageExample(
                row=int(rows.table.positions[i]),
                label=predictions.classes[int(predictions.labels[i])],
                predicted=predictions.classes[int(predictions.predicted[i])],
                confidence=float(confidence[i].max()) if confidence is not None else None,
                pixels=[float(v) for v in pixels[i]],
            )
            for i in chosen
        ],
    )
