"""Every export, validated by its ecosystem's own parser or schema, with every figure read back.

Models: the end-to-end project (a trained MLP, a fine-tuned MiniLM, the MiniLM loaded from its
published folder, a checkpoint loaded with no evaluation, and hostile column and group names),
and facts the example build wrote for the kinds that project lacks (a regression, COMPAS, and an
encoder measured only for embedding bias), in `tests/fixtures/facts/examples/`.
"""

from __future__ import annotations

import datetime
import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from huggingface_hub import ModelCard, ModelCardData
from huggingface_hub.repocard_data import model_index_to_eval_results
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from reporter.export import EXPORT_FILES, render_export
from reporter.export.eu_model_documentation import PARAMETER_RANGES
from reporter.facts import ComputeFacts, EnergyFacts, FactsRecord, FlopFacts, NotReported, PhaseComputeFacts
from reporter.render.environment import make_environment
from reporter.tasks import figures_of
from reporter.tasks.figures import Figure
from tests.conftest import FIXTURES, reporter

EXAMPLES = sorted((FIXTURES / "facts" / "examples").glob("*.json"))
BUILT = ("test-mlp", "test-minilm", "test-minilm-published", "tiny-loaded", "hostile-data")
DATED = datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC)
REPORT = "https://example.org/models/x/index.html"


@cache
def spdx_validator() -> Draft202012Validator:
    schema = json.loads((FIXTURES / "spdx" / "spdx-3.0.1.schema.json").read_text())
    return Draft202012Validator(schema)


def exports_of(facts: FactsRecord) -> dict[str, str]:
    env = make_environment()
    return {
        name: render_export(facts, fmt, env=env, report_url=REPORT, created=DATED) for fmt, name in EXPORT_FILES.items()
    }


def same(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and math.isclose(a, b, rel_tol=0, abs_tol=0))


def check_hf(text: str, facts: FactsRecord, tmp_path: Path, *, report_url: str = REPORT) -> None:
    path = tmp_path / "README.md"
    path.write_text(text, encoding="utf-8")
    card = ModelCard.load(path)  # ignore_metadata_errors is False: bad metadata raises
    data = ModelCardData(**card.data.to_dict())
    assert data.license == card.data.license and card.data.model_name == facts.card.name
    figures = figures_of(facts)
    assert card.text.count(f"]({report_url})") == 1, "the card links back to the full report"
    if not figures:
        assert card.data.eval_results is None
        return
    name, results = model_index_to_eval_results(card.data.to_dict()["model-index"])
    assert name == facts.card.name and len(results) == len(figures)

    def key(metric: str, args: dict) -> tuple:
        return metric, args.get("feature"), args.get("group")

    # The Hub groups results by data set (a benchmark's figures are on its own items): match by figure.
    by_figure = {key(r.metric_type, r.metric_args or {}): r for r in results}
    for figure in figures:
        result = by_figure[key(figure.metric, {"feature": figure.feature, "group": figure.group})]
        args = result.metric_args or {}
        assert (result.metric_type, result.metric_name) == (figure.metric, figure.label)
        assert same(result.metric_value, figure.value)
        assert same(args.get("interval_low"), figure.low) and same(args.get("interval_high"), figure.high)
        assert args.get("group") == figure.group and args.get("feature") == figure.feature


def check_cyclonedx(text: str, facts: FactsRecord) -> None:
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    model = next(c for c in bom["components"] if c["type"] == "machine-learning-model")
    assert {f["name"]: f["hashes"][0]["content"] for f in model["components"]} == facts.weights.files
    metrics = model["modelCard"].get("quantitativeAnalysis", {}).get("performanceMetrics", [])
    figures = figures_of(facts)
    assert len(metrics) == len(figures)
    for metric, figure in zip(metrics, figures, strict=True):
        assert metric["type"] == figure.metric and metric.get("slice") == figure.slice
        assert float(metric["value"]) == figure.value
        interval = metric.get("confidenceInterval")
        assert (interval is None) == (figure.low is None)
        if interval:
            assert (float(interval["lowerBound"]), float(interval["upperBound"])) == (figure.low, figure.high)
    data = {c["name"]: c for c in bom["components"] if c["type"] == "data"}
    assert list(data) == [d.id for d in facts.data]
    for source in facts.data:
        hashes = data[source.id].get("hashes")
        expected = None if isinstance(source.measurements, NotReported) else source.measurements.sha256
        assert (hashes[0]["content"] if hashes else None) == expected
    flagged = [
        (feature.feature, d.name)
        for feature in getattr(facts.fairness, "features", [])
        for d in feature.disparities
        if d.status in ("warn", "fail")
    ]
    assessments = model["modelCard"]["considerations"].get("fairnessAssessments", [])
    assert len(assessments) == len(flagged)
    assert model["modelCard"]["considerations"]["useCases"] == facts.card.intended_uses


