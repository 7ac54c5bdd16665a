"""The group engine: every grouping's table evaluated on the data and on the same replicates."""

from __future__ import annotations

import numpy as np

from reporter.extract.groups import estimate_groups, points_of
from reporter.extract.metrics import row_bootstrap_weights


def _mean_per_group(values: np.ndarray, codes: np.ndarray, groups: int):
    def table(weights: np.ndarray) -> dict[str, np.ndarray]:
        sums = np.stack([(weights * (codes == g) * values).sum(axis=1) for g in range(groups)], axis=1)
        counts = np.stack([(weights * (codes == g)).sum(axis=1) for g in range(groups)], axis=1)
        return {"mean": sums / counts}

    return table


def test_every_grouping_is_estimated_on_one_draw_of_replicates() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=500)
    by_sex, by_age = rng.integers(0, 2, 500), rng.integers(0, 3, 500)
    tables = [_mean_per_group(values, by_sex, 2), _mean_per_group(values, by_age, 3)]
    draws = list(row_bootstrap_weights(500, samples=50, seed=7))
    sex, age = estimate_groups(tables, points=points_of(tables, 500), replicate_weights=iter(draws))
    assert np.allclose(sex.points["mean"], [values[by_sex == g].mean() for g in range(2)])
    weights = np.concatenate(draws)
    assert sex.replicates is not None and age.replicates is not None
    assert sex.replicates["mean"].shape == (50, 2) and age.replicates["mean"].shape == (50, 3)
    for b in (0, 17, 49):  # replicate b of each grouping resamples the same rows
        resampled = np.repeat(values, weights[b].astype(int))
        codes = np.repeat(by_age, weights[b].astype(int))
        assert np.isclose(age.replicates["mean"][b, 1], resampled[codes == 1].mean())
    low_high = age.estimate("mean", 2)
    assert low_high.low is not None and low_high.low <= low_high.value <= low_high.high


def test_without_replicates_the_points_stand_alone() -> None:
    values, codes = np.arange(6.0), np.array([0, 0, 1, 1, 1, 0])
    tables = [_mean_per_group(values, codes, 2)]
    [only] = estimate_groups(tables, points=points_of(tables, 6), replicate_weights=())
    assert only.replicates is None and only.estimate("mean", 1).low is None
    assert only.points["mean"].tolist() == [values[[0, 1, 5]].mean(), values[[2, 3, 4]].mean()]
