"""Proxies: how much each input column tells about each sensitive feature on the evaluation rows.

A model that does not read race can still read a column that nearly determines it. Normalised
mutual information (scikit-learn's ``normalized_mutual_info_score``, arithmetic normalisation)
measures that dependence for any pair of columns, categorical or numeric, without a model to fit:
numeric columns with many values are cut into quantile bins first, and a missing value is a
category of its own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reporter.extract.metrics import interval, row_bootstrap_weights, weighted_sums
from reporter.facts import ProxyFacts

QUANTILE_BINS = 10
PROXY_THRESHOLD = 0.1
"""Normalised mutual information from which a column is called a proxy of a sensitive feature:
about the dependence of marital status on sex in the 1994 US census (UCI Adult)."""


def column_codes(values: pd.Series) -> tuple[np.ndarray, int | None]:
    """Integer codes of a column's values, and the number of quantile bins when it was binned."""
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric and values.nunique(dropna=True) > QUANTILE_BINS:
        binned = pd.qcut(values.astype(np.float64), QUANTILE_BINS, labels=False, duplicates="drop")
        bins = int(np.nanmax(binned)) + 1 if binned.notna().any() else 0
        codes = binned.fillna(bins).to_numpy(dtype=np.int64)  # missing values: a bin of their own
        return codes, bins
    codes, _ = pd.factorize(values.astype("string"), sort=True, use_na_sentinel=False)
    return codes.astype(np.int64), None


def _entropy(probabilities: np.ndarray, axis: tuple[int, ...] | int) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(probabilities > 0, probabilities * np.log(probabilities), 0.0)
    return -terms.sum(axis=axis)


def normalized_mutual_information(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """NMI of two code arrays under each row of weights ``w`` (B, rows), shape (B,), with
    scikit-learn's limits: 1 when neither varies, 0 when they share no information."""
    ka, kb = int(a.max()) + 1, int(b.max()) + 1
    table = weighted_sums(a * kb + b, None, w, ka * kb).reshape(-1, ka, kb)
    total = table.sum(axis=(1, 2), keepdims=True)
    joint = table / np.where(total > 0, total, 1)
    pa, pb = joint.sum(axis=2), joint.sum(axis=1)
    ha, hb, hab = _entropy(pa, 1), _entropy(pb, 1), _entropy(joint, (1, 2))
    mutual = np.maximum(ha + hb - hab, 0.0)
    present_a, present_b = (pa > 0).sum(axis=1), (pb > 0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        nmi = mutual / ((ha + hb) / 2)
    nmi = np.where(mutual <= 1e-15, 0.0, nmi)
    return np.where((present_a == 1) & (present_b == 1), 1.0, nmi)


def extract_proxies(features: pd.DataFrame, sensitive: pd.DataFrame, *, samples: int, seed: int) -> list[ProxyFacts]:
    """NMI of every input column with every sensitive feature (a column is not its own proxy),
    with bootstrap intervals over rows, strongest first."""
    features, sensitive = features.reset_index(drop=True), sensitive.reset_index(drop=True)
    point = np.ones((1, len(features)))
    found = []
    for feature in sensitive.columns:
        target, _ = column_codes(sensitive[feature])
        for column in features.columns:
            if column == feature:
                continue
            codes, bins = column_codes(features[column])
            replicates = [
                normalized_mutual_information(codes, target, w)
                for w in row_bootstrap_weights(len(features), samples=samples, seed=seed)
            ]
            found.append(
                ProxyFacts(
                    column=str(column),
                    sensitive_feature=str(feature),
                    normalized_mutual_information=interval(
                        float(normalized_mutual_information(codes, target, point)[0]),
                        np.concatenate(replicates) if replicates else None,
                    ),
                    binned=bins,
                )
            )
    return sorted(found, key=lambda p: (-(p.normalized_mutual_information.value or 0.0), p.column, p.sensitive_feature))
