"""Every example of this repository, built twice: cold (each model's facts computed by its job)
and again with nothing changed (each served from the cache).

Each fact must be computed in one place. A record the driver writes must equal the one its job
returned (the cache stores the job's record as it came back), and a record served from the cache
must equal a fresh build's, timings aside: the named-entity example once published its entity
scores while the cached path, recomputing openness from `performance`, said "Evaluation results:
not released".
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, REPO, reporter

pytestmark = pytest.mark.slow

EXAMPLES = sorted(p.parent.name for p in (REPO / "models").glob("*/model.yaml"))
TIMINGS = {"seconds", "rows_per_second", "wall_seconds"}


def without_timings(value: Any) -> Any:
    """A facts record with how long things took left out: the only figures two builds may differ in."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def read_facts(folder: Path) -> dict[str, dict]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}


@pytest.fixture(scope="session")
def example_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict], dict[str, dict]]:
    """The repository's examples built cold, then again from the cache, in a copy of the project."""
    root = tmp_path_factory.mktemp("examples") / "project"
    root.mkdir()
    config = (REPO / "mkdocs.yml").read_text()
    # Fewer bootstrap resamples than the published site: this test compares two builds with each
    # other, and the intervals' size does not change which code path computes them.
    assert "bootstrap_samples: 1000" in config
    (root / "mkdocs.yml").write_text(config.replace("bootstrap_samples: 1000", "bootstrap_samples: 100"))
    shutil.copytree(REPO / "models", root / "models")
    shutil.copytree(REPO / "site_src", root / "site_src", ignore=shutil.ignore_patterns(".reporter-generated.json"))
    cold = reporter("build", str(root), cwd=root)
    assert cold.returncode == 0, cold.stderr
    fresh = read_facts(root / "build" / "facts")
    warm = reporter("build", str(root), cwd=root)
    assert warm.returncode == 0, warm.stderr
    assert warm.stderr.count("cached facts") == len(EXAMPLES), warm.stderr
    return root, fresh, read_facts(root / "build" / "facts")


def test_every_example_is_built(example_builds) -> None:
    _, fresh, cached = example_builds
    assert sorted(fresh) == sorted(cached) == EXAMPLES


@pytest.mark.parametrize("slug", EXAMPLES)
def test_the_driver_writes_what_the_job_returned(slug: str, example_builds) -> None:
    root, fresh, _ = example_builds
    [entry] = (root / "build" / "cache" / slug).glob("*.json")
    returned = json.loads(json.loads(entry.read_text())["facts"])
    assert returned == fresh[slug]


@pytest.mark.parametrize("slug", EXAMPLES)
def test_cached_facts_equal_fresh_facts(slug: str, example_builds) -> None:
    _, fresh, cached = example_builds
    assert without_timings(cached[slug]) == without_timings(fresh[slug])


@pytest.mark.parametrize("slug", EXAMPLES)
def test_openness_says_evaluation_results_are_released_exactly_when_figures_are(slug: str, example_builds) -> None:
    facts = example_builds[1][slug]
    measured = any(
        evaluation["kind"] != "text_generation"
        or any("not_reported" not in evaluation[k] for k in ("perplexity", "bias_probe"))
        for evaluation in facts["evaluations"]
    )
    [component] = [c for c in facts["openness"]["components"] if c["key"] == "evaluation_results"]
    assert (component["status"] != "not_released") == measured, component


COMMITTED = json.loads((FIXTURES / "facts" / "example-figures.json").read_text())


@pytest.mark.parametrize("slug", EXAMPLES)
def test_every_published_figure_is_the_committed_one(slug: str, example_builds) -> None:
    """Every example is deterministic: today's build publishes exactly the committed figures
    (`tests/fixtures/facts/example-figures.json`, written from a full build of the site by the
    script beside it whenever an example's figures change on purpose), the same identifiers and
    point estimates to the digit. This build draws 100 bootstrap resamples against the site's
    1,000; point estimates do not depend on them."""
    from reporter.facts import FactsRecord
    from reporter.tasks import figures_of

    built = FactsRecord.model_validate(example_builds[1][slug])
    assert built.schema_version == "2.7.0"
    assert built.evaluation_kinds == COMMITTED[slug]["kinds"]
    after = {f.unique_identifier(): f.value for f in figures_of(built)}
    committed = COMMITTED[slug]["figures"]
    assert committed and sorted(after) == sorted(committed)
    moved = {
        key: (committed[key], value) for key, value in after.items() if not same_figure(key, committed[key], value)
    }
    assert not moved


def same_figure(key: str, committed: float, built: float) -> bool:
    """Equal, up to the float32 arithmetic of another processor: on the machine that wrote the
    file the figures are equal to the digit, but a processor with other vector units rounds the
    models' float32 sums differently (measured between two machines of this project: a log loss
    moved by 9e-7, a language model's mean log-probability difference by 1e-5, relative 2e-5), and
    a permutation p-value can then move by one permutation in 10,001."""
    tolerance = 2.5e-4 if key.split("/")[0].endswith("p_value") else 1e-6
    return math.isclose(committed, built, rel_tol=1e-4, abs_tol=tolerance)


