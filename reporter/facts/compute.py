"""What the build's run of a model cost: the machine, time, floating-point operations and energy,
for training and for evaluation separately, and carbon only from a grid intensity the spec
declares. Every figure says whether it was measured, estimated or declared."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reporter.facts.base import Fact, NotReported


class HardwareFacts(Fact):
    """The machine the job ran on (varies between machines, like every timing)."""

    cpu: str = Field(description="The processor's model name, as the operating system reports it.")
    logical_cores: int = Field(description="Logical processor cores the machine has.")
    threads: int = Field(description="Threads torch computed with in this job.")
    gpus: list[str] = Field(description="The model name of each GPU the job used; empty on the CPU.")
    memory_gib: float = Field(description="The machine's memory in GiB.")


class FlopFacts(Fact):
    """Floating-point operations, counted on the real model, beside the textbook estimate."""

    counted: float = Field(description="FLOPs counted by torch's FLOP counter (scaled as `method` says).")
    method: str = Field(description="What was counted and how it was scaled to the whole phase.")
    estimate: float | None = Field(description="The rule-of-thumb estimate (6·N·D, 2·N per input); null if none.")
    estimate_formula: str = Field(description="The estimate's formula with its numbers, or why there is none.")


class EnergyFacts(Fact):
    """Energy of one phase, measured by the hardware's counters or estimated from rated power."""

    kwh: float = Field(description="Energy in kilowatt-hours (processor, memory and GPUs).")
    cpu_kwh: float
    memory_kwh: float
    gpu_kwh: float
    kind: Literal["measured", "estimated"] = Field(
        description="`measured` from RAPL or NVML counters; `estimated` from rated power and load."
    )
    method: str = Field(description="How the energy was found, in words (the tool, its mode, the power it assumed).")


class CarbonFacts(Fact):
    """Emissions of one phase: its energy times the grid intensity the spec declares."""

    kg_co2e: float = Field(description="Kilograms of CO₂-equivalent.")
    grams_per_kwh: float = Field(description="The declared grid intensity, grams of CO₂-equivalent per kWh.")
    location: str | None = Field(description="Where the grid is, as declared.")
    source: str = Field(description="Where the declared intensity comes from.")


class PhaseComputeFacts(Fact):
    """One phase of the build's run of the model, as measured."""

    kind: Literal["measured"] = "measured"
    phase: Literal["training", "evaluation"]
    covers: str = Field(description="What the phase includes.")
    device: str
    wall_seconds: float = Field(description="Wall time (varies between machines).")
    processor_seconds: float = Field(description="Processor time of the job's process, all its threads.")
    device_hours: float = Field(description="GPU-hours on a GPU (wall time × GPUs); CPU core-hours on the CPU.")
    device_hours_unit: Literal["GPU-hours", "CPU core-hours"]
    flops: FlopFacts | NotReported
    energy: EnergyFacts | NotReported
    carbon: CarbonFacts | NotReported = Field(
        default_factory=lambda: NotReported(not_reported="the spec declares no grid intensity (compute.grid)")
    )


class DeclaredComputeFacts(Fact):
    """The compute of a training run the build did not run, as the spec or the run's log declares
    it: shown as declared, never as measured."""

    kind: Literal["declared"] = "declared"
    source: str = Field(description="Who declares it: the spec's cited source, or the training log.")
    hardware: str | None = None
    device_hours: float | None = None
    device_hours_unit: str | None = None
    flops: float | None = None
    energy_kwh: float | None = None
    kg_co2e: float | None = None


class ComputeFacts(Fact):
    """The machine, and the cost of training and of evaluation."""

    hardware: HardwareFacts
    training: PhaseComputeFacts | DeclaredComputeFacts | NotReported
    evaluation: PhaseComputeFacts
