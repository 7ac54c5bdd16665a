"""The weights page: totals, per-layer table, plots and the admonitions a reader must not miss."""

from __future__ import annotations

import copy
import json

from reporter.facts import FactsRecord
from reporter.render.pages import render_site
from tests.conftest import FIXTURES

BASE = json.loads((FIXTURES / "facts" / "adult-income-mlp.json").read_text())


def weights_page(mutate=None) -> str:  # noqa: ANN001 - a callable on the facts dict
    data = copy.deepcopy(BASE)
    if mutate:
        mutate(data["weights"])
    record = FactsRecord.model_validate(data)
    pages = render_site([record])
    assert f"models/{record.slug}/weights-depth.svg" in pages
    assert f"models/{record.slug}/weights-histograms.svg" in pages
    return pages[f"models/{record.slug}/weights.md"].decode()


def admonition(page: str, title: str) -> list[str]:
    """The body lines of an admonition, asserting Markdown will read them as its body (indented)."""
    lines = page.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("!!!") and f'"{title}"' in line)
    body = []
    for line in lines[start + 1 :]:
        if line and not line.startswith("    "):
            break
        body.append(line)
    assert body and body[0].startswith("    "), body
    return [line.strip() for line in body if line.strip()]


def test_healthy_weights_raise_no_admonition() -> None:
    page = weights_page()
    assert "!!!" not in page
    assert "| 0 | `0.weight` | 64×106 |" in page
    assert "Not reported: only 31 eigenvalues" in page
    assert "`4.weight` (smaller side below 20" in page
    assert "Trainable / frozen parameters" in page


def test_non_finite_values_zero_rows_and_extreme_alpha_are_called_out() -> None:
    def break_it(weights: dict) -> None:
        weights["tensors"][0]["nan_count"] = 3
        weights["tensors"][0]["inf_count"] = 1
        weights["layers"][0]["zero_rows"] = 2
        weights["layers"][0]["fit"]["alpha"] = 7.5
        weights["layers"][0]["reading"] = "under-trained"

    page = weights_page(break_it)
    name = BASE["weights"]["tensors"][0]["name"]
    assert admonition(page, "Non-finite weights")[0] == f"`{name}` holds 3 NaN and 1 infinite values."
    assert "`0.weight` has 2 all-zero rows and 0 all-zero columns" in admonition(page, "All-zero rows or columns")[0]
    assert admonition(page, "Layers with extreme alpha")[0] == "`0.weight`: alpha 7.50 (under\\-trained)."


def test_plots_have_plain_tick_labels() -> None:
    """Mathtext is off (labels are untrusted), so log axes must not fall back to raw TeX strings."""
    from reporter.render.plots import model_plots

    plots = model_plots(FactsRecord.model_validate(BASE))
    assert {"weights-depth.svg", "weights-histograms.svg"} <= set(plots)
    for name, svg in plots.items():
        assert "mathdefault" not in svg.decode(), name
