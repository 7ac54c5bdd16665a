"""What user code hands back is checked where it enters: a recipe's `TrainedModel` fields, its
trained rows, an attributor's rows. Each refusal names where the value came from and the fix."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from reporter.errors import RecipeError
from reporter.facts import NotReported
from reporter.runners.attributions import RowAttributions
from reporter.runners.recipes import TrainedModel
from reporter.runners.returned import check_trained_model, checked_attributions, checked_rows

WHERE = "models/x/model.yaml: source.train.recipe: models/x/recipe.py, function train"


def trained(**changes: object) -> TrainedModel:
    model = TrainedModel(
        module=torch.nn.Linear(2, 1),
        predict_scores=lambda frame: np.zeros(len(frame)),
        architecture={"layers": 1},
        optimizer="SGD",
        schedule="constant",
        validation_rows=2,
        train_rows=8,
        train_figures="one epoch",
    )
    return replace(model, **changes)  # type: ignore[arg-type]


def test_a_well_formed_model_passes_and_no_trained_rows_means_every_row() -> None:
    assert check_trained_model(trained(), training_rows=10, where=WHERE).tolist() == list(range(10))
    rows = check_trained_model(trained(trained_rows=[7, 1, 3]), training_rows=10, where=WHERE)
    assert rows.tolist() == [1, 3, 7] and rows.dtype == np.int64


@pytest.mark.parametrize(
    ("positions", "message"),
    [
        ([0, 10], "holds 1 position(s) outside the 10 training rows (first: 10)"),
        ([-1, 2], "holds 1 position(s) outside the 10 training rows (first: -1)"),
        ([1, 1], "repeats positions"),
        ([], "is not a non-empty list of whole numbers"),
        ([0.5, 1.0], "is not a non-empty list of whole numbers"),
        ([[0, 1]], "is not a non-empty list of whole numbers"),
    ],
)
def test_trained_rows_outside_the_training_rows_are_refused(positions: list, message: str) -> None:
    with pytest.raises(RecipeError) as caught:
        checked_rows(positions, rows=10, where=WHERE)
    assert str(caught.value).startswith(WHERE) and message in str(caught.value) and "Fix:" in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"architecture": ["layers"]}, "architecture is a list"),
        ({"optimizer": 3}, "optimizer is a int"),
        ({"train_rows": -1}, "train_rows is -1"),
        ({"validation_rows": True}, "validation_rows is True"),
        ({"predict_scores": None}, "predict_scores is a NoneType, not a function"),
        ({"save": "folder"}, "save is a str, not a function"),
        ({"guarantee": {"epsilon": 1}}, "guarantee is a dict"),
    ],
)
def test_fields_of_the_wrong_kind_are_refused(changes: dict, message: str) -> None:
    with pytest.raises(RecipeError, match="Fix:") as caught:
        check_trained_model(trained(**changes), training_rows=10, where=WHERE)
    assert message in str(caught.value)


def row(**changes: object) -> RowAttributions:
    base = RowAttributions(
        tokens=["[CLS]", "age", "[SEP]"],
        columns=[-1, 0, -1],
        values=np.array([0.0, 0.3, 0.0]),
        target="yes",
        logit_change=0.3,
        delta=0.0,
        steps=20,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_attributions_are_checked_row_by_row() -> None:
    [checked] = checked_attributions([row()], rows=1, columns=2, where=WHERE)
    assert checked.tokens == row().tokens
    assert isinstance(checked_attributions(NotReported(not_reported="x"), rows=1, columns=2, where=WHERE), NotReported)
    for bad in ([row(), row()], [row(columns=[-1, 5, -1])], [row(values=np.array([0.0, np.nan, 0.0]))], "rows"):
        with pytest.raises(RecipeError, match="attribute_rows"):
            checked_attributions(bad, rows=1, columns=2, where=WHERE)
