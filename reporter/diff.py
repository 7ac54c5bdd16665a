"""What changed between two builds' facts, and the gates that stop a regression.

Both sides are facts records, so the diff compares exactly what the site publishes. Provenance
(library versions, cache key, commit) and training wall time are left out: they change between
any two machines without the model changing, and would make every diff non-empty.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from reporter.diff_result import (
    DisparityChange,
    ExportChange,
    FactsDiff,
    GateResult,
    MetricChange,
    ModelDiff,
    TensorChange,
    ValueChange,
)
from reporter.errors import InputError
from reporter.facts import (
    DataMeasurements,
    FactsRecord,
    FairnessFacts,
    Interval,
    MembershipFacts,
    NotReported,
    PermutationImportanceFacts,
    TrainingFacts,
)
from reporter.tasks import registered_tasks, tasks_of
from reporter.tasks.figures import Figure

STATUS_RANK = {"not_computed": 0, "pass": 1, "warn": 2, "fail": 3}
LARGEST_MOVERS = 5


def diff_facts(base: Iterable[FactsRecord], head: Iterable[FactsRecord], *, rules: Iterable[str] = ()) -> FactsDiff:
    """Compare two builds model by model, then evaluate the gate rules on the result."""
    base_by_slug = {f.slug: f for f in base}
    head_by_slug = {f.slug: f for f in head}
    models = []
    for slug in sorted(base_by_slug.keys() | head_by_slug.keys()):
        old, new = base_by_slug.get(slug), head_by_slug.get(slug)
        if old is None:
            models.append(ModelDiff(slug=slug, name=new.card.name, status="added"))  # type: ignore[union-attr]
        elif new is None:
            models.append(ModelDiff(slug=slug, name=old.card.name, status="removed"))
        else:
            models.append(_diff_model(old, new))
    result = FactsDiff(models=models)
    gates = [evaluate_gate(rule, result) for rule in rules]
    return result.model_copy(update={"gates": gates})


def _comparable(facts: FactsRecord) -> dict[str, object]:
    data = facts.model_dump(mode="json", exclude={"provenance", "compute"})  # both describe the machine
    if isinstance(data.get("training"), dict):
        data["training"].pop("wall_seconds", None)
    return data


def _diff_model(old: FactsRecord, new: FactsRecord) -> ModelDiff:
    if _comparable(old) == _comparable(new):
        return ModelDiff(slug=new.slug, name=new.card.name, status="unchanged")
    return ModelDiff(
        slug=new.slug,
        name=new.card.name,
        status="changed",
        metrics=_figure_changes(old, new),
        importances=_importance_changes(old, new),
        privacy=_privacy_changes(old, new),
        disparities=_disparity_changes(old.fairness, new.fairness),
        hyperparameters=_hyperparameter_changes(old.training, new.training),
        data=_data_changes(old, new),
        weights=_weight_changes(old, new),
        largest_movers=_largest_movers(old, new),
        text=_text_changes(old, new),
        exports=_export_changes(old, new),
    )


def _export_changes(old: FactsRecord, new: FactsRecord) -> list[ExportChange]:
    """Each export rendered from both sides, with what the diff leaves out (provenance, compute,
    training time) and the document date held equal, so an export differs only where its figures or text do."""
    import datetime
    import difflib

    from reporter.export import EXPORT_FILES, render_export
    from reporter.render.environment import make_environment

    update: dict[str, object] = {"provenance": new.provenance, "compute": new.compute}
    if isinstance(old.training, TrainingFacts) and isinstance(new.training, TrainingFacts):
        update["training"] = old.training.model_copy(update={"wall_seconds": new.training.wall_seconds})
    old = old.model_copy(update=update)
    env = make_environment()
    fixed = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
    changes = []
    for export_format, name in EXPORT_FILES.items():
        a, b = (
            render_export(f, export_format, env=env, report_url="index.html", created=fixed).splitlines()
            for f in (old, new)
        )
        if a != b:
            lines = list(difflib.unified_diff(a, b, lineterm="", n=0))
            removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
            added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
            changes.append(ExportChange(file=name, removed_lines=removed, added_lines=added))
    return changes


def change_interval(old: Interval, new: Interval) -> tuple[float | None, float | None, float | None]:
    """Delta and a 95 % interval treating the two estimates as independent (normal approximation
    from each side's percentile interval). Both sides usually share evaluation rows, which makes
    the true interval narrower: this one errs on the side of calling a change not significant."""
    if old.value is None or new.value is None:
        return None, None, None
    delta = new.value - old.value
    if None in (old.low, old.high, new.low, new.high):
        return delta, None, None
    half = math.hypot((old.high - old.low) / 2, (new.high - new.low) / 2)  # type: ignore[operator]
    return delta, delta - half, delta + half


def _figure_changes(old: FactsRecord, new: FactsRecord) -> list[MetricChange]:
    """The overall figures that moved, for each task both records carry (a model that changed
    task has no comparable metrics): read from each task's figures, the list the card and the
    exports publish, so the diff compares exactly what is published."""
    carried = [task.name for task in tasks_of(new)]
    changes = []
    for task in tasks_of(old):
        if task.name not in carried:
            continue
        before, after = (
            {f.metric: f for f in task.figures(record) if f.feature is None and is_overall(task, f.metric)}
            for record in (old, new)
        )
        for metric, figure in after.items():
            base = before.get(metric)
            if base is not None and base.value != figure.value:
                changes.append(metric_change(metric, _interval(base), _interval(figure)))
    return changes


def _interval(figure: Figure) -> Interval:
    return Interval(value=figure.value, low=figure.low, high=figure.high)


def metric_change(name: str, old: Interval, new: Interval) -> MetricChange:
    """One figure's move, significant when the change's interval excludes zero."""
    delta, low, high = change_interval(old, new)
    significant = low is not None and high is not None and (low > 0 or high < 0)
    return MetricChange(
        name=name, base=old.value, head=new.value, delta=delta, low=low, high=high, significant=significant
    )


PRIVACY_METRICS = {
    "roc_auc": "mia-auc",
    "advantage": "mia-advantage",
    "tpr_at_1_percent_fpr": "mia-tpr-at-1%-fpr",
    "tpr_at_0_1_percent_fpr": "mia-tpr-at-0.1%-fpr",
}
"""The overall membership-attack figures the diff compares, by the name its gates use."""


def _privacy_changes(old: FactsRecord, new: FactsRecord) -> list[MetricChange]:
    """The overall membership-attack figures that moved, as `mia-` metrics."""
    a, b = (getattr(f.privacy, "membership", None) for f in (old, new))
    if not (isinstance(a, MembershipFacts) and isinstance(b, MembershipFacts)):
        return []
    changes = []
    for field, name in PRIVACY_METRICS.items():
        before, after = getattr(a.overall, field), getattr(b.overall, field)
        if isinstance(before, Interval) and isinstance(after, Interval) and before.value != after.value:
            changes.append(metric_change(name, before, after))
    return changes


def _importance_changes(old: FactsRecord, new: FactsRecord) -> list[MetricChange]:
    """Columns whose permutation importance moved, when both sides measured it on the same metric."""
    a, b = (getattr(f.explanations, "importance", None) for f in (old, new))
    if not (isinstance(a, PermutationImportanceFacts) and isinstance(b, PermutationImportanceFacts)):
        return []
    if a.metric != b.metric:
        return []
    before = {c.column: c.importance for c in a.columns}
    changes = []
    for column in b.columns:
        base = before.get(column.column)
        if base is None or base.value == column.importance.value:
            continue
        changes.append(metric_change(column.column, base, column.importance))
    return changes


def _disparity_changes(old: object, new: object) -> list[DisparityChange]:
    if not (isinstance(old, FairnessFacts) and isinstance(new, FairnessFacts)):
        return []
    before = {(f.feature, d.name): d for f in old.features for d in f.disparities}
    changes = []
    for feature in new.features:
        for d in feature.disparities:
            previous = before.get((feature.feature, d.name))
            base_value = previous.value.value if previous else None
            if previous is not None and previous.value.value == d.value.value and previous.status == d.status:
                continue
            base_status = previous.status if previous else "not_computed"
            changes.append(
                DisparityChange(
                    feature=feature.feature,
                    name=d.name,
                    base=base_value,
                    head=d.value.value,
                    delta=None if base_value is None or d.value.value is None else d.value.value - base_value,
                    base_status=base_status,
                    head_status=d.status,
                    worse=STATUS_RANK[d.status] > STATUS_RANK[base_status] and d.status in ("warn", "fail"),
                )
            )
    return changes


def _value_changes(prefix: str, old: dict[str, object], new: dict[str, object]) -> list[ValueChange]:
    return [
        ValueChange(field=f"{prefix}{key}", base=_text(old.get(key, "(absent)")), head=_text(new.get(key, "(absent)")))
        for key in sorted(old.keys() | new.keys())
        if old.get(key, "(absent)") != new.get(key, "(absent)")
    ]


def _text(value: object) -> str:
    if isinstance(value, list):
        return "; ".join(map(str, value))
    return str(value)


def _hyperparameter_changes(old: object, new: object) -> list[ValueChange]:
    before = old.hyperparameters if isinstance(old, TrainingFacts) else {}
    after = new.hyperparameters if isinstance(new, TrainingFacts) else {}
    changes = _value_changes("", dict(before), dict(after))
    if isinstance(old, TrainingFacts) and isinstance(new, TrainingFacts):
        changes += _value_changes(
            "",
            {"optimizer": old.optimizer, "schedule": old.schedule, "seed": old.seed},
            {"optimizer": new.optimizer, "schedule": new.schedule, "seed": new.seed},
        )
    return changes


def _data_changes(old: FactsRecord, new: FactsRecord) -> list[ValueChange]:
    def summary(facts: FactsRecord) -> dict[str, object]:
        out: dict[str, object] = {}
        for source in facts.data:
            out[f"{source.id}.license"] = source.license
            if isinstance(source.measurements, DataMeasurements):
                out[f"{source.id}.sha256"] = source.measurements.sha256
                out[f"{source.id}.rows_used"] = source.measurements.rows_used
        return out

    return _value_changes("", summary(old), summary(new))


def _weight_changes(old: FactsRecord, new: FactsRecord) -> list[ValueChange]:
    def summary(facts: FactsRecord) -> dict[str, object]:
        w = facts.weights
        return {
            "fingerprint": w.fingerprint,
            "parameters_total": w.parameters_total,
            "tensor_count": w.tensor_count,
            "non_finite_values": sum(t.nan_count + t.inf_count for t in w.tensors),
        }

    return _value_changes("", summary(old), summary(new))


def _largest_movers(old: FactsRecord, new: FactsRecord) -> list[TensorChange]:
    before = {t.name: t.l2_norm for t in old.weights.tensors}
    moves = []
    for tensor in new.weights.tensors:
        if tensor.name not in before:
            continue
        a, b = before[tensor.name], tensor.l2_norm
        relative = None if a is None or a == 0 or b is None else (b - a) / a
        if a != b:
            moves.append(TensorChange(name=tensor.name, base_norm=a, head_norm=b, relative_change=relative))
    moves.sort(key=lambda m: -abs(m.relative_change) if m.relative_change is not None else 0)
    return moves[:LARGEST_MOVERS]


def _text_changes(old: FactsRecord, new: FactsRecord) -> list[ValueChange]:
    fields = (
        "name",
        "version",
        "license",
        "description",
        "intended_uses",
        "intended_users",
        "out_of_scope_uses",
        "limitations",
        "ethical_considerations",
    )
    a = {f: getattr(old.card, f) for f in fields}
    b = {f: getattr(new.card, f) for f in fields}
    a["openness"], b["openness"] = (_openness_text(f) for f in (old, new))
    return _value_changes("", a, b)


def _openness_text(facts: FactsRecord) -> str:
    openness = facts.openness
    if isinstance(openness, NotReported):
        return openness.not_reported
    missing = f"; next class lacks {', '.join(openness.missing_for_next)}" if openness.missing_for_next else ""
    return openness.label + missing


GATE_HELP = (
    "fairness-status (a disparity status got worse: to warn or fail), fairness-status:fail (moved to fail), "
    "metric:NAME:DELTA (e.g. metric:accuracy:-0.01 fires when accuracy drops by more than 0.01; "
    "metric:log_loss:+0.02 when it rises by more than 0.02), privacy:mia-auc:+0.02 (the membership attack's "
    "ROC AUC rose by more than 0.02: the weights give away more about who was trained on), license-change, "
    "new-nan-weights"
)


def is_overall(task: object, metric: str) -> bool:
    """Whether a task's figure is one of its overall metrics: listed, or (for names a spec gives,
    such as a declared benchmark's) of the shape the task's `overall_metric_pattern` allows."""
    pattern = getattr(task, "overall_metric_pattern", None)
    return metric in getattr(task, "overall_metrics", ()) or bool(pattern and re.fullmatch(pattern, metric))


def gate_metrics() -> list[str]:
    """The metrics a `metric:NAME:DELTA` gate may name: every task's overall metrics, once each."""
    return list(dict.fromkeys(metric for task in registered_tasks() for metric in task.overall_metrics))


def evaluate_gate(rule: str, result: FactsDiff) -> GateResult:
    """Evaluate one `--fail-on` rule.

    Raises:
        InputError: the rule is not one reporter knows.
    """
    reasons: list[str] = []
    changed = [m for m in result.models if m.status == "changed"]
    if rule in ("fairness-status", "fairness-status:fail"):
        for model in changed:
            for d in model.disparities:
                if d.worse and (rule == "fairness-status" or d.head_status == "fail"):
                    reasons.append(f"{model.slug}: {d.feature} {d.name} {d.base_status} → {d.head_status}")
    elif rule.startswith(("metric:", "privacy:")):
        kind = rule.split(":")[0]
        known = gate_metrics() if kind == "metric" else list(PRIVACY_METRICS.values())
        example = "metric:accuracy:-0.01" if kind == "metric" else "privacy:mia-auc:+0.02"
        parts = rule.split(":")
        try:
            name, limit = parts[1], float(parts[2])
        except (IndexError, ValueError):
            raise InputError(f"--fail-on {rule}: write {kind}:NAME:DELTA, e.g. {example}") from None
        if name not in known and not (kind == "metric" and any(is_overall(t, name) for t in registered_tasks())):
            raise InputError(f"--fail-on {rule}: unknown {kind} {name!r}. Fix: use one of {', '.join(known)}")
        for model in changed:
            for m in model.metrics if kind == "metric" else model.privacy:
                if m.name == name and m.delta is not None and (m.delta < limit if limit < 0 else m.delta > limit):
                    reasons.append(f"{model.slug}: {name} {m.base:.4f} → {m.head:.4f} ({m.delta:+.4f})")
    elif rule == "license-change":
        for model in changed:
            for c in model.text + model.data:
                if c.field.endswith("license"):
                    reasons.append(f"{model.slug}: {c.field} {c.base} → {c.head}")
    elif rule == "new-nan-weights":
        for model in changed:
            for c in model.weights:
                if c.field == "non_finite_values" and int(c.head) > int(c.base):
                    reasons.append(f"{model.slug}: non-finite weight values {c.base} → {c.head}")
    else:
        raise InputError(f"--fail-on {rule}: unknown rule. Fix: use one of: {GATE_HELP}")
    return GateResult(rule=rule, fired=bool(reasons), reasons=reasons)
