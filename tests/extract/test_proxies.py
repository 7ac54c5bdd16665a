"""Proxy strength against scikit-learn's `normalized_mutual_info_score` on real UCI Adult rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import normalized_mutual_info_score

from reporter.extract.metrics import row_bootstrap_weights
from reporter.extract.proxies import QUANTILE_BINS, column_codes, extract_proxies, normalized_mutual_information
from tests.conftest import read_adult


@pytest.fixture(scope="session")
def adult() -> pd.DataFrame:
    return read_adult("adult.test", skiprows=1, na_values="?").sample(n=2000, random_state=0).reset_index(drop=True)


def test_every_pair_equals_sklearn(adult: pd.DataFrame) -> None:
    features = adult[["age", "relationship", "marital-status", "native-country", "capital-gain", "sex"]]
    sensitive = adult[["sex", "race"]].astype("string")
    proxies = extract_proxies(features, sensitive, samples=0, seed=0)
    assert len(proxies) == 5 + 6  # sex is not its own proxy
    for proxy in proxies:
        codes, bins = column_codes(features[proxy.column])
        target = sensitive[proxy.sensitive_feature].to_numpy()
        expected = normalized_mutual_info_score(target, codes)
        assert proxy.normalized_mutual_information.value == pytest.approx(expected, abs=1e-9)
        assert (bins is not None) == (proxy.column in ("age", "capital-gain"))
    strongest = proxies[0]
    assert (strongest.column, strongest.sensitive_feature) == ("relationship", "sex")  # husband / wife
    values = [p.normalized_mutual_information.value for p in proxies]
    assert values == sorted(values, reverse=True)


def test_numeric_columns_are_cut_into_quantile_bins(adult: pd.DataFrame) -> None:
    codes, bins = column_codes(adult["age"])
    assert bins == QUANTILE_BINS
    expected = pd.qcut(adult["age"], QUANTILE_BINS, labels=False, duplicates="drop").to_numpy()
    np.testing.assert_array_equal(codes, expected)
    few, none = column_codes(pd.Series([1, 2, 2, 1, np.nan]))
    assert none is None and len(set(few)) == 3  # few values: categories, missing its own


def test_bootstrap_replicates_equal_sklearn_on_resampled_rows(adult: pd.DataFrame) -> None:
    codes, _ = column_codes(adult["relationship"])
    target, _ = column_codes(adult["sex"].astype("string"))
    weights = next(row_bootstrap_weights(len(adult), samples=3, seed=1))
    replicates = normalized_mutual_information(codes, target, weights)
    for w, value in zip(weights, replicates, strict=True):
        rows = np.repeat(np.arange(len(adult)), w.astype(int))
        assert value == pytest.approx(normalized_mutual_info_score(target[rows], codes[rows]), abs=1e-9)


def test_limits_as_sklearn() -> None:
    point = np.ones((1, 6))
    constant, varied = np.zeros(6, dtype=np.int64), np.array([0, 1, 0, 1, 0, 1])
    independent = np.array([0, 0, 1, 1, 0, 1])
    for a, b in ((constant, constant), (constant, varied), (varied, independent), (varied, varied)):
        assert normalized_mutual_information(a, b, point)[0] == pytest.approx(normalized_mutual_info_score(a, b))
