"""Built-in recipe `tabular_mlp`: a PyTorch multilayer perceptron for tabular data. Binary
classification: one logit, binary cross-entropy; multiclass: one logit per class, cross-entropy;
regression: one output, mean squared error on the label standardised with training statistics (so
one learning rate suits labels of any scale).

Categorical columns are one-hot encoded with the categories seen in training (unseen values get
all zeros, missing values their own category); numeric columns are standardised with training
statistics. The encoder travels with the model so evaluation rows are encoded the same way.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from reporter.errors import RecipeError
from reporter.facts import DifferentialPrivacyFacts, EpochFacts
from reporter.runners.hyperparameters import DifferentialPrivacy, TabularMlpHyperparameters
from reporter.runners.recipes import TrainedModel, TrainingContext

MISSING_CATEGORY = "(missing)"


@dataclass(frozen=True)
class TabularEncoder:
    """Turns a data frame into a float32 matrix the way training saw it."""

    numeric: dict[str, tuple[float, float]]
    categorical: dict[str, list[str]]

    @classmethod
    def fit(cls, frame: pd.DataFrame) -> TabularEncoder:
        numeric: dict[str, tuple[float, float]] = {}
        categorical: dict[str, list[str]] = {}
        for column in frame.columns:
            values = frame[column]
            if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
                filled = values.astype("float64")
                std = float(filled.std(ddof=0))
                numeric[str(column)] = (float(filled.mean()), std if std > 0 else 1.0)
            else:
                categories = sorted(values.astype("string").fillna(MISSING_CATEGORY).unique())
                categorical[str(column)] = [str(c) for c in categories]
        return cls(numeric=numeric, categorical=categorical)

    @property
    def width(self) -> int:
        return len(self.numeric) + sum(len(c) for c in self.categorical.values())

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        parts = []
        for column, (mean, std) in self.numeric.items():
            values = frame[column].astype("float64").fillna(mean).to_numpy()
            parts.append(((values - mean) / std)[:, None])
        for column, categories in self.categorical.items():
            categorical = pd.Index(frame[column].astype("string").fillna(MISSING_CATEGORY))
            codes = pd.Index(categories).get_indexer(categorical)  # -1 for values unseen in training
            one_hot = np.zeros((len(frame), len(categories)))
            seen = codes >= 0
            one_hot[np.flatnonzero(seen), codes[seen]] = 1.0
            parts.append(one_hot)
        return np.hstack(parts).astype(np.float32)


def build_network(width: int, hidden_sizes: list[int], outputs: int = 1) -> nn.Sequential:
    """A ReLU MLP ending in ``outputs`` linear units."""
    layers: list[nn.Module] = []
    for size in hidden_sizes:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    layers.append(nn.Linear(width, outputs))
    return nn.Sequential(*layers)


@dataclass(frozen=True)
class OutputHead:
    """What the task asks of the network's last layer: its width, loss, targets and predictions."""

    task: str
    outputs: int
    label_mean: float = 0.0
    label_std: float = 1.0

    @classmethod
    def for_task(cls, task: str, labels: np.ndarray, classes: list[str] | None) -> OutputHead:
        if task == "regression":  # standardise the label so one learning rate suits any unit
            return cls(task, 1, float(labels.mean()), float(labels.std()) or 1.0)
        if task == "multiclass_classification":
            assert classes is not None
            return cls(task, len(classes))
        return cls(task, 1)

    @property
    def loss(self) -> nn.Module:
        return {"regression": nn.MSELoss(), "multiclass_classification": nn.CrossEntropyLoss()}.get(
            self.task, nn.BCEWithLogitsLoss()
        )

    @property
    def loss_name(self) -> str:
        return {
            "regression": "mean squared error on the standardised label",
            "multiclass_classification": "cross-entropy",
        }.get(self.task, "binary cross-entropy")

    @property
    def output_description(self) -> str:
        return {
            "regression": "1 value, scaled back to the label's unit",
            "multiclass_classification": f"{self.outputs} logits, softmax",
        }.get(self.task, "1 logit, sigmoid")

    def targets(self, labels: np.ndarray) -> torch.Tensor:
        if self.task == "multiclass_classification":
            return torch.from_numpy(labels.astype(np.int64))
        return torch.from_numpy(((labels - self.label_mean) / self.label_std).astype(np.float32))

    def fit_outputs(self, raw: torch.Tensor) -> torch.Tensor:
        """The network's outputs in the shape the loss expects."""
        return raw if self.task == "multiclass_classification" else raw.squeeze(1)

    def accuracy(self, outputs: torch.Tensor, targets: torch.Tensor) -> float | None:
        if self.task == "regression":
            return None
        hits = (
            outputs.argmax(dim=1) == targets
            if self.task == "multiclass_classification"
            else (outputs > 0) == targets.bool()
        )
        return float(hits.float().mean())

    def predictions(self, outputs: torch.Tensor) -> np.ndarray:
        """Probabilities (classification) or values in the label's unit (regression), float64."""
        outputs = outputs.double()
        if self.task == "regression":
            return (outputs * self.label_std + self.label_mean).cpu().numpy()
        if self.task == "multiclass_classification":
            return torch.softmax(outputs, dim=1).cpu().numpy()
        return torch.sigmoid(outputs).cpu().numpy()


