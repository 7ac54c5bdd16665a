"""What a reader of the example site noticed, each checked on the pages rendered from the examples'
facts: no empty table headers, no doubled punctuation, a fairness status that says what failed, a
"Reading" that does not rank estimates whose intervals overlap, narrower fairness tables, no depth
plot of a single matrix, and no "published checkpoint" for a file the user loaded."""

from __future__ import annotations

import copy
import json
import re

import pytest

from reporter.facts import FactsRecord
from reporter.render.pages import render_site
from reporter.render.plots import plot_plan
from tests.conftest import FIXTURES

EXAMPLES = FIXTURES / "facts" / "examples-2.0"


def example(slug: str) -> dict:
    return json.loads((EXAMPLES / f"{slug}.json").read_text())


def pages_of(*records: dict) -> dict[str, str]:
    return {
        path: content.decode()
        for path, content in render_site([FactsRecord.model_validate(r) for r in records]).items()
        if path.endswith(".md")
    }


ALL = sorted(path.stem for path in EXAMPLES.glob("*.json"))


@pytest.fixture(scope="module")
def site() -> dict[str, str]:
    return pages_of(*(example(slug) for slug in ALL))


def test_no_table_has_an_empty_header_row(site: dict[str, str]) -> None:
    for path, page in site.items():
        lines = page.splitlines()
        for index, line in enumerate(lines[1:], start=1):
            if re.fullmatch(r"\|( --- \|| ---: \|)+", line):
                assert lines[index - 1].replace("|", "").strip(), f"{path}: a table with an empty header row"


def test_no_sentence_ends_twice(site: dict[str, str]) -> None:
    """'….; ….' or '..': what joining sentences that bring their own full stop gives."""
    for path, page in site.items():
        prose = re.sub(r"`[^`]*`", "", page)  # code spans hold file names and versions
        prose = re.sub(r"\\(.)", r"\1", prose)  # as read: without the Markdown escapes
        doubled = re.search(r".{0,40}(?<!\.)[.;][.;](?![.\d]).{0,20}", prose)
        assert doubled is None, f"{path}: {doubled.group(0) if doubled else ''}"


def test_a_list_of_sentences_is_joined_without_doubled_stops() -> None:
    data = example("adult-income-mlp")
    data["card"]["intended_users"] = ["Fairness researchers.", "Auditors of credit models."]
    card = pages_of(data)["models/adult-income-mlp/index.md"]
    assert "Intended users: Fairness researchers; Auditors of credit models." in card


def test_the_fairness_status_says_how_many_checks_fail(site: dict[str, str]) -> None:
    data = example("adult-income-mlp")
    statuses = [d["status"] for f in data["evaluations"][0]["fairness"]["features"] for d in f["disparities"]]
    failed, warned = statuses.count("fail"), statuses.count("warn")
    assert failed, "the example's fairness fails some checks"
    summary = f"({failed} of {len(statuses)} disparity checks fail" + (f", {warned} warn)" if warned else ")")
    assert summary in site["models/adult-income-mlp/index.md"]
    assert summary in site["models/adult-income-mlp/fairness.md"]
    catalog_row = next(line for line in site["index.md"].splitlines() if "models/adult-income-mlp/index.md" in line)
    assert summary in catalog_row


def _selection_rates(data: dict, first: tuple[float, float, float], second: tuple[float, float, float]) -> dict:
    data = copy.deepcopy(data)
    feature = data["evaluations"][0]["fairness"]["features"][0]
    reported = [g for g in feature["groups"] if g["status"] == "reported"]
    for group, (value, low, high) in zip(reported[:2], (first, second), strict=True):
        group["selection_rate"] = {"value": value, "low": low, "high": high}
    feature["groups"] = reported[:2]
    return data


def test_the_reading_does_not_rank_groups_whose_intervals_overlap() -> None:
    base = example("adult-income-mlp")
    overlapping = _selection_rates(base, (0.476, 0.44, 0.51), (0.471, 0.43, 0.50))
    page = pages_of(overlapping)["models/adult-income-mlp/fairness.md"]
    reading = page.split("**Reading.**")[1].split("\n")[0]
    assert "these intervals overlap" in reading and "most often" not in reading
    apart = _selection_rates(base, (0.476, 0.45, 0.50), (0.171, 0.15, 0.19))
    reading = pages_of(apart)["models/adult-income-mlp/fairness.md"].split("**Reading.**")[1].split("\n")[0]
    assert "most often" in reading and "overlap" not in reading


def test_fairness_tables_have_at_most_seven_columns(site: dict[str, str]) -> None:
    for path, page in site.items():
        if path.endswith("/fairness.md"):
            for line in page.splitlines():
                if re.fullmatch(r"\|( --- \|| ---: \|)+", line):
                    assert line.count("|") - 1 <= 7, f"{path}: a table of {line.count('|') - 1} columns"


def test_a_single_weight_matrix_gets_no_depth_plot() -> None:
    data = example("adult-income-mlp")
    assert "weights-depth.svg" in plot_plan(FactsRecord.model_validate(data))
    data["weights"]["layers"] = data["weights"]["layers"][:1]
    assert "weights-depth.svg" not in plot_plan(FactsRecord.model_validate(data))


def test_a_loaded_model_is_not_called_a_published_checkpoint(site: dict[str, str]) -> None:
    for slug in ("adult-income-minilm-published", "minilm-embeddings", "smollm2-135m-instruct"):
        card = site[f"models/{slug}/index.md"]
        architecture = next(line for line in card.splitlines() if line.startswith("| Architecture |"))
        assert architecture.endswith(
            ", loaded by this build from the weight files listed on its [weights page](weights.md) |"
        )
        assert "published checkpoint" not in card.split("## Model details")[1].split("\n## ")[0]


def test_the_catalog_says_what_the_next_openness_class_needs(site: dict[str, str]) -> None:
    assert not re.search(r"Class I+ lacks \d", site["index.md"])
    assert re.search(r"\d+ more components? to release for Class I+", site["index.md"])
