"""Entity-level scores of a token classifier (named-entity recognition) from IOB2 tags.

A named entity counts as found only when its whole span and its type are predicted exactly, as
in the CoNLL shared tasks. Two readings of a tag sequence are common and give different figures
for the same predictions, so both are published:

* ``conlleval`` (the CoNLL evaluation script, and seqeval's default): an ``I-X`` that follows
  ``O`` or a tag of another type starts an entity, as if it were ``B-X``;
* ``strict`` (seqeval's ``mode="strict", scheme=IOB2``): only ``B-X`` starts an entity and an
  ``I-X`` without one before it is dropped.

The conlleval reading is the headline because the published results of NER corpora (WNUT, CoNLL)
were computed with that script. Every figure is a sum of per-sentence counts, so the intervals
resample sentences, the unit the corpus was annotated in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reporter.extract.fairness import Grouping, disparity_status, group_visibility, overall_status
from reporter.extract.groups import GroupEstimates, estimate_groups, points_of
from reporter.extract.metrics import interval, row_bootstrap_weights, safe_divide, weighted_sums
from reporter.facts import (
    EntityFeatureFacts,
    EntityGroupFacts,
    EntityModeFacts,
    EntityScoreFacts,
    Interval,
    SpanErrorFacts,
)

MODES = {
    "conlleval": "conlleval (the CoNLL script, seqeval's default): an I- tag after O or after another type "
    "starts an entity",
    "strict": "strict IOB2 (seqeval mode='strict', scheme=IOB2): only a B- tag starts an entity; "
    "an I- tag without one is dropped",
}
HEADLINE_MODE = "conlleval"
OUTSIDE = "O"


def is_iob2_tag(tag: str) -> bool:
    """``O``, or ``B-``/``I-`` followed by a type name without spaces."""
    return tag == "O" or (tag[:2] in ("B-", "I-") and len(tag) > 2 and not any(c.isspace() for c in tag))


def entity_type(tag: str) -> str:
    """The entity type of an IOB2 tag (``B-person`` → ``person``); "" for ``O``."""
    return tag[2:]


def entities(tags: Sequence[str], *, mode: str) -> set[tuple[str, int, int]]:
    """The entities of one sentence's IOB2 tags as (type, first token, last token + 1).

    An entity runs from its first tag over the following ``I-`` tags of the same type.
    """
    found: set[tuple[str, int, int]] = set()
    start, kind = -1, ""
    for position, tag in enumerate([*tags, OUTSIDE]):
        continues = tag.startswith("I-") and start >= 0 and entity_type(tag) == kind
        if continues:
            continue
        if start >= 0:
            found.add((kind, start, position))
            start, kind = -1, ""
        if tag.startswith("B-") or (tag.startswith("I-") and mode == "conlleval"):
            start, kind = position, entity_type(tag)
    return found


@dataclass(frozen=True)
class EntityCounts:
    """Per sentence and entity type: gold entities, predicted entities and exact matches."""

    types: list[str]
    gold: np.ndarray  # (sentences, types), int64
    predicted: np.ndarray
    correct: np.ndarray


def entity_counts(gold: list[list[str]], predicted: list[list[str]], *, mode: str, types: list[str]) -> EntityCounts:
    """Count entities per sentence and type; ``types`` must hold every type either side uses."""
    column = {name: i for i, name in enumerate(types)}
    shape = (len(gold), len(types))
    counts = {name: np.zeros(shape, dtype=np.int64) for name in ("gold", "predicted", "correct")}
    for row, (gold_tags, predicted_tags) in enumerate(zip(gold, predicted, strict=True)):
        gold_entities, predicted_entities = entities(gold_tags, mode=mode), entities(predicted_tags, mode=mode)
        for name, found in (
            ("gold", gold_entities),
            ("predicted", predicted_entities),
            ("correct", gold_entities & predicted_entities),
        ):
            for kind, _, _ in found:
                counts[name][row, column[kind]] += 1
    return EntityCounts(types=types, **counts)


def _scores(gold: np.ndarray, predicted: np.ndarray, correct: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall and F1 of summed counts (any shape); NaN where a metric is undefined.

    F1 is 2·correct / (gold + predicted): defined whenever either side has an entity, so a type
    the model never predicts scores 0, not undefined, as in seqeval and scikit-learn.
    """
    return {
        "precision": safe_divide(correct, predicted),
        "recall": safe_divide(correct, gold),
        "f1": safe_divide(2 * correct, gold + predicted),
    }