def train(context: TrainingContext) -> TrainedModel:
    """Train the MLP with Adam, reporting train and validation figures after every epoch."""
    params: TabularMlpHyperparameters = context.hyperparameters
    device = torch.device(context.device)
    features, labels = context.train.features, context.train.labels
    rng = np.random.default_rng(context.seed)
    order = rng.permutation(len(labels))
    n_validation = max(1, round(len(labels) * params.validation_fraction))
    val_idx, train_idx = order[:n_validation], order[n_validation:]

    encoder = TabularEncoder.fit(features.iloc[train_idx])
    head = OutputHead.for_task(context.task, labels[train_idx], context.train.classes)
    x_all = torch.from_numpy(encoder.transform(features)).to(device)
    y_all = head.targets(labels).to(device)
    x_train, y_train = x_all[train_idx], y_all[train_idx]
    x_val, y_val = x_all[val_idx], y_all[val_idx]

    network = build_network(encoder.width, params.hidden_sizes, head.outputs).to(device)
    optimizer = torch.optim.Adam(network.parameters(), lr=params.learning_rate, weight_decay=params.weight_decay)
    loss_fn = head.loss
    generator = torch.Generator().manual_seed(context.seed)
    private = _private_training(params, network, optimizer, x_train, y_train, generator, where=context.spec_path)

    for epoch in range(1, params.epochs + 1):
        network.train()
        if private is not None:
            for x_batch, y_batch in private.loader:
                if len(x_batch) == 0:  # Poisson sampling can draw an empty batch
                    continue
                private.optimizer.zero_grad()
                loss_fn(head.fit_outputs(private.module(x_batch)), y_batch).backward()
                private.optimizer.step()
        else:
            permutation = torch.randperm(len(train_idx), generator=generator).to(device)
            for start in range(0, len(train_idx), params.batch_size):
                batch = permutation[start : start + params.batch_size]
                optimizer.zero_grad()
                loss = loss_fn(head.fit_outputs(network(x_train[batch])), y_train[batch])
                loss.backward()
                optimizer.step()
        train_loss, train_acc = _evaluate(network, head, x_train, y_train)
        val_loss, val_acc = _evaluate(network, head, x_val, y_val)
        context.report_epoch(
            EpochFacts(
                epoch=epoch,
                train_loss=train_loss,
                train_accuracy=train_acc,
                validation_loss=val_loss,
                validation_accuracy=val_acc,
            )
        )

    def predict_scores(frame: pd.DataFrame) -> np.ndarray:
        network.eval()
        with torch.no_grad():
            outputs = head.fit_outputs(network(torch.from_numpy(encoder.transform(frame)).to(device)))
        return head.predictions(outputs)

    return TrainedModel(
        module=network.cpu() if context.device == "cpu" else network,
        predict_scores=predict_scores,
        architecture={
            "input_width": encoder.width,
            "hidden_sizes": params.hidden_sizes,
            "activation": "ReLU",
            "output": head.output_description,
            "numeric_columns": sorted(encoder.numeric),
            "categorical_columns": sorted(encoder.categorical),
        },
        optimizer=f"Adam (lr={params.learning_rate}, weight_decay={params.weight_decay}), {head.loss_name}"
        + (", DP-SGD (Opacus): per-example clipping and Gaussian noise" if private is not None else ""),
        schedule="constant learning rate" + (", Poisson-sampled batches" if private is not None else ""),
        guarantee=private.guarantee() if private is not None else None,
        validation_rows=len(val_idx),
        train_rows=len(train_idx),
        train_figures="whole training split after each epoch",
        trained_rows=np.sort(train_idx),
    )


