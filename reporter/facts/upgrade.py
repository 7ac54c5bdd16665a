"""Records written with an earlier schema, read as today's: `reporter diff` compares a build with
a base built before an upgrade, so every figure the old record holds must reach the new shape.

Schema 1.x kept a model's figures in five slots (`performance`, `fairness`, `token_classification`,
`language_model`, `embedding_bias`), each "not reported" unless the model had that task, and one
group record with the fields of every task. Schema 2.0 keeps one evaluation per task the model
carries (`evaluations`, discriminated on `kind`) with a group record per task.
"""

from __future__ import annotations

from typing import Any, Final

from reporter.facts.base import EARLIER_VERSIONS, NOT_RECORDED
from reporter.facts.labelled import BinaryGroupFacts, GroupFacts, MulticlassGroupFacts, RegressionGroupFacts

ONE_X_SLOTS: Final = ("performance", "fairness", "token_classification", "language_model", "embedding_bias")
"""The schema 1.x slots an evaluation of schema 2.0 replaces."""

_GROUP_RECORDS: Final[dict[str, type[GroupFacts]]] = {
    "binary_classification": BinaryGroupFacts,
    "multiclass_classification": MulticlassGroupFacts,
    "regression": RegressionGroupFacts,
}
_UNLABELLED: Final = (
    ("token_classification", "token_classification"),
    ("embedding_bias", "sentence_embedding"),
    ("language_model", "text_generation"),
)


def upgraded(data: Any) -> Any:
    """``data`` in today's shape if it is a record of an earlier schema; anything else unchanged
    (validation then says what is wrong with it)."""
    if not isinstance(data, dict) or data.get("schema_version") not in EARLIER_VERSIONS:
        return data
    data = _with_families_it_lacked(data)
    if "evaluations" not in data:
        data = {**data, "evaluations": _evaluations_of(data)}
    return {key: value for key, value in data.items() if key not in ONE_X_SLOTS}


def _with_families_it_lacked(data: dict[str, Any]) -> dict[str, Any]:
    """The families added during 1.x, each marked as not recorded, with the version it was written with."""
    missing = {"not_reported": f"{NOT_RECORDED} these facts were written with schema {data['schema_version']}"}
    data = {
        "inference": missing,
        "openness": missing,
        "explanations": missing,
        "privacy": missing,
        **data,
    }
    data["card"] = {"intended_users": [], **data.get("card", {})}
    if isinstance(data.get("weights"), dict):
        data["weights"] = {"quantization": missing, "file_metadata": missing, **data["weights"]}
    return data


def _reported(value: Any) -> bool:
    return isinstance(value, dict) and "not_reported" not in value


def _evaluations_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The 1.x slots a model filled, as 2.0 evaluations in the task registry's order."""
    evaluations = []
    performance = data.get("performance")
    if isinstance(performance, dict) and _reported(performance):
        kind = performance.get("task", "binary_classification")
        evaluations.append(
            {
                "kind": kind,
                "performance": {k: v for k, v in performance.items() if k != "task"},
                "fairness": _task_fairness(data.get("fairness"), _GROUP_RECORDS[kind]),
            }
        )
    for slot, kind in _UNLABELLED:
        if _reported(data.get(slot)):
            evaluations.append({"kind": kind, **data[slot]})
    return evaluations


def _task_fairness(fairness: Any, record: type[GroupFacts]) -> Any:
    """1.x fairness facts with each group reduced to its task's fields (the others were null)."""
    if not _reported(fairness):
        return fairness
    fields = set(record.model_fields)
    features = [
        {**feature, "groups": [{k: v for k, v in group.items() if k in fields} for group in feature["groups"]]}
        for feature in fairness["features"]
    ]
    return {**fairness, "features": features}
