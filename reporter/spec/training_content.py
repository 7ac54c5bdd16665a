"""The spec's `training_content:` section: what the EU template for the public summary of training
content asks that the build cannot measure (who provides the model, when the data was last
acquired, how opt-outs and illegal content were handled), declared and shown as declared."""

from __future__ import annotations

from pydantic import Field

from reporter.spec.sections import Owner, SpecModel


class TrainingContent(SpecModel):
    """Declarations for the public summary of training content; every field optional (a missing
    one is marked missing in the summary)."""

    provider: Owner | None = Field(default=None, description="The provider (default: the first owner).")
    latest_acquisition: str | None = Field(
        default=None,
        pattern=r"^(0[1-9]|1[0-2])/[0-9]{4}$",
        description="When training data was last acquired (MM/YYYY).",
    )
    crawler: str | None = Field(
        default=None, description="For crawled data: the crawler's name, purpose, behaviour and period."
    )
    opt_out_policy: str | None = Field(
        default=None, description="How text-and-data-mining opt-outs (reservations of rights) were respected."
    )
    illegal_content_measures: str | None = Field(
        default=None, description="What was done to keep illegal content out of the training data."
    )
    other_processing: str | None = Field(default=None, description="Any other processing of the training data.")
