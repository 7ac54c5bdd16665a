"""A benchmark's items read from its JSON Lines file and turned into lm-evaluation-harness
requests: each item's prompt (the context) and one continuation per choice, with the right one.

Every item is checked before any model runs; a malformed one names the file, its line and the
declaration field to correct.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from reporter.errors import DataError
from reporter.spec.benchmarks import BenchmarkDeclaration

Item = TypeVar("Item")
LETTERED = re.compile(r"^([A-Z])\. ?(.*)$")


@dataclass(frozen=True)
class BenchmarkItem:
    """One multiple-choice item as the model is asked it."""

    line: int
    """The item's line in the file (1-based), so a reader can find it."""
    context: str
    continuations: list[str]
    """What is scored after the context: the delimiter and each choice's letter or text."""
    choices: list[str]
    """What lm-evaluation-harness measures the length of for `acc_norm`: each letter or text, without the delimiter."""
    gold: int
    category: str | None


def read_items(declaration: BenchmarkDeclaration, path: Path, *, where: str) -> list[BenchmarkItem]:
    """Every item of the file, in file order (without the malformed ones a declaration skips).

    Raises:
        DataError: a line is not a JSON object, a field is missing, or the right answer is not a choice.
    """
    return read_items_and_skipped(declaration, path, where=where)[0]


def read_items_and_skipped(
    declaration: BenchmarkDeclaration, path: Path, *, where: str
) -> tuple[list[BenchmarkItem], list[int]]:
    """The file's items and the lines of the malformed items skipped (`skip_malformed`; else a
    malformed item raises)."""
    items, skipped = [], []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{where}: cannot read {path} as UTF-8 text: {exc}. Fix: name a JSON Lines file") from None
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            record = json_record(text, path, number, where)
            items.append(_item(declaration, record, number, where=f"{where}: {path}:{number}"))
        except DataError:
            if not declaration.skip_malformed:
                raise
            skipped.append(number)
    if not items:
        raise DataError(f"{where}: {path} holds no items. Fix: name a JSON Lines file with one item per line")
    return items, skipped


def sampled(items: list[Item], sample: int | None, seed: int) -> list[Item]:
    """A seeded sample of the items (numpy's default_rng(seed).choice without replacement), in file order."""
    if sample is None or sample >= len(items):
        return items
    chosen = np.sort(np.random.default_rng(seed).choice(len(items), size=sample, replace=False))
    return [items[int(i)] for i in chosen]


def json_record(text: str, path: Path, number: int, where: str) -> dict[str, Any]:
    """One line of a JSON Lines file as an object, or an error naming the file and the line."""
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: {path}:{number} is not JSON: {exc}. Fix: write one JSON object per line") from None
    if not isinstance(record, dict):
        raise DataError(f"{where}: {path}:{number} is not a JSON object. Fix: write one object per line")
    return record


def _field(record: dict[str, Any], name: str, where: str, declared: str) -> Any:
    if name not in record:
        raise DataError(
            f"{where}: the item has no field {name!r} (its fields: {', '.join(map(str, record))}). "
            f"Fix: correct the declaration's `{declared}`"
        )
    return record[name]


def _item(declaration: BenchmarkDeclaration, record: dict[str, Any], number: int, *, where: str) -> BenchmarkItem:
    question = str(_field(record, declaration.question_field, where, "question_field")).strip()
    texts = _choices(_field(record, declaration.choices_field, where, "choices_field"), declaration, where)
    gold = _gold(_field(record, declaration.answer_field, where, "answer_field"), texts, declaration, where)
    letters = [chr(ord("A") + i) for i in range(len(texts))]
    lettered = "\n".join(f"{letter}. {text}" for letter, text in zip(letters, texts, strict=True))
    choices = letters if declaration.answers_as == "letters" else texts
    category = record.get(declaration.category_field) if declaration.category_field else None
    return BenchmarkItem(
        line=number,
        context=declaration.prompt.format(question=question, choices=lettered),
        continuations=[declaration.delimiter + choice for choice in choices],
        choices=choices,
        gold=gold,
        category=None if category is None else str(category),
    )


def _choices(value: Any, declaration: BenchmarkDeclaration, where: str) -> list[str]:
    """The choices' texts, from a list or from lettered lines (a line without a letter continues the one above)."""
    if declaration.choices_format == "list":
        if not isinstance(value, list) or len(value) < 2:
            raise DataError(
                f"{where}: the choices are not a list of two or more. Fix: correct the item or `choices_format`"
            )
        return [str(v) for v in value]
    texts: list[str] = []
    for line in str(value).strip("\n").split("\n"):
        found = LETTERED.match(line)
        if found and found.group(1) == chr(ord("A") + len(texts)):
            texts.append(found.group(2))
        elif texts:
            texts[-1] += "\n" + line
        else:
            raise DataError(f"{where}: the choices do not start with `A. `. Fix: correct the item or `choices_format`")
    if len(texts) < 2:
        raise DataError(f"{where}: fewer than two lettered choices. Fix: correct the item or `choices_format`")
    return texts


def _gold(value: Any, texts: list[str], declaration: BenchmarkDeclaration, where: str) -> int:
    """The right choice's position, read as the declaration says and checked to be a choice."""
    kind, answer = declaration.answer_format, str(value)
    position = -1
    if kind == "index" and answer.strip().isdigit():
        position = int(answer)
    elif kind == "letter" and len(answer.strip()) == 1:
        position = ord(answer.strip().upper()) - ord("A")
    elif kind == "text" and answer in texts:
        position = texts.index(answer)
    elif kind == "lettered_line" and (found := LETTERED.match(answer.split("\n")[0])):
        position = ord(found.group(1)) - ord("A")
        if 0 <= position < len(texts) and answer != f"{found.group(1)}. {texts[position]}":
            position = -1
    if not 0 <= position < len(texts):
        raise DataError(
            f"{where}: the answer {answer[:80]!r} is not one of the {len(texts)} choices. "
            "Fix: correct the item or the declaration's `answer_format`"
        )
    return position