def check_spdx(text: str, facts: FactsRecord) -> None:
    document = json.loads(text)
    errors = [e.message for e in spdx_validator().iter_errors(document)]
    assert errors == []
    graph = document["@graph"]
    package = next(e for e in graph if e["type"] == "ai_AIPackage")
    assert package["name"] == facts.card.name and package["software_packageVersion"] == facts.card.version
    figures = figures_of(facts)
    metrics = package.get("ai_metric", [])
    assert [(m["key"], float(m["value"])) for m in metrics] == [(f.label, f.value) for f in figures]
    assert {h["hashValue"] for h in package["verifiedUsing"]} == set(facts.weights.files.values())
    for kind in ("hasConcludedLicense", "hasDeclaredLicense"):
        licenses = [r for r in graph if r["type"] == "Relationship" and r["from"] == package["spdxId"]]
        assert sum(r["relationshipType"] == kind for r in licenses) == 1, "the AI profile asks for exactly one"
    datasets = {e["name"] for e in graph if e["type"] == "dataset_DatasetPackage"}
    assert datasets == {d.id for d in facts.data}


def check_eu_summary(text: str, markdown: str, facts: FactsRecord) -> None:
    """Every measured entry equals the facts, every status is what the facts imply, and the
    Markdown shows every entry."""
    from reporter.facts import CompositionFacts

    summary = json.loads(text)
    entries = {(e["section"], e["field"]): e for e in summary["entries"]}
    assert all(e["status"] in ("measured", "declared", "missing") for e in entries.values())
    assert all((e["value"] is None) == (e["status"] == "missing") for e in entries.values() if e["section"] != "2")
    train = [s for s in facts.data if s.role == "train"]
    read = [s for s in train if isinstance(s.composition, CompositionFacts)]
    sizes = entries[("1.3", "Modalities and size")]
    if read:
        assert sizes["status"] == "measured"
        assert sizes["value"] == [
            {
                "source": s.id,
                "modality": s.composition.modality,
                "size": s.composition.size,
                "size_band": s.composition.size_band,
            }
            for s in read
        ]
    else:
        assert sizes["status"] == "missing"
    total = sum(s.measurements.rows_used for s in train if not isinstance(s.measurements, NotReported))
    listed = [
        item
        for e in entries.values()
        if e["section"].startswith("2") and isinstance(e["value"], list)
        for item in e["value"]
    ]
    assert sorted(item["name"] for item in listed) == sorted(s.id for s in train)
    for item in listed:
        [source] = [s for s in train if s.id == item["name"]]
        if item["rows"] is not None:
            assert (
                item["rows"] == source.measurements.rows_used and item["share_of_training_rows"] == item["rows"] / total
            )
    assert markdown.count("\n| ") - 2 == len(summary["entries"])  # a row per entry, after header and rule


