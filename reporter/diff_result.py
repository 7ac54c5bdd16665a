"""What `reporter diff` found between two builds: the record the Changes page, the pull-request
comment and the gates read. Plain data, apart from the comparison that fills it (`reporter.diff`),
so the renderers can show a diff without depending on how it is computed."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class Change(BaseModel):
    model_config = ConfigDict(frozen=True)


class MetricChange(Change):
    """A metric whose value moved, with a conservative 95 % interval of the change."""

    name: str
    base: float | None
    head: float | None
    delta: float | None
    low: float | None
    high: float | None
    significant: bool


class DisparityChange(Change):
    feature: str
    name: str
    base: float | None
    head: float | None
    delta: float | None
    base_status: str
    head_status: str
    worse: bool


class ValueChange(Change):
    field: str
    base: str
    head: str


class TensorChange(Change):
    name: str
    base_norm: float | None
    head_norm: float | None
    relative_change: float | None


class ExportChange(Change):
    """An export whose bytes differ: the format's file and the lines removed and added."""

    file: str
    removed_lines: int
    added_lines: int


class ModelDiff(Change):
    slug: str
    name: str
    status: Literal["added", "removed", "changed", "unchanged"]
    metrics: list[MetricChange] = []
    importances: list[MetricChange] = []
    """Permutation importance of each input column that moved (same headline metric on both sides)."""
    privacy: list[MetricChange] = []
    """Membership-attack figures that moved (overall)."""
    disparities: list[DisparityChange] = []
    hyperparameters: list[ValueChange] = []
    data: list[ValueChange] = []
    weights: list[ValueChange] = []
    largest_movers: list[TensorChange] = []
    text: list[ValueChange] = []
    exports: list[ExportChange] = []


class GateResult(Change):
    rule: str
    fired: bool
    reasons: list[str]


class FactsDiff(Change):
    """The whole comparison: per model, and the gates evaluated on it."""

    models: list[ModelDiff]
    gates: list[GateResult] = []

    @property
    def empty(self) -> bool:
        return all(m.status == "unchanged" for m in self.models)

    @property
    def fired(self) -> list[GateResult]:
        return [g for g in self.gates if g.fired]