def _evaluate(network: nn.Module, head: OutputHead, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float | None]:
    """Loss and (for classification) accuracy of the network on one split."""
    network.eval()
    with torch.no_grad():
        outputs = head.fit_outputs(network(x))
        return float(head.loss(outputs, y)), head.accuracy(outputs, y)


NOISE_SOURCE = (
    "PyTorch's seeded generator (Opacus secure_mode off), so the build is reproducible; a cryptographically "
    "secure generator is needed for the guarantee to hold against an attacker who could predict it"
)


@dataclass
class _PrivateTraining:
    """The network, optimiser and batches Opacus made private, and how to read the guarantee."""

    module: nn.Module
    optimizer: torch.optim.Optimizer
    loader: torch.utils.data.DataLoader
    engine: object
    settings: DifferentialPrivacy

    def guarantee(self) -> DifferentialPrivacyFacts:
        engine: Any = self.engine
        optimizer: Any = self.optimizer
        return DifferentialPrivacyFacts(
            epsilon=float(engine.get_epsilon(self.settings.delta)),
            target_epsilon=self.settings.target_epsilon,
            delta=self.settings.delta,
            noise_multiplier=float(optimizer.noise_multiplier),
            max_grad_norm=self.settings.max_grad_norm,
            sample_rate=float(engine.accountant.history[-1][1]),
            steps=int(sum(step[2] for step in engine.accountant.history)),
            accountant=f"{engine.accountant.mechanism()} (Opacus)",
            library=f"opacus {version('opacus')}",
            noise_source=NOISE_SOURCE,
        )


def _private_training(
    params: TabularMlpHyperparameters,
    network: nn.Module,
    optimizer: torch.optim.Optimizer,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    generator: torch.Generator,
    *,
    where: Path,
) -> _PrivateTraining | None:
    """DP-SGD through Opacus when the hyperparameters ask for it; the noise is calibrated to reach
    the target epsilon after all epochs.

    Raises:
        RecipeError: Opacus is not installed.
    """
    settings = params.differential_privacy
    if settings is None:
        return None
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        from opacus import PrivacyEngine
    except ImportError:
        raise RecipeError(
            f"{where}: source.train.hyperparameters.differential_privacy: Opacus is not installed. "
            "Fix: pip install 'reporter[privacy]', or remove differential_privacy"
        ) from None
    finally:  # Opacus calls logging.basicConfig on import, which would print every log line of the build
        root.handlers[:] = handlers
        root.setLevel(level)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x_train, y_train), batch_size=params.batch_size, generator=generator
    )
    # Opacus warns that its noise is not from a secure generator (the facts say so: the seeded
    # generator keeps builds reproducible) and that its calibration could use more RDP orders.
    warnings.filterwarnings("ignore", message="Secure RNG turned off", category=UserWarning)
    warnings.filterwarnings("ignore", message="Optimal order is the largest alpha", category=UserWarning)
    # Its per-example gradient hooks fire on a first layer whose input needs no gradient: expected.
    warnings.filterwarnings("ignore", message="Full backward hook is firing", category=UserWarning)
    engine = PrivacyEngine(accountant="prv")
    module, private_optimizer, private_loader = engine.make_private_with_epsilon(
        module=network,
        optimizer=optimizer,
        data_loader=loader,
        epochs=params.epochs,
        target_epsilon=settings.target_epsilon,
        target_delta=settings.delta,
        max_grad_norm=settings.max_grad_norm,
    )
    return _PrivateTraining(
        module=module, optimizer=private_optimizer, loader=private_loader, engine=engine, settings=settings
    )