def check_model_documentation(document: str, markdown: str, facts: FactsRecord) -> None:
    """The Model Documentation Form read back: its eight sections in order, every status one of
    three, and each measured figure equal to the facts it comes from."""
    form = json.loads(document)
    entries = {item["field"]: item for item in form["entries"]}
    sections = [item["section"] for item in form["entries"]]
    assert sections == sorted(sections, key=lambda s: [int(p) for p in s.split(".")]) and sections[-1] == "8.2"
    assert {s.split(".")[0] for s in sections} == set("12345678")
    assert all(item["status"] in ("measured", "declared", "missing") for item in form["entries"])
    assert all(item["value"] is None for item in form["entries"] if item["status"] == "missing")
    files = entries["Model authenticity"]["value"]
    assert {f["file"]: f["sha256"] for f in files} == facts.weights.files
    total = facts.weights.parameters_total
    assert entries["Total number of parameters"]["value"].endswith(f"({total:,})")
    bounds = [5e8, 5e9, 1.5e10, 5e10, 1e11, 5e11, 1e12]
    assert (
        entries["Parameter range"]["value"]
        == ([label for _, label in PARAMETER_RANGES] + ["over 1 trillion"])[sum(total >= b for b in bounds)]
    )
    rows = {s.id: s.measurements.rows_used for s in facts.data if not isinstance(s.measurements, NotReported)}
    assert entries["Number of data points"]["value"] == (rows or None)
    compute = facts.compute
    if isinstance(compute, ComputeFacts) and isinstance(compute.training, PhaseComputeFacts):
        phase = compute.training
        assert entries["Training time"]["value"]["wall_seconds"] == phase.wall_seconds
        if isinstance(phase.flops, FlopFacts):
            assert entries["Amount of computation for training (FLOPs)"]["value"] == phase.flops.counted
        if isinstance(phase.energy, EnergyFacts):
            assert entries["Energy used for training (kWh)"]["value"]["kwh"] == phase.energy.kwh
    else:
        assert entries["Training time"]["status"] != "measured"
    assert markdown.count("\n| ") - 2 == len(form["entries"])  # a row per entry, after header and rule


EEE_SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "every_eval_ever" / "eval.schema.json"


def check_every_eval_ever(document: str, facts: FactsRecord) -> None:
    """Valid against the project's own schema; every figure with a direction exported once, its
    score and interval equal to the figure's, the rest counted as left out."""
    from jsonschema import Draft7Validator

    record = json.loads(document)
    Draft7Validator(json.loads(EEE_SCHEMA.read_text())).validate(record)
    figures = figures_of(facts)
    results = {r["evaluation_result_id"]: r for r in record["evaluation_results"]}
    assert len(results) == len(record["evaluation_results"])  # identifiers are unique
    exported = 0
    for figure in figures:
        key = f"{facts.slug}/{figure.metric}" + (f"/{figure.slice}" if figure.slice else "")
        if key not in results:
            continue
        exported += 1
        result = results[key]
        assert result["score_details"]["score"] == figure.value
        interval = result["score_details"]["uncertainty"].get("confidence_interval")
        if figure.low is not None and figure.high is not None:
            assert (interval["lower"], interval["upper"], interval["confidence_level"]) == (
                figure.low,
                figure.high,
                0.95,
            )
        low, high = result["metric_config"]["min_score"], result["metric_config"]["max_score"]
        assert (low == "-Infinity" or figure.value >= low) and (high == "Infinity" or figure.value <= high)
        lower = result["metric_config"]["lower_is_better"]
        assert lower == (
            figure.metric.endswith(
                ("_loss", "_error", "_difference", "_rate", "perplexity", "brier_score", "bits_per_byte")
            )
            and figure.metric != "true_positive_rate"
        )
    assert exported == len(results)
    left_out = int(record["source_metadata"]["additional_details"]["figures_without_direction"])
    assert exported + left_out == len(figures)


def check_all(facts: FactsRecord, tmp_path: Path) -> dict[str, str]:
    exports = exports_of(facts)
    check_hf(exports["README.md"], facts, tmp_path)
    check_cyclonedx(exports["bom.cdx.json"], facts)
    check_spdx(exports["spdx.json"], facts)
    check_eu_summary(exports["training-content.json"], exports["training-content.md"], facts)
    check_model_documentation(exports["model-documentation.json"], exports["model-documentation.md"], facts)
    check_every_eval_ever(exports["eval-results.eee.json"], facts)
    assert exports_of(facts) == exports, "the same facts give the same bytes"
    return exports


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_facts_export_valid_and_complete(path: Path, tmp_path: Path) -> None:
    facts = FactsRecord.model_validate_json(path.read_text())
    check_all(facts, tmp_path)


def test_the_example_facts_cover_what_the_built_project_lacks() -> None:
    records = [FactsRecord.model_validate_json(p.read_text()) for p in EXAMPLES]
    tasks = {r.labelled_kind or "none" for r in records}
    assert {"regression", "multiclass_classification", "none"} <= tasks
    assert any(not isinstance(r.embedding_bias, NotReported) for r in records)
    assert any(isinstance(r.performance, NotReported) for r in records)


