"""Openness: which components are released, under which licenses, and the class that gives."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reporter.facts.base import Fact


class OpennessComponentFacts(Fact):
    """One of the Model Openness Framework's components, and whether it counts as openly released."""

    key: str = Field(description="The spec's key for the component (e.g. `training_code`).")
    name: str = Field(description="The framework's name for it (e.g. 'Training code').")
    content_type: Literal["code", "data", "document"]
    mof_class: Literal[1, 2, 3] = Field(description="The class that first asks for it (3 is the first reached).")
    required: bool = Field(description="False for the framework's optional components, which never decide a class.")
    status: Literal["open", "not_open", "not_released"] = Field(
        description="open: released under an open license; not_open: its license is not open, or not an SPDX "
        "identifier the framework knows (a missing license falls back to the model's); not_released: not declared."
    )
    license: str | None
    license_origin: Literal["component", "type", "model"] | None = Field(
        description="Where the license came from: the component, its type's license, or the model's license."
    )
    type_appropriate: bool | None = Field(
        description="Whether the license is one the framework lists for this content type; null when not open."
    )
    license_suggestion: str | None = Field(
        description="For a license that is not an SPDX identifier, the closest one (e.g. CC-BY-4.0 for 'CC BY 4.0')."
    )
    location: str | None = Field(description="Where it is published; a site-relative page for what the build makes.")
    origin: Literal["declared", "build"] | None = Field(
        description="declared: the spec's `openness` section, or its datasheets' origins for the data; "
        "build: a page or file this site publishes."
    )


class OpennessFacts(Fact):
    """The Model Openness Framework class the released components reach."""

    framework: str = Field(description="The framework and the version of its reference tool followed.")
    reached: Literal[0, 1, 2, 3] = Field(description="Class reached: 3 open model, 2 open tooling, 1 open science.")
    label: str
    components: list[OpennessComponentFacts]
    next_class: Literal[1, 2, 3] | None = Field(description="The next class up; null at Class I.")
    missing_for_next: list[str] = Field(description="Keys of the required components that next class still lacks.")