def test_the_model_trained_elsewhere_carries_its_runs_report(example_builds) -> None:
    """The example trained outside the build (by `train_elsewhere.py`, run by the setup script):
    its card's training report is the run's own log, point for point; the run's TensorBoard and
    MLflow logs hold the same curve; its final evaluation loss is the build's log loss on the same rows."""
    from reporter.training_logs import import_training_log

    training = example_builds[1]["adult-income-minilm-trainer"]["training"]
    run = REPO / "models" / "adult-income-minilm-trainer" / "run"
    state = json.loads((run / "trainer_state.json").read_text())
    losses = [(e["step"], e["loss"]) for e in state["log_history"] if "loss" in e]
    assert training["kind"] == "declared_by_training_log" and len(losses) >= 5
    [loss] = [s for s in training["series"] if s["name"] == "loss"]
    assert list(zip(loss["steps"], loss["values"], strict=True)) == losses
    [folder] = {p.parent for p in run.rglob("events.out.tfevents.*")}
    for log_format, path, name in (("mlflow", run / "mlflow.db", "loss"), ("tensorboard", folder, "train/loss")):
        imported = import_training_log(log_format, path, where="test", named=path.name)
        [series] = [s for s in imported.series if s.name == name]
        assert series.steps == [step for step, _ in losses], log_format
        assert series.values == pytest.approx([value for _, value in losses], rel=1e-6), log_format
    [compared] = training["comparisons"]
    assert compared["log_figure"] == "eval_loss" and compared["metric"] == "log_loss"
    assert compared["value"] == pytest.approx(compared["log_value"], abs=1e-5) and compared["within_interval"]


@pytest.mark.parametrize("slug", ["adult-income-mlp", "adult-income-minilm", "adult-income-minilm-trainer"])
def test_the_adult_cards_show_that_the_training_and_test_files_share_rows(slug: str, example_builds) -> None:
    """UCI Adult's training and test files share rows: every card evaluated on them says how many,
    and the count is a pandas merge's on the same rows (the rows the spec reads, read as the build reads them)."""
    from tests.extract.test_overlap import merged_count

    root, fresh, _ = example_builds
    overlap = fresh[slug]["overlap"]
    assert 0 < overlap["with_label"]["rows"] <= overlap["features_only"]["rows"] < overlap["evaluation_rows"]
    from reporter.compute import _read_role
    from reporter.project import Project
    from reporter.spec import load_spec

    loaded = load_spec(root / "models" / slug / "model.yaml")
    train, test = (_read_role(Project(root=root), loaded, role) for role in ("train", "evaluation"))
    assert train is not None and test is not None and len(test.frame) == overlap["evaluation_rows"]
    assert overlap["features_only"]["rows"] == merged_count(train.frame, test.frame, overlap["columns"])
    assert {f["metric"] for f in overlap["without_overlap"]} >= {"accuracy", "roc_auc"}

    def plain(value: object) -> str:  # a value as the normalisation compares it; a missing one as empty
        text = "" if value is None or value != value else str(value).strip().casefold()
        try:
            return repr(float(text))
        except ValueError:
            return text

    trained = {tuple(plain(v) for v in row) for row in train.frame[overlap["columns"]].itertuples(index=False)}
    assert (
        len(overlap["examples"]) == 3
        and "Examples of evaluation rows" in (root / "site" / "models" / slug / "data.html").read_text()
    )
    for example in overlap["examples"]:
        assert tuple(plain(example[column]) for column in overlap["columns"]) in trained
    card = (root / "site" / "models" / slug / "index.html").read_text()
    shown = f"{overlap['features_only']['rows']:,} of the {overlap['evaluation_rows']:,} evaluation rows"
    assert "Overlap with the evaluation data" in card and shown in card


@pytest.mark.parametrize("slug", EXAMPLES)
def test_every_example_shows_what_its_run_cost(slug: str, example_builds) -> None:
    """Every card shows compute and energy (estimated here, and labelled so: the machine has no
    readable energy counters); models trained in the build have a counted training phase, the
    others a declared one or the reason there is none."""
    from reporter.facts import ComputeFacts, DeclaredComputeFacts, EnergyFacts, FactsRecord, FlopFacts, TrainingFacts

    root, fresh, _ = example_builds
    facts = FactsRecord.model_validate(fresh[slug])
    compute = facts.compute
    assert isinstance(compute, ComputeFacts)
    for phase in (compute.training, compute.evaluation):
        if isinstance(phase, DeclaredComputeFacts) or not hasattr(phase, "energy"):
            continue
        assert isinstance(phase.energy, EnergyFacts) and phase.energy.kwh > 0, phase.energy
        assert phase.energy.method.startswith("CodeCarbon")
    if isinstance(facts.training, TrainingFacts):
        assert compute.training.kind == "measured" and isinstance(compute.training.flops, FlopFacts)
        assert compute.training.flops.counted > 0
    pages = root / "site_src" / "models" / slug
    assert "## Compute and energy" in (pages / "training.md").read_text()
    assert "**Compute.**" in (pages / "index.md").read_text()