def _score_facts(label: str, sums: tuple[np.ndarray, ...], replicates: tuple[np.ndarray, ...]) -> EntityScoreFacts:
    gold, predicted, correct = (int(s) for s in sums)
    points, resampled = _scores(*sums), _scores(*replicates)
    return EntityScoreFacts(
        type=label,
        gold=gold,
        predicted=predicted,
        correct=correct,
        **{name: interval(float(points[name]), resampled[name]) for name in points},
    )


def mode_facts(counts: EntityCounts, *, mode: str, weights: np.ndarray) -> EntityModeFacts:
    """Micro-averaged and per-type scores of one mode, with intervals from ``weights`` (replicates ×
    sentences: how often each sentence is drawn)."""
    arrays = (counts.gold, counts.predicted, counts.correct)
    per_type = [a.sum(axis=0).astype(np.float64) for a in arrays]
    per_type_replicates = [weights @ a.astype(np.float64) for a in arrays]
    return EntityModeFacts(
        mode=mode,
        description=MODES[mode],
        micro=_score_facts(
            "all types", tuple(a.sum() for a in per_type), tuple(r.sum(axis=1) for r in per_type_replicates)
        ),
        types=[
            _score_facts(name, tuple(a[i] for a in per_type), tuple(r[:, i] for r in per_type_replicates))
            for i, name in enumerate(counts.types)
        ],
    )


def token_accuracy(gold: list[list[str]], predicted: list[list[str]], weights: np.ndarray) -> Interval:
    """Share of tokens whose tag is predicted exactly, ``O`` included (seqeval's accuracy_score)."""
    right = np.array([sum(g == p for g, p in zip(gs, ps, strict=True)) for gs, ps in zip(gold, predicted, strict=True)])
    tokens = np.array([len(gs) for gs in gold], dtype=np.float64)
    return interval(float(right.sum() / tokens.sum()), (weights @ right) / (weights @ tokens))


SPAN_ERROR_KINDS = ("correct", "wrong_type", "wrong_boundary", "wrong_type_and_boundary", "missed")


def span_errors(gold: list[list[str]], predicted: list[list[str]], *, types: list[str]) -> list[SpanErrorFacts]:
    """What became of each gold entity (headline mode), and the predictions that overlap none.

    A gold entity is correct (same span and type), of the wrong type (same span), of the wrong
    boundary (an overlapping prediction of its type), of both (only predictions of other types
    overlap it), or missed (nothing overlaps it). A predicted entity overlapping no gold entity
    is spurious. These five outcomes of a gold entity are checked in this order.
    """
    tally = {name: dict.fromkeys((*SPAN_ERROR_KINDS, "predicted", "spurious"), 0) for name in types}
    for gold_tags, predicted_tags in zip(gold, predicted, strict=True):
        gold_entities = entities(gold_tags, mode=HEADLINE_MODE)
        predicted_entities = entities(predicted_tags, mode=HEADLINE_MODE)
        for kind, start, end in gold_entities:
            overlapping = [(k, s, e) for k, s, e in predicted_entities if s < end and start < e]
            if (kind, start, end) in predicted_entities:
                outcome = "correct"
            elif any((s, e) == (start, end) for _, s, e in overlapping):
                outcome = "wrong_type"
            elif any(k == kind for k, _, _ in overlapping):
                outcome = "wrong_boundary"
            else:
                outcome = "wrong_type_and_boundary" if overlapping else "missed"
            tally[kind][outcome] += 1
        for kind, start, end in predicted_entities:
            tally[kind]["predicted"] += 1
            if not any(s < end and start < e for _, s, e in gold_entities):
                tally[kind]["spurious"] += 1
    return [
        SpanErrorFacts(type=name, gold=sum(tally[name][k] for k in SPAN_ERROR_KINDS), **tally[name]) for name in types
    ]


