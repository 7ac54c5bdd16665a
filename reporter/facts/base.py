"""The building blocks of every fact: a frozen model, a fact not reported (with the reason),
and a point estimate with its bootstrap interval; the schema version they belong to."""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION: Final = "2.7.0"
"""2.7.0 adds a language model's social-bias benchmarks (CrowS-Pairs, StereoSet, BBQ) and benchmark
figures published elsewhere beside its own; 2.6.0 added multiple-choice benchmarks, the image
modality of a source's composition and what a data hash covers when it is not one file's bytes;
2.5.0 added image classification (its evaluations, with example images) and a network's layers to
its architecture; 2.4.0 added near-duplicate texts to train–test overlap (and the count of rows
without overlap); 2.3.0 added compute: the machine, and the time, FLOPs, energy and declared-grid
carbon of training and of evaluation. 2.2.0 added the Hub repository and commit of a model loaded
from the Hub, and to a training report declared by a log, the run of a tracking store and the log's
final figures beside the build's; 2.1.0 added that report. 2.0.0 to 2.6.0 records are read as they
are."""
EARLIER_VERSIONS: Final = ("1.2.0", "1.3.0", "1.4.0", "1.5.0", "1.6.0", "1.7.0")
"""Schema versions `reporter diff` still reads (a base built before an upgrade): what they lack is
filled in as not reported, with the reason, and their figures are moved to where schema 2.0 keeps
them."""
NOT_RECORDED: Final = "not recorded:"
"""How the reason of a fact family missing from an older record starts."""


class Fact(BaseModel):
    """Base for every fact family: immutable, and unknown fields are rejected when read back."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class TaskFacts(Fact):
    """The facts family of a task that measures the model itself
    (:class:`reporter.tasks.base.MeasuringTask`): a subclass with ``kind: Literal["<task name>"]``
    and the fields the task measures. A record holding one of a task another package adds is read
    back through that task, so its fields are checked as strictly as the built-in families'."""

    kind: str


class NotReported(Fact):
    """A fact that could not be computed, and why."""

    not_reported: str = Field(description="Why the fact is missing, written for the reader.")


class Interval(Fact):
    """A point estimate with its seeded bootstrap 95 % percentile interval."""

    value: float | None = Field(description="Point estimate; null when undefined for the data.")
    low: float | None = Field(default=None, description="2.5th bootstrap percentile.")
    high: float | None = Field(default=None, description="97.5th bootstrap percentile.")
