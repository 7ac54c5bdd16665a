"""A GGUF model's pages: the quantization report, the metadata declared by the file beside the
spec's, the license warning, and the language-model figures on the card."""

from __future__ import annotations

import copy
import json

from reporter.facts import FactsRecord
from reporter.render.environment import cell
from reporter.render.pages import render_site
from tests.conftest import FIXTURES
from tests.render.test_weights_page import admonition

BASE = json.loads((FIXTURES / "facts" / "examples" / "smollm2-135m-instruct.json").read_text())


def pages(mutate=None) -> tuple[str, str]:  # noqa: ANN001 - a callable on the facts dict
    data = copy.deepcopy(BASE)
    if mutate:
        mutate(data)
    record = FactsRecord.model_validate(data)
    rendered = render_site([record])
    return (
        rendered[f"models/{record.slug}/weights.md"].decode(),
        rendered[f"models/{record.slug}/index.md"].decode(),
    )


def test_quantization_report_and_declared_metadata() -> None:
    weights, card = pages()
    assert "**5.74 bits per weight**" in weights
    assert "| `Q4_1` | 210 | 106,168,320 | 66.4 MB | 5.00 |" in weights
    assert "| `Q8_0` | 1 | 28,311,552 | 30.1 MB | 8.50 |" in weights
    assert "| `blk.0` | 3,540,096 | 2.2 MB | 5.01 | `Q4_1`, `float32` |" in weights
    assert "| License | apache\\-2\\.0 | Apache\\-2\\.0 |" in weights
    assert "| Context length | 8192 | – |" in weights
    assert "| `tokenizer.ggml.tokens` | an array of 49,152 items (not shown) |" in weights
    assert "another license" not in weights and "No license in the file" not in weights
    assert "rounding to a few levels per block adds noise" in weights  # beside the extreme-alpha warning
    assert "| Quantization | GGUF version 3, 5.74 bits per weight (`Q4_1`, `Q8_0`, `float32`;" in card
    assert "the weight file declares" not in card


def test_a_license_the_spec_does_not_declare_is_a_warning() -> None:
    def relicense(data: dict) -> None:
        data["weights"]["file_metadata"]["license"] = "cc-by-nc-4.0"
        data["weights"]["file_metadata"]["license_agrees"] = False

    weights, card = pages(relicense)
    [line, *_] = admonition(weights, "The file declares another license")
    assert line.startswith("The file declares the license `cc-by-nc-4.0`, the spec `Apache-2.0`.")
    assert "| License | Apache\\-2\\.0 (**the weight file declares `cc-by-nc-4.0`**" in card


def test_hostile_metadata_is_shown_as_text() -> None:
    def hostile(data: dict) -> None:
        data["weights"]["file_metadata"]["metadata"]["general.name"] = "<img src=x onerror=alert(1)> | *bold*\nnext"

    weights, _ = pages(hostile)
    assert "<img" not in weights
    assert "| Name | &lt;img src=x onerror=alert\\(1\\)&gt; \\| \\*bold\\* next |" in weights


def test_language_model_figures_on_the_card() -> None:
    _, card = pages()
    language = BASE["language_model"]
    ppl = language["perplexity"]["perplexity"]
    assert f"| {ppl['value']:.2f} ({ppl['low']:.2f}–{ppl['high']:.2f}) |" in card
    for category in language["bias_probe"]["categories"]:
        share = category["stereotyped_share"]
        assert f"| {share['value']:.3f} ({share['low']:.3f}–{share['high']:.3f}) |" in card
    for output in language["samples"]["outputs"]:
        assert f"| {cell(output['prompt'])} | {cell(output['completion'])} | {output['tokens']} |" in card


def test_catalog_row_gives_perplexity_and_the_bias_probe() -> None:
    record = FactsRecord.model_validate(BASE)
    catalog = render_site([record])["index.md"].decode()
    ppl = BASE["language_model"]["perplexity"]["perplexity"]
    significant = sum(c["share_p_value"] < 0.05 for c in BASE["language_model"]["bias_probe"]["categories"])
    assert f"| perplexity {ppl['value']:.2f} ({ppl['low']:.2f}–{ppl['high']:.2f}) |" in catalog
    assert f"| bias probe: {significant} of 3 tests significant (p &lt; 0.05) |" in catalog
