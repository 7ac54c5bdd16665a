"""Compute facts from the meter's readings: each phase's time, device-hours and FLOPs beside the
rule-of-thumb estimate a reader knows (6·N·D to train, 2·N per input to run), a loaded model's
declared training compute, and carbon from the spec's declared grid intensity."""

from __future__ import annotations

from reporter.facts import (
    CarbonFacts,
    ComputeFacts,
    DeclaredComputeFacts,
    DeclaredTrainingFacts,
    EnergyFacts,
    FlopFacts,
    NotReported,
    PhaseComputeFacts,
)
from reporter.runners.metering import PhaseReading
from reporter.spec.compute import DeclaredCompute, GridIntensity

COUNTED_OPERATIONS = "matrix multiplications, convolutions and attention, forward and backward"
TRAINING_COVERS = "the training recipe, from its first operation to its return (validation inside it included)"
EVALUATION_COVERS = (
    "everything after training: loading (for a loaded model), scoring the evaluation data, the task's "
    "measurements, explanations, audits and the weight analysis"
)
TEXT_INPUTS = "no estimate: the model reads text, and the rule counts tokens, which this build does not count"
NOT_TRAINED = "the build did not train this model, and neither the spec nor its training log declares the compute"


def _flop_method(reading: PhaseReading, epochs: int) -> str:
    if reading.phase == "training" and not reading.counted_all and epochs > 1:
        return (
            f"counted by torch's FLOP counter over the first epoch in full, times {epochs} epochs (every epoch "
            f"repeats the same work): {COUNTED_OPERATIONS}"
        )
    return f"counted by torch's FLOP counter over the whole phase: {COUNTED_OPERATIONS}"


def training_estimate(*, parameters: int, rows: int, epochs: int, reads_text: bool) -> tuple[float | None, str]:
    """6·N·D: two FLOPs per parameter and input forward, four backward; D counts the training rows
    the optimiser saw (each row one input vector), over every epoch."""
    if reads_text:
        return None, TEXT_INPUTS
    seen = rows * epochs
    return 6.0 * parameters * seen, f"6 × {parameters:,} parameters × {seen:,} rows seen ({rows:,} × {epochs} epochs)"


def evaluation_estimate(*, parameters: int, rows: int, reads_text: bool) -> tuple[float | None, str]:
    """2·N per input, for one forward pass over the evaluation rows: the scoring pass alone, where
    the count covers every measurement that runs the model."""
    if reads_text:
        return None, TEXT_INPUTS
    return (
        2.0 * parameters * rows,
        f"2 × {parameters:,} parameters × {rows:,} evaluation rows (one scoring pass; explanations and audits "
        "run the model more)",
    )


def phase_facts(
    reading: PhaseReading, *, device: str, epochs: int, estimate: tuple[float | None, str]
) -> PhaseComputeFacts:
    """One phase's facts; training FLOPs scaled by the epochs when only the first was counted."""
    on_gpu = device.startswith("cuda")
    scale = epochs if reading.phase == "training" and not reading.counted_all else 1
    flops = FlopFacts(
        counted=reading.flops * scale,
        method=_flop_method(reading, epochs),
        estimate=estimate[0],
        estimate_formula=estimate[1],
    )
    return PhaseComputeFacts(
        phase=reading.phase,
        covers=TRAINING_COVERS if reading.phase == "training" else EVALUATION_COVERS,
        device=device,
        wall_seconds=round(reading.wall_seconds, 3),
        processor_seconds=round(reading.processor_seconds, 3),
        device_hours=(reading.wall_seconds if on_gpu else reading.processor_seconds) / 3600,
        device_hours_unit="GPU-hours" if on_gpu else "CPU core-hours",
        flops=flops if reading.flops > 0 else NotReported(not_reported="the counter saw no operation it counts"),
        energy=reading.energy,
    )


def declared_training(
    declared: DeclaredCompute | None, log: DeclaredTrainingFacts | None
) -> DeclaredComputeFacts | NotReported:
    """A loaded model's training compute as the spec declares it, else as its training log records
    it (Hugging Face's Trainer records `total_flos`, its own 6·N·D-style estimate)."""
    if declared is not None:
        return DeclaredComputeFacts(
            source=declared.source,
            hardware=declared.hardware,
            device_hours=declared.device_hours,
            device_hours_unit=declared.device_hours_unit if declared.device_hours is not None else None,
            flops=declared.flops,
            energy_kwh=declared.energy_kwh,
            kg_co2e=declared.kg_co2e,
        )
    if log is not None and log.total_flos is not None:
        return DeclaredComputeFacts(
            source=f"its training log ({log.log_format}, {log.log_file}): the trainer's own FLOP estimate",
            flops=log.total_flos,
        )
    return NotReported(not_reported=NOT_TRAINED)


def with_carbon(compute: ComputeFacts | NotReported, grid: GridIntensity | None) -> ComputeFacts | NotReported:
    """Compute facts whose measured phases carry carbon from the declared grid intensity (applied
    on every build, so editing the declaration retrains nothing)."""
    if isinstance(compute, NotReported):
        return compute

    def carbon(phase: PhaseComputeFacts) -> PhaseComputeFacts:
        if grid is None or not isinstance(phase.energy, EnergyFacts):
            reason = (
                "the spec declares no grid intensity (compute.grid, or the project's `grid:` in mkdocs.yml)"
                if grid is None
                else "the phase's energy is not reported"
            )
            return phase.model_copy(update={"carbon": NotReported(not_reported=reason)})
        found = CarbonFacts(
            kg_co2e=phase.energy.kwh * grid.grams_co2e_per_kwh / 1000,
            grams_per_kwh=grid.grams_co2e_per_kwh,
            location=grid.location,
            source=grid.source,
        )
        return phase.model_copy(update={"carbon": found})

    training = carbon(compute.training) if isinstance(compute.training, PhaseComputeFacts) else compute.training
    return compute.model_copy(update={"training": training, "evaluation": carbon(compute.evaluation)})
