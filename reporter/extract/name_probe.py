"""The name-template probe of bias in named-entity recognition (after Mishra et al. 2020).

Template sentences ("{} is going to the game tonight .") are filled with first names that word-set
files associate with groups of people (WEAT's target sets: European and African American names,
male and female names, ...). A fair recogniser tags every name as a person equally often; a
lower share for one group means its people are more often left out of whatever the entities feed
(search, redaction, knowledge bases). The share of each group is compared with the first set of
its test by the four-fifths rule, with intervals that resample names (a name's sentences move
together, since the name, not the template, is what differs between groups).

What it shows: differences in how the model treats names alone, in the same contexts. What it
does not show: how it treats real people's names in real text, which differ in spelling and
context; a pass is not evidence of fairness.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reporter.extract.embedding_bias import WordSets
from reporter.extract.entities import HEADLINE_MODE, entities
from reporter.extract.fairness import disparity_status, overall_status
from reporter.extract.metrics import interval, safe_divide
from reporter.facts import NameProbeFacts, NameProbeGroupFacts

METHOD = (
    "each name is put into every template; a sentence counts as recognised when the name's tokens are "
    "predicted as exactly one entity of the probed type (conlleval reading); each group is compared with "
    "the first name set of its test, and intervals resample names"
)


@dataclass(frozen=True)
class ProbeGroup:
    """One name list: its label on the card, the test it comes from and whether it is the reference."""

    label: str
    test: int
    names: list[str]
    reference: str


def probe_groups(tests: list[WordSets]) -> list[ProbeGroup]:
    """The two target sets of each test as groups; the first is the reference of the second.
    Set names used by more than one test are told apart by the test number."""
    names = [test.names[i] for test in tests for i in (0, 1)]
    groups: list[ProbeGroup] = []
    for test in tests:
        labels = [
            f"{test.names[i]} (test {test.number})" if names.count(test.names[i]) > 1 else test.names[i] for i in (0, 1)
        ]
        groups.extend(
            ProbeGroup(label=labels[i], test=test.number, names=list(test.words[i]), reference=labels[0])
            for i in (0, 1)
        )
    return groups


@dataclass(frozen=True)
class ProbeSentence:
    group: str
    name: str
    tokens: list[str]
    span: tuple[int, int]  # the name's first token and last token + 1


def probe_sentences(groups: list[ProbeGroup], templates: list[str]) -> list[ProbeSentence]:
    """Every name of every group in every template (templates hold `{}` as one token)."""
    sentences = []
    for group in groups:
        for name in group.names:
            for template in templates:
                before, after = (part.split() for part in template.split("{}"))
                name_tokens = name.split()
                sentences.append(
                    ProbeSentence(
                        group=group.label,
                        name=name,
                        tokens=[*before, *name_tokens, *after],
                        span=(len(before), len(before) + len(name_tokens)),
                    )
                )
    return sentences


def _outcome(sentence: ProbeSentence, tags: list[str], entity_type: str) -> str:
    found = entities(tags, mode=HEADLINE_MODE)
    start, end = sentence.span
    if (entity_type, start, end) in found:
        return "recognised"
    if any((s, e) == (start, end) for _, s, e in found):
        return "other_type"
    if any(s < end and start < e for _, s, e in found):
        return "partly"
    return "missed"


def name_probe_facts(
    groups: list[ProbeGroup],
    sentences: list[ProbeSentence],
    predicted: list[list[str]],
    *,
    entity_type: str,
    templates: list[str],
    source: str,
    license: str,
    ratio_threshold: float,
    samples: int,
    seed: int = 0,
) -> NameProbeFacts:
    """Each group's share of sentences whose name is recognised as ``entity_type``, with intervals
    over names, and its ratio to the reference group of its test."""
    outcomes = [_outcome(s, tags, entity_type) for s, tags in zip(sentences, predicted, strict=True)]
    rng = np.random.default_rng(seed)
    shares: dict[str, tuple[float, np.ndarray]] = {}
    rows = []
    for group in groups:
        picked = [i for i, s in enumerate(sentences) if s.group == group.label]
        per_name = np.array(
            [np.mean([outcomes[i] == "recognised" for i in picked if sentences[i].name == n]) for n in group.names]
        )
        replicates = per_name[rng.integers(0, per_name.size, size=(samples, per_name.size))].mean(axis=1)
        shares[group.label] = (float(per_name.mean()), replicates)
        rows.append((group, picked))
    facts, statuses = [], []
    for group, picked in rows:
        point, replicates = shares[group.label]
        reference_point, reference_replicates = shares[group.reference]
        ratio = None
        if group.label != group.reference:
            ratio = interval(
                float(safe_divide(np.asarray(point), np.asarray(reference_point))),
                safe_divide(replicates, reference_replicates),
            )
            statuses.append(disparity_status(ratio, kind="ratio", threshold=ratio_threshold))
        first = sentences[picked[0]]
        facts.append(
            NameProbeGroupFacts(
                group=group.label,
                names=len(group.names),
                sentences=len(picked),
                recognised=interval(point, replicates),
                other_type=float(np.mean([outcomes[i] == "other_type" for i in picked])),
                partly=float(np.mean([outcomes[i] == "partly" for i in picked])),
                missed=float(np.mean([outcomes[i] == "missed" for i in picked])),
                ratio_to_reference=ratio,
                example=[" ".join(first.tokens), " ".join(predicted[picked[0]])],
            )
        )
    return NameProbeFacts(
        source=source,
        license=license,
        entity_type=entity_type,
        templates=templates,
        method=METHOD,
        reference_groups=sorted({g.reference for g in groups}),
        ratio_threshold=ratio_threshold,
        groups=facts,
        status=overall_status(statuses),
    )
