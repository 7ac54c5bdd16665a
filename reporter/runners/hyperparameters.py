"""Hyperparameters of the built-in recipes, validated like the rest of the spec.

Kept free of torch so that `reporter check` validates them without importing it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from reporter.spec import FileRef, SpecModel


class DifferentialPrivacy(SpecModel):
    """Train with DP-SGD (Opacus): per-example gradients clipped, Gaussian noise added, Poisson
    sampling, the noise chosen so that the whole training is (epsilon, delta)-differentially private."""

    target_epsilon: float = Field(gt=0, le=100, description="Privacy budget of the whole training.")
    delta: float = Field(default=1e-5, gt=0, lt=1, description="Failure probability; below 1 / training rows.")
    max_grad_norm: float = Field(default=1.0, gt=0, description="Per-example gradient clipping norm.")


class TabularMlpHyperparameters(SpecModel):
    """A multilayer perceptron on one-hot categorical and standardised numeric columns."""

    epochs: int = Field(default=10, ge=1, le=1000)
    batch_size: int = Field(default=256, ge=1)
    learning_rate: float = Field(default=1e-3, gt=0)
    weight_decay: float = Field(default=0.0, ge=0)
    hidden_sizes: list[int] = Field(default=[64, 32], min_length=1)
    validation_fraction: float = Field(default=0.1, gt=0, lt=1)
    differential_privacy: DifferentialPrivacy | None = Field(
        default=None, description="Train with a differential privacy guarantee (Opacus); default: without."
    )


class TextClassifierHyperparameters(SpecModel):
    """Fine-tune a transformers encoder with a classification head on rows written as text."""

    base_model: FileRef = Field(description="A transformers folder holding the pretrained encoder.")
    epochs: int = Field(default=1, ge=1, le=100)
    batch_size: int = Field(default=16, ge=1)
    learning_rate: float = Field(default=5e-5, gt=0)
    weight_decay: float = Field(default=0.01, ge=0)
    warmup_fraction: float = Field(default=0.1, ge=0, lt=1)
    max_length: int = Field(default=64, ge=8, le=512)
    max_train_rows: int | None = Field(default=None, gt=0)
    validation_fraction: float = Field(default=0.1, gt=0, lt=1)


class TokenClassifierHyperparameters(TextClassifierHyperparameters):
    """Fine-tune a transformers encoder with a token-classification head on tagged sentences;
    `max_train_rows` and `validation_fraction` count sentences, `max_length` sub-word tokens."""

    max_length: int = Field(default=128, ge=8, le=512)
    head_learning_rate: float | None = Field(
        default=None,
        gt=0,
        description="Learning rate of the new classification head (default: `learning_rate`); a higher one "
        "lets a short fine-tuning get past tagging every token O, the majority tag.",
    )
    freeze_embeddings: bool = Field(
        default=False,
        description="Keep the encoder's embedding layer as pretrained: an epoch of MiniLM, whose vocabulary "
        "matrix is half its weights, took 29 % less time (`bench/token_training.py`).",
    )


class KerasHyperparameters(SpecModel):
    """A Keras 3 model built layer by layer, trained with `fit` on the PyTorch backend."""

    layers: list[dict[str, dict[str, Any]]] = Field(
        min_length=1,
        description="The layers in order, each written `{ClassName: {argument: value}}` as Keras' constructor "
        "takes them (`{Conv2D: {filters: 32, kernel_size: 3, activation: relu}}`); the output layer included.",
    )
    input_shape: list[int] | None = Field(
        default=None, description="Shape of one example (an image: [height, width, channels]); default: the features."
    )
    optimizer: Literal["adam", "adamw", "sgd", "rmsprop"] = "adam"
    learning_rate: float = Field(default=1e-3, gt=0)
    loss: str | None = Field(
        default=None,
        description="A Keras loss name; default: sparse categorical cross-entropy (multiclass), binary "
        "cross-entropy (binary), mean squared error (regression).",
    )
    epochs: int = Field(default=10, ge=1, le=1000)
    batch_size: int = Field(default=32, ge=1)
    validation_fraction: float = Field(default=0.1, gt=0, lt=1)
    export_onnx: bool = Field(
        default=False,
        description="Also publish the trained model as `model.onnx` (Keras' ONNX export), for runtimes without Keras.",
    )
    threads: int = Field(
        default=1,
        ge=1,
        le=64,
        description="CPU threads while training: the same count gives bit-identical weights from the same seed, "
        "a different count weights that differ in the last digits.",
    )

    @field_validator("layers")
    @classmethod
    def _one_class_each(cls, layers: list[dict[str, dict[str, Any]]]) -> list[dict[str, dict[str, Any]]]:
        for layer in layers:
            if len(layer) != 1:
                raise ValueError("write each layer as `{ClassName: {arguments}}`, one class per list item")
        return layers
