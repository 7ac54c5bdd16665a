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


class LayerFacts(Fact):
    """One layer of a network built of named layers (a Keras model), in the order data flows."""

    name: str
    layer_class: str = Field(description="The layer's class (`Conv2D`, `Dense`, …).")
    output_shape: str = Field(description="Shape of its output, the batch dimension written None.")
    parameters: int = Field(ge=0, description="Number of weights it holds (trainable or not).")


class ArchitectureFacts(Fact):
    """What kind of network this is."""

    source: Literal["train", "load"]
    recipe: str | None = Field(description="Recipe that trained it; null for loaded models.")
    module_class: str = Field(description="Python class of the network.")
    config: dict[str, str | int | float | bool | None | list[int] | list[str]] = Field(
        description="Architecture settings (e.g. hidden size, layers), from the recipe or config.json."
    )
    layers: list[LayerFacts] = Field(
        default_factory=list, description="Layer by layer, for networks of named layers (Keras); empty otherwise."
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


class LoggedSeries(Fact):
    """One scalar a training run logged (a loss, a learning rate, an evaluation metric), as the log
    holds it, point by point."""

    name: str = Field(description="The name the log gives it (e.g. `loss`, `eval_accuracy`).")
    steps: list[int] = Field(description="The optimizer step of each point.")
    epochs: list[float | None] = Field(description="The epoch of each point, where the log gives one.")
    values: list[float | None] = Field(description="Each point's value; null where the log holds NaN or infinity.")


class LoggedRun(Fact):
    """Which run of a tracking store the log is, where the store holds several (MLflow)."""

    run_id: str = Field(description="The run's id in its store.")
    name: str = Field(description="The run's name; empty if it has none.")
    experiment: str = Field(description="The experiment the run belongs to; empty if the store does not say.")
    status: str = Field(description="The run's status as the store records it (e.g. `FINISHED`).")


class LoggedComparison(Fact):
    """One of the log's final evaluation figures beside the build's own figure for the same metric
    on the same rows (the spec declares the pairing)."""

    log_figure: str = Field(description="The figure's name in the log (e.g. `eval_accuracy`).")
    log_value: float = Field(description="Its final value in the log.")
    metric: str = Field(description="The build's metric it measures (e.g. `accuracy`).")
    value: float = Field(description="The build's figure for that metric over all the evaluation rows.")
    low: float | None = Field(description="Lower end of the build's 95 % interval; null if it has none.")
    high: float | None = Field(description="Upper end of the build's 95 % interval; null if it has none.")
    within_interval: bool | None = Field(
        description="Whether the log's value lies within the build's interval; null without an interval."
    )


class DeclaredTrainingFacts(Fact):
    """How the model was trained, as the run's own training log declares it: not measured by this
    build, and never mixed up with what it measured."""

    kind: Literal["declared_by_training_log"] = "declared_by_training_log"
    log_format: str = Field(
        description="The log's format: `trainer_state` (Hugging Face Trainer's state file), `tensorboard` or `mlflow`."
    )
    log_file: str = Field(description="The log file, as the spec names it.")
    log_sha256: str = Field(description="SHA-256 of the log file, so a reader can check it is the one read.")
    settings: dict[str, str | int | float | bool | None] = Field(
        description="The run's settings the log records (epochs, steps, batch size, logging and saving intervals)."
    )
    series: list[LoggedSeries] = Field(description="Every scalar logged during training, in the log's order.")
    summary: dict[str, float | None] = Field(
        description="The figures the log records once, at the end of training (runtime, mean training loss, …)."
    )
    wall_seconds: float | None = Field(description="Training time the log records; null if it records none.")
    total_flos: float | None = Field(description="Floating-point operations the log records; null if none.")
    best_checkpoint: str | None = Field(description="The checkpoint the run kept as best, if it kept one.")
    best_metric: float | None = Field(description="That checkpoint's value of the metric it was chosen by.")
    run: LoggedRun | None = Field(
        default=None, description="The run the figures come from, for a store of many runs; null for a one-run log."
    )
    comparisons: list[LoggedComparison] = Field(
        default_factory=list,
        description="The log's final evaluation figures beside the build's own on the same rows (paired by the spec).",
    )

    def summary_text(self) -> str:
        """One sentence for exports and coverage: what the log declares, and which log."""
        steps = max((max(s.steps) for s in self.series if s.steps), default=0)
        runtime = f", {self.wall_seconds:.1f} s of training" if self.wall_seconds is not None else ""
        run = f", run {self.run.run_id}" if self.run else ""
        return (
            f"Declared by its training log ({self.log_format}, {self.log_file}{run}, SHA-256 {self.log_sha256[:12]}…): "
            f"{len(self.series)} logged series over {steps:,} steps{runtime}; not measured by this build"
        )


class HubFacts(Fact):
    """Where a model loaded from the Hugging Face Hub comes from: what makes its card verifiable."""

    repo_id: str = Field(description="The repository id (`org/name`).")
    requested: str = Field(description="The revision as the spec names it: the commit, or a branch or tag name.")
    commit: str = Field(description="The commit the files were read at.")
    url: str = Field(description="The repository's files at that commit, on the Hub.")


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
