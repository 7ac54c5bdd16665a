"""The built-in multiple-choice benchmark declarations (one YAML file each, beside this module),
and the reading of a benchmark's items into prompts and continuations."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from reporter.spec.benchmarks import (
    BIAS_FOLDER,
    BenchmarkDeclaration,
    BenchmarkRun,
    BiasBenchmarkDeclaration,
    BiasBenchmarkRun,
)
from reporter.spec.sections import FileRef

FOLDER = Path(__file__).parent


@cache
def built_in(name: str) -> BenchmarkDeclaration:
    """A built-in benchmark's declaration (the YAML file of that name)."""
    return BenchmarkDeclaration.model_validate(yaml.safe_load((FOLDER / f"{name}.yaml").read_text(encoding="utf-8")))


def declaration_of(run: BenchmarkRun) -> BenchmarkDeclaration:
    """The declaration a run names: its own, or the built-in one."""
    return run.declaration if run.declaration is not None else built_in(str(run.benchmark))


def data_field(run: BenchmarkRun, index: int, section: str) -> str:
    """Where the spec names a run's items file, for error messages and the cache key."""
    where = f"{section}.benchmarks.{index}"
    return f"{where}.declaration.data" if run.declaration is not None else f"{where}.benchmark"


@cache
def bias_built_in(name: str) -> BiasBenchmarkDeclaration:
    """A built-in bias benchmark's declaration (the YAML file of that name in `bias/`)."""
    return BiasBenchmarkDeclaration.model_validate(
        yaml.safe_load((BIAS_FOLDER / f"{name}.yaml").read_text(encoding="utf-8"))
    )


def bias_data(run: BiasBenchmarkRun, index: int, section: str) -> tuple[FileRef, str]:
    """A bias benchmark run's items file (the user's copy, else the packaged one) and where the
    spec names it, for error messages and the cache key."""
    where = f"{section}.bias_benchmarks.{index}"
    if run.data is not None:
        return run.data, f"{where}.data"
    return bias_built_in(run.benchmark).data, f"{where}.benchmark"
