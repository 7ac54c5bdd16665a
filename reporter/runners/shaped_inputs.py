"""Evaluation or training rows as a network's input tensor: the feature columns as float32, each
row reshaped to the model's input shape (an image's pixels in row-major order, as the data stores
them). Shared by Keras models and ONNX graphs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reporter.errors import InputError


def model_inputs(frame: pd.DataFrame, input_shape: tuple[int, ...], *, where: str) -> np.ndarray:
    """The rows' feature columns as the model's float32 input, one row per example reshaped to
    ``input_shape`` (an image's pixels in row-major order, as the data stores them).

    Raises:
        InputError: a column is not numeric, holds missing values, or the width does not fit the shape.
    """
    bad = [str(c) for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise InputError(
            f"{where}: the model reads numbers, but column(s) {', '.join(bad[:5])} are text. "
            "Fix: encode them as numbers, or leave them out of evaluation.features"
        )
    values = frame.to_numpy(dtype=np.float32)
    if np.isnan(values).any():
        raise InputError(f"{where}: the feature columns hold missing values. Fix: fill or drop them before training")
    if values.shape[1] != int(np.prod(input_shape)):
        raise InputError(
            f"{where}: the model takes inputs of shape {list(input_shape)} ({int(np.prod(input_shape))} values) but "
            f"the data has {values.shape[1]} feature columns. Fix: list the model's inputs in evaluation.features"
        )
    return values.reshape((len(frame), *input_shape))