def group_facts(
    counts: EntityCounts,
    groups: np.ndarray,
    *,
    feature: str,
    weights: np.ndarray,
    reference: str | None,
    min_group_size: int,
    privacy_threshold: int,
    ratio_threshold: float,
) -> EntityFeatureFacts:
    """Micro entity recall and F1 of each group of sentences, and their ratios to the reference
    group's (default: the group with most sentences), judged by the four-fifths rule.

    Groups with fewer than ``privacy_threshold`` sentences are hidden; fewer than
    ``min_group_size`` are listed as insufficient data (the group engine's rules, as for every task).
    """
    gold, predicted, correct = (
        a.sum(axis=1).astype(np.float64) for a in (counts.gold, counts.predicted, counts.correct)
    )
    names, codes = np.unique(groups, return_inverse=True)
    grouping = Grouping(feature, codes.reshape(-1).astype(np.int64), [str(n) for n in names])
    shown = group_visibility(
        grouping, reference=reference, min_group_size=min_group_size, privacy_threshold=privacy_threshold
    )
    chosen = [grouping.names.index(n) for n in shown.reportable]

    def table(w: np.ndarray) -> dict[str, np.ndarray]:
        sums = (weighted_sums(grouping.codes, v, w, len(names))[:, chosen] for v in (gold, predicted, correct))
        return _scores(*sums)

    [estimates] = estimate_groups([table], points=points_of([table], gold.size), replicate_weights=[weights])
    ref = shown.reportable.index(shown.reference) if shown.reference is not None else None
    facts, statuses = [], []
    for name, size in shown.visible:
        entities = int(gold[grouping.codes == grouping.names.index(name)].sum())
        if name not in shown.reportable:
            facts.append(EntityGroupFacts(group=name, sentences=size, entities=entities, status="insufficient_data"))
            continue
        i = shown.reportable.index(name)
        ratios = _ratios_to_reference(estimates, i, ref)
        if name != shown.reference:
            statuses += [disparity_status(r, kind="ratio", threshold=ratio_threshold) for r in ratios.values()]
        facts.append(
            EntityGroupFacts(
                group=name,
                sentences=size,
                entities=entities,
                status="reported",
                recall=estimates.estimate("recall", i),
                f1=estimates.estimate("f1", i),
                ratios_to_reference=ratios,
            )
        )
    return EntityFeatureFacts(
        feature=feature,
        reference_group=shown.reference,
        groups=facts,
        suppressed_groups=shown.suppressed,
        status=overall_status(statuses),
    )


def _ratios_to_reference(estimates: GroupEstimates, group: int, reference: int | None) -> dict[str, Interval]:
    """Recall and F1 of a group over the reference group's, with intervals (none without a reference)."""
    if reference is None:
        return {}
    points, replicates = estimates.points, estimates.replicates
    assert replicates is not None
    return {
        metric: interval(
            float(safe_divide(points[metric][group], points[metric][reference])),
            safe_divide(replicates[metric][:, group], replicates[metric][:, reference]),
        )
        for metric in ("recall", "f1")
    }


def sentence_weights(sentences: int, *, samples: int, seed: int) -> np.ndarray:
    """How often each sentence is drawn in each of ``samples`` bootstrap replicates."""
    return np.concatenate(list(row_bootstrap_weights(sentences, samples=samples, seed=seed)))
