"""Built-in recipe `tabular_mlp`: a PyTorch multilayer perceptron for tabular binary classification
(one logit, binary cross-entropy) or regression (one output, mean squared error on the label
standardised with training statistics, so one learning rate suits labels of any scale).

Categorical columns are one-hot encoded with the categories seen in training (unseen values get
all zeros, missing values their own category); numeric columns are standardised with training
statistics. The encoder travels with the model so evaluation rows are encoded the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from reporter.facts import EpochFacts
from reporter.runners.hyperparameters import TabularMlpHyperparameters
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
            values = frame[column].astype("string").fillna(MISSING_CATEGORY)
            codes = pd.Index(categories).get_indexer(values)  # -1 for values unseen in training
            one_hot = np.zeros((len(frame), len(categories)))
            seen = codes >= 0
            one_hot[np.flatnonzero(seen), codes[seen]] = 1.0
            parts.append(one_hot)
        return np.hstack(parts).astype(np.float32)


def build_network(width: int, hidden_sizes: list[int]) -> nn.Sequential:
    """A ReLU MLP ending in one logit."""
    layers: list[nn.Module] = []
    for size in hidden_sizes:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


def train(context: TrainingContext) -> TrainedModel:
    """Train the MLP with Adam, reporting train and validation figures after every epoch."""
    params: TabularMlpHyperparameters = context.hyperparameters
    device = torch.device(context.device)
    regression = context.task == "regression"
    features, labels = context.train.features, context.train.labels
    rng = np.random.default_rng(context.seed)
    order = rng.permutation(len(labels))
    n_validation = max(1, round(len(labels) * params.validation_fraction))
    val_idx, train_idx = order[:n_validation], order[n_validation:]

    encoder = TabularEncoder.fit(features.iloc[train_idx])
    x_all = torch.from_numpy(encoder.transform(features)).to(device)
    label_mean, label_std = 0.0, 1.0
    if regression:
        label_mean = float(labels[train_idx].mean())
        label_std = float(labels[train_idx].std()) or 1.0
    y_all = torch.from_numpy(((labels - label_mean) / label_std).astype(np.float32)).to(device)
    x_train, y_train = x_all[train_idx], y_all[train_idx]
    x_val, y_val = x_all[val_idx], y_all[val_idx]

    network = build_network(encoder.width, params.hidden_sizes).to(device)
    optimizer = torch.optim.Adam(network.parameters(), lr=params.learning_rate, weight_decay=params.weight_decay)
    loss_fn = nn.MSELoss() if regression else nn.BCEWithLogitsLoss()
    generator = torch.Generator().manual_seed(context.seed)

    for epoch in range(1, params.epochs + 1):
        network.train()
        permutation = torch.randperm(len(train_idx), generator=generator).to(device)
        for start in range(0, len(train_idx), params.batch_size):
            batch = permutation[start : start + params.batch_size]
            optimizer.zero_grad()
            loss = loss_fn(network(x_train[batch]).squeeze(1), y_train[batch])
            loss.backward()
            optimizer.step()
        train_loss, train_acc = _evaluate(network, loss_fn, x_train, y_train, regression=regression)
        val_loss, val_acc = _evaluate(network, loss_fn, x_val, y_val, regression=regression)
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
            outputs = network(torch.from_numpy(encoder.transform(frame)).to(device)).squeeze(1).double()
        if regression:
            return (outputs * label_std + label_mean).cpu().numpy()
        return torch.sigmoid(outputs).cpu().numpy()

    return TrainedModel(
        module=network.cpu() if context.device == "cpu" else network,
        predict_scores=predict_scores,
        architecture={
            "input_width": encoder.width,
            "hidden_sizes": params.hidden_sizes,
            "activation": "ReLU",
            "output": "1 value, scaled back to the label's unit" if regression else "1 logit, sigmoid",
            "numeric_columns": sorted(encoder.numeric),
            "categorical_columns": sorted(encoder.categorical),
        },
        optimizer=f"Adam (lr={params.learning_rate}, weight_decay={params.weight_decay}), "
        + ("mean squared error on the standardised label" if regression else "binary cross-entropy"),
        schedule="constant learning rate",
        validation_rows=len(val_idx),
        train_rows=len(train_idx),
        train_figures="whole training split after each epoch",
    )


def _evaluate(
    network: nn.Module, loss_fn: nn.Module, x: torch.Tensor, y: torch.Tensor, *, regression: bool
) -> tuple[float, float | None]:
    """Loss and (for classification) accuracy of the network on one split."""
    network.eval()
    with torch.no_grad():
        outputs = network(x).squeeze(1)
        loss = float(loss_fn(outputs, y))
        accuracy = None if regression else float(((outputs > 0).float() == y).float().mean())
    return loss, accuracy