@pytest.mark.slow
@pytest.mark.parametrize("slug", BUILT)
def test_built_models_export_valid_and_the_site_publishes_them(built, slug: str, tmp_path: Path) -> None:
    root, _ = built
    facts = FactsRecord.model_validate_json((root / "build" / "facts" / f"{slug}.json").read_text())
    check_all(facts, tmp_path)
    folder = root / "site" / "models" / slug
    card = (folder / "index.html").read_text()
    for name in EXPORT_FILES.values():
        page = name.removesuffix(".md") + ".html"  # a Markdown export is a page of the site
        assert f'href="{page if name.endswith(".md") and name != "README.md" else name}"' in card, name
    summary_page = (folder / "training-content.html").read_text()
    assert 'href="training-content.json"' in summary_page and 'href="index.html"' in summary_page
    check_hf((folder / "README.md").read_text(), facts, tmp_path, report_url="index.html")
    assert "models/" + slug + "/README.md" not in (root / "site_src" / ".reporter-generated.json").read_text()


@pytest.mark.slow
def test_cli_export_writes_what_the_site_publishes(built, tmp_path: Path) -> None:
    root, _ = built
    for fmt, name in EXPORT_FILES.items():
        out = tmp_path / name
        result = reporter("export", "test-mlp", "--format", fmt, "--output", str(out), "--project", str(root), cwd=root)
        assert result.returncode == 0, result.stderr
        page = name.endswith(".md") and name != "README.md"
        published = "site_src" if page else "site"  # the site holds the page it became
        assert out.read_bytes() == (root / published / "models" / "test-mlp" / name).read_bytes()
    printed = reporter("export", "test-mlp", "--format", "cyclonedx", "--project", str(root), cwd=root)
    assert printed.stdout.encode() == (root / "site" / "models" / "test-mlp" / "bom.cdx.json").read_bytes()
    missing = reporter("export", "no-such-model", "--format", "hf", "--project", str(root), cwd=root)
    assert missing.returncode == 2 and "no facts for model 'no-such-model'" in missing.stderr
    assert "Fix:" in missing.stderr and "Traceback" not in missing.stderr


HOSTILE = [
    "<script>alert(1)</script>",
    "{{ 7 * 7 }}",
    "[x](javascript:alert(1))",
    "---\nlicense: mit\n---",
    'quote " and \\ backslash',
    "key: value # comment",
    "line\nbreak",
    "\u2028 separator and \x00 nul",
    "@context",
]
hostile_text = st.sampled_from(HOSTILE) | st.text(min_size=1, max_size=30)
BASE = json.loads((FIXTURES / "facts" / "adult-income-mlp.json").read_text())


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=hostile_text, use=hostile_text, group=hostile_text, source=hostile_text)
def test_hostile_text_stays_inert_and_valid_in_every_format(
    name: str, use: str, group: str, source: str, tmp_path: Path
) -> None:
    data = json.loads(json.dumps(BASE))
    data["fairness"]["features"] = data["fairness"]["features"][:1]  # fewer figures: SPDX validation is slow
    data["card"]["name"], data["card"]["intended_uses"] = name, [use]
    data["fairness"]["features"][0]["groups"][0]["group"] = group
    data["data"][0]["description"] = source
    facts = FactsRecord.model_validate(data)
    exports = check_all(facts, tmp_path)
    card = ModelCard.load(tmp_path / "README.md")
    assert card.data.model_name == name  # read back exactly from the YAML
    body = card.text
    for text in (name, use, group):
        if "<" in text:
            assert text not in body, "markup in free text is escaped in the card body"
    bom = json.loads(exports["bom.cdx.json"])
    assert bom["components"][0]["name"] == name
    assert json.loads(exports["spdx.json"])["@context"] == "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"


def test_figures_cover_every_reported_interval() -> None:
    facts = FactsRecord.model_validate(BASE)
    figures = figures_of(facts)
    assert figures[0] == Figure("accuracy", facts.performance.accuracy.value, *_bounds(facts.performance.accuracy))
    feature = facts.fairness.features[0]  # type: ignore[union-attr]
    group = next(g for g in feature.groups if g.status == "reported")
    assert any(f.group == group.group and f.metric == "true_positive_rate" for f in figures)
    assert {f.metric for f in figures if f.group is None and f.feature == feature.feature} == {
        "_".join(d.name.lower().split()) for d in feature.disparities if d.value.value is not None
    }


