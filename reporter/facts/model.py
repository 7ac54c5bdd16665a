"""What the model is and how it came to be: the card's declarations, its architecture, its
training run and how the build ran it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reporter.facts.base import Fact


class Owner(Fact):
    name: str
    contact: str | None = None


class CardFacts(Fact):
    """What the spec author declares about the model (the prose half of the model card)."""

    name: str
    version: str
    date: str | None = Field(description="Release date the spec declares (ISO 8601), if any.")
    description: str
    task: str
    owners: list[Owner]
    license: str
    intended_uses: list[str]
    out_of_scope_uses: list[str]
    limitations: list[str]
    ethical_considerations: list[str]
    intended_users: list[str] = Field(description="Who the model is for, as the spec declares.")


class ArchitectureFacts(Fact):
    """What kind of network this is."""

    source: Literal["train", "load"]
    recipe: str | None = Field(description="Recipe that trained it; null for loaded models.")
    module_class: str = Field(description="Python class of the network.")
    config: dict[str, str | int | float | bool | None | list[int] | list[str]] = Field(
        description="Architecture settings (e.g. hidden size, layers), from the recipe or config.json."
    )


class EpochFacts(Fact):
    """Loss and accuracy after one training epoch."""

    epoch: int
    train_loss: float
    train_accuracy: float | None = Field(description="Null for regression, which has no accuracy.")
    validation_loss: float
    validation_accuracy: float | None = Field(description="Null for regression, which has no accuracy.")


class TrainingFacts(Fact):
    """How the model was trained in this build."""

    hyperparameters: dict[str, str | int | float | bool | None | list[int] | list[str]]
    optimizer: str
    schedule: str
    seed: int
    train_rows: int
    validation_rows: int
    history: list[EpochFacts]
    train_figures: str = Field(description="How the per-epoch train figures were measured.")
    wall_seconds: float = Field(description="Training time in seconds (varies between machines).")
    device: str


class InferenceFacts(Fact):
    """How the build ran a loaded model over the evaluation rows, so anyone holding the weights can
    run it the same way and get the same figures."""

    device: str
    rows: int
    batch_size: int | None = Field(description="Rows per forward pass; null where the model's own code batches.")
    max_length: int | None = Field(description="Longest input in tokens (longer inputs truncated); null: not text.")
    input: str = Field(description="What the model read: a text column, or each row written as text.")
    labels: dict[str, str] = Field(description="Each of the model's labels and the data label value it stands for.")
    seconds: float = Field(description="Wall time of the forward passes (varies between machines).")
    rows_per_second: float = Field(description="Rows over seconds (varies between machines).")
