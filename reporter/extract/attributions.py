"""A text model's token attributions, summed per input column, with the completeness check.

The runner attributes each row's tokens (integrated gradients) and ties every token to the input
column its text lies in; here the attributions become per-column figures comparable with the
tabular models' (mean signed and absolute attribution with bootstrap intervals over rows, and
each column's share of all attribution), plus a few example rows for the page.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from reporter.extract.metrics import interval, row_bootstrap_weights
from reporter.facts import AttributedRowFacts, AttributedToken, ColumnAttributionFacts, TokenAttributionFacts

EXAMPLE_ROWS = 3


class AttributedRow(Protocol):
    """What the runner gives per row (`reporter.runners.attributions.RowAttributions`)."""

    tokens: list[str]
    columns: list[int]
    values: np.ndarray
    target: str
    logit_change: float
    delta: float
    steps: int


def _mean_interval(values: np.ndarray, *, samples: int, seed: int) -> tuple[float, np.ndarray | None]:
    replicates = [(w @ values) / w.sum(axis=1) for w in row_bootstrap_weights(len(values), samples=samples, seed=seed)]
    return float(values.mean()), np.concatenate(replicates) if replicates else None


def extract_token_attributions(
    rows: list[AttributedRow],
    *,
    row_positions: list[int],
    columns: list[str],
    method: str,
    baseline: str,
    tolerance: float,
    seed: int,
    samples: int,
) -> TokenAttributionFacts:
    """Per-column sums of each row's token attributions, their means over rows with intervals,
    the completeness check, and the first rows as examples."""
    sums = np.zeros((len(rows), len(columns)))
    seen = np.zeros(len(columns), dtype=np.int64)
    total = 0.0
    for i, row in enumerate(rows):
        owners = np.asarray(row.columns)
        inside = owners >= 0
        np.add.at(sums[i], owners[inside], row.values[inside])
        seen[np.unique(owners[inside])] += 1
        total += float(np.abs(row.values).sum())
    facts = []
    for j, column in enumerate(columns):
        signed = _mean_interval(sums[:, j], samples=samples, seed=seed)
        absolute = _mean_interval(np.abs(sums[:, j]), samples=samples, seed=seed)
        facts.append(
            ColumnAttributionFacts(
                column=column,
                mean_attribution=interval(*signed),
                mean_absolute_attribution=interval(*absolute),
                share=float(np.abs(sums[:, j]).sum() / total) if total > 0 else None,
                rows_seen=int(seen[j]),
            )
        )
    largest_delta = max((abs(r.delta) for r in rows), default=0.0)
    return TokenAttributionFacts(
        method=method,
        baseline=baseline,
        steps=max((r.steps for r in rows), default=0),
        rows=len(rows),
        seed=seed,
        bootstrap_samples=samples,
        max_absolute_delta=largest_delta,
        tolerance=tolerance,
        complete=largest_delta <= tolerance,
        columns=sorted(facts, key=lambda c: (-(c.mean_absolute_attribution.value or 0.0), c.column)),
        examples=[
            AttributedRowFacts(
                row=position,
                target=row.target,
                logit_change=row.logit_change,
                delta=row.delta,
                steps=row.steps,
                tokens=[
                    AttributedToken(token=token, column=columns[owner] if owner >= 0 else None, attribution=float(v))
                    for token, owner, v in zip(row.tokens, row.columns, row.values, strict=True)
                ],
            )
            for position, row in zip(row_positions[:EXAMPLE_ROWS], rows[:EXAMPLE_ROWS], strict=True)
        ],
    )
