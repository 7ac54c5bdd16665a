"""The spec's `compute:` section: what the build cannot measure about a model's cost, declared with
its source (the grid the energy came from; a loaded model's original training)."""

from __future__ import annotations

from pydantic import Field

from reporter.spec.sections import SpecModel


class GridIntensity(SpecModel):
    """The carbon intensity of the electricity the build runs on: carbon is published only from
    this declaration, never from a guess about where the machine is."""

    grams_co2e_per_kwh: float = Field(gt=0, le=2000, description="Grams of CO₂-equivalent per kWh.")
    location: str | None = Field(default=None, description="Where the grid is (e.g. `FR`, `us-east-1`).")
    source: str = Field(min_length=1, description="Where the figure comes from (a publication and its year).")


class DeclaredCompute(SpecModel):
    """The compute of a loaded model's original training, as its authors publish it."""

    source: str = Field(min_length=1, description="Where these figures are published (a model card, a paper).")
    hardware: str | None = Field(default=None, description="What it was trained on (e.g. `64 H100 GPUs`).")
    device_hours: float | None = Field(default=None, ge=0, description="GPU-hours (or the unit below).")
    device_hours_unit: str = Field(default="GPU-hours", min_length=1, description="The unit of `device_hours`.")
    flops: float | None = Field(default=None, ge=0, description="Floating-point operations of the training run.")
    energy_kwh: float | None = Field(default=None, ge=0, description="Energy of the training run in kWh.")
    kg_co2e: float | None = Field(default=None, ge=0, description="Emissions of the training run, kg CO₂-equivalent.")


class Compute(SpecModel):
    """Declarations about compute and energy; everything else about them the build measures."""

    grid: GridIntensity | None = Field(
        default=None, description="Carbon intensity of the grid the build runs on, with its source."
    )
    training: DeclaredCompute | None = Field(
        default=None, description="A loaded model's original training compute, as published (shown as declared)."
    )