def test_carbon_is_the_measured_energy_times_the_declared_grid_and_a_logged_run_declares_its_flops(
    example_builds,
) -> None:
    from reporter.facts import FactsRecord

    _, fresh, _ = example_builds
    mlp = FactsRecord.model_validate(fresh["adult-income-mlp"]).compute
    for phase in (mlp.training, mlp.evaluation):
        assert phase.carbon.kg_co2e == pytest.approx(phase.energy.kwh * 436 / 1000, rel=1e-12)
    trainer = FactsRecord.model_validate(fresh["adult-income-minilm-trainer"])
    assert trainer.compute.training.kind == "declared"
    assert trainer.compute.training.flops == trainer.training.total_flos > 0


def test_each_source_says_its_composition_in_the_eu_templates_terms(example_builds) -> None:
    """Tabular sources are the template's `other` modality in rows; the language model's sonnets
    are text, counted in its own tokens, in English, and the card says so."""
    from reporter.facts import CompositionFacts, FactsRecord

    fresh = example_builds[1]
    adult = FactsRecord.model_validate(fresh["adult-income-mlp"])
    for source in adult.data:
        assert isinstance(source.composition, CompositionFacts) and source.composition.modality == "tabular"
        assert source.composition.size == f"{source.measurements.rows_used:,} rows"
    language = FactsRecord.model_validate(fresh["smollm2-135m-instruct"])
    [sonnets] = [s.composition for s in language.data if s.role == "evaluation"]
    assert isinstance(sonnets, CompositionFacts) and sonnets.modality == "text"
    [column] = sonnets.text_columns
    assert column.tokens is not None and column.tokens > column.words > 0 and "tokens" in sonnets.size
    assert column.languages[0].language == "en" and column.languages[0].share > 0.9
    assert sonnets.size_band == "Less than 1 billion tokens"
    root = example_builds[0]
    card = (root / "site_src" / "models" / "smollm2-135m-instruct" / "index.md").read_text()
    assert f"{column.tokens:,} tokens" in card and "Less than 1 billion tokens; languages: en 100 %" in card


def test_every_example_has_a_transparency_scorecard_that_follows_its_facts(example_builds) -> None:
    """Each example's FMTI 2025 page and catalog cell, and readings checked against the record:
    what the build measured is measured, what it cannot know is missing."""
    from reporter.facts import FactsRecord
    from reporter.render.fmti import scorecard

    root, fresh, _ = example_builds

    def statuses(slug: str) -> dict[int, str]:
        record = FactsRecord.model_validate(fresh[slug])
        return {d.indicator.number: d.status for d in scorecard(record).disclosures}

    catalog = (root / "site" / "index.html").read_text()
    for slug in EXAMPLES:
        page = (root / "site" / "models" / slug / "transparency.html").read_text()
        card = scorecard(FactsRecord.model_validate(fresh[slug]))
        assert f"discloses <strong>{card.disclosed} of them</strong>" in page, slug
        assert f"{card.disclosed} of {len(card.disclosures)}</a>" in catalog, slug
    plain, private = statuses("adult-income-mlp"), statuses("adult-income-mlp-dp")
    assert (
        plain[46] == plain[16] == plain[21] == plain[26] == plain[27] == "measured"
    )  # overlap, size, FLOPs, energy, CO2
    assert plain[52] == plain[54] == "missing" and private[52] == private[54] == "measured"  # the DP guarantee, audited
    language, tagger = statuses("smollm2-135m-instruct"), statuses("wnut16-minilm-ner")
    assert language[44] == language[48] == "measured" and language[21] == language[46] == "missing"
    assert tagger[44] == tagger[48] == tagger[46] == "measured"


def test_the_tagger_card_counts_near_duplicate_tweets_as_a_brute_force_jaccard_does(example_builds) -> None:
    """WNUT-16's development tweets against its training tweets: exact and near-duplicate counts
    equal a merge and an every-pair Jaccard over the files the spec reads."""
    import pandas as pd

    from tests.extract.test_near_duplicates import brute_force

    root, fresh, _ = example_builds
    overlap = fresh["wnut16-minilm-ner"]["overlap"]
    folder = REPO / "models" / "wnut16-minilm-ner"
    train, dev = (pd.read_csv(folder / name) for name in ("train.csv", "dev.csv"))
    normalise = lambda texts: [" ".join(t.casefold().split()) for t in texts]  # noqa: E731
    exact = set(normalise(train["tokens"]))
    assert overlap["features_only"]["rows"] == sum(t in exact for t in normalise(dev["tokens"]))
    near = brute_force(train["tokens"].tolist(), dev["tokens"].tolist())
    assert overlap["near_duplicates"]["count"]["rows"] == int(near.sum())
    assert overlap["unseen_rows"] == len(dev) - int(near.sum())
    page = (root / "site" / "models" / "wnut16-minilm-ner" / "data.html").read_text()
    assert "near-duplicate text in" in page and "Jaccard" in page