def _bounds(interval) -> tuple[float | None, float | None]:
    return interval.low, interval.high


def _phase(phase: str, seconds: float, **measured: object) -> Any:
    """A measured phase of ``seconds`` on the CPU; FLOPs and energy not reported unless given."""
    from reporter.facts import PhaseComputeFacts

    figures: dict[str, object] = {
        "flops": NotReported(not_reported="none"),
        "energy": NotReported(not_reported="none"),
        **measured,
    }
    return PhaseComputeFacts.model_validate(
        {
            "phase": phase,
            "covers": f"the {phase}",
            "device": "cpu",
            "wall_seconds": seconds,
            "processor_seconds": seconds,
            "device_hours": seconds / 3600,
            "device_hours_unit": "CPU core-hours",
            **figures,
        }
    )


def _with_compute(training: object) -> FactsRecord:
    """The fixture record with a measured evaluation phase and ``training`` as its training compute."""
    from reporter.facts import ComputeFacts, HardwareFacts

    evaluation = _phase("evaluation", 2.0)
    hardware = HardwareFacts(cpu="AMD EPYC", logical_cores=2, threads=1, gpus=[], memory_gib=23.5)
    compute = ComputeFacts(hardware=hardware, training=training, evaluation=evaluation)  # type: ignore[arg-type]
    return FactsRecord.model_validate(BASE).model_copy(update={"compute": compute})


def test_the_hub_card_carries_training_emissions_measured_times_the_declared_grid(tmp_path: Path) -> None:
    from reporter.facts import CarbonFacts, EnergyFacts, FlopFacts

    energy = EnergyFacts(kwh=0.002, cpu_kwh=0.0015, memory_kwh=0.0005, gpu_kwh=0, kind="estimated", method="m")
    carbon = CarbonFacts(kg_co2e=0.002 * 56 / 1000, grams_per_kwh=56, location="FR", source="grid operator 2025")
    flops = FlopFacts(counted=1e9, method="counted", estimate=None, estimate_formula="none")
    training = _phase("training", 9.0, flops=flops, energy=energy, carbon=carbon)
    facts = _with_compute(training)
    exports = check_all(facts, tmp_path)
    co2 = ModelCard.load(tmp_path / "README.md").data.co2_eq_emissions
    assert co2["emissions"] == pytest.approx(0.002 * 56)  # grams
    assert co2["geographical_location"] == "FR" and "grid operator 2025" in co2["source"]
    assert co2["training_type"] == "training from scratch" and "AMD EPYC" in co2["hardware_used"]
    assert "co2_eq_emissions" in exports["README.md"]
    no_grid = training.model_copy(update={"carbon": NotReported(not_reported="no grid")})
    without = check_all(_with_compute(no_grid), tmp_path)
    assert "co2_eq_emissions" not in without["README.md"]


def test_the_hub_card_carries_a_loaded_models_declared_emissions(tmp_path: Path) -> None:
    from reporter.facts import DeclaredComputeFacts

    declared = DeclaredComputeFacts(source="the authors' model card", hardware="64 H100 GPUs", kg_co2e=1234.5)
    check_all(_with_compute(declared), tmp_path)
    co2 = ModelCard.load(tmp_path / "README.md").data.co2_eq_emissions
    assert co2["emissions"] == pytest.approx(1234500) and co2["source"] == "the authors' model card"


def test_a_character_beyond_the_basic_plane_survives_the_json_written_metadata(tmp_path: Path) -> None:
    data = json.loads(json.dumps(BASE))
    data["fairness"]["features"] = data["fairness"]["features"][:1]
    data["card"]["name"] = "¡\x85"  # a NEL: PyYAML would fold it, so the metadata is written as JSON
    data["fairness"]["features"][0]["groups"][0]["group"] = "ì\U00077a97ü😀"
    check_all(FactsRecord.model_validate(data), tmp_path)  # the Hub's reading gives back the same group
