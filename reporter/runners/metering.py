"""Measuring what one model job costs, phase by phase: wall and processor time, floating-point
operations and energy.

FLOPs are counted by torch's own counter (`torch.utils.flop_counter.FlopCounterMode`, the formulas
for matrix multiplications, convolutions and attention, forward and backward). The counter sees
every operation in Python, which slows small operations several-fold, so training counts its first
epoch in full and scales by the epochs run (epochs repeat the same work), while evaluation is
counted throughout. Energy comes from CodeCarbon's offline tracker (the `energy` extra), which
never reaches the network: it reads RAPL or NVML counters where the machine lets it, and otherwise
estimates from the processor's rated power and this process's load. Without CodeCarbon the energy
is not reported, with the reason.
"""

from __future__ import annotations

import logging
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from reporter.facts import EnergyFacts, HardwareFacts, NotReported

Phase = Literal["training", "evaluation"]
NO_CODECARBON = "energy is measured with CodeCarbon, which is not installed (install reporter[energy])"
RAPL_MODES = frozenset({"intel_rapl", "intel_power_gadget", "apple_powermetrics", "windows_emi"})
"""CodeCarbon's processor modes that read the hardware's energy counters (the rest estimate)."""


@dataclass(frozen=True)
class PhaseReading:
    """What the meter saw of one phase."""

    phase: Phase
    wall_seconds: float
    processor_seconds: float
    flops: float
    counted_all: bool
    """Whether the counter ran for the whole phase (False: training stopped it after epoch 1)."""
    energy: EnergyFacts | NotReported


class JobMeter:
    """Meters a job's training and evaluation phases one after the other. Phases may begin and end
    in different functions (the evaluation of a trained model begins where its recipe returns), so
    the meter is started and stopped explicitly; `close` undoes whatever is still running."""

    def __init__(self, device: str, *, energy: bool = True) -> None:
        self.device = device
        self._energy = _EnergyTracker.create() if energy else None
        self._counter: Any = None
        self._phase: Phase | None = None
        self._started = (0.0, 0.0)
        self._counted_all = True
        self.readings: dict[Phase, PhaseReading] = {}

    @property
    def energy_reason(self) -> str:
        """Why energy is not reported, when it is not."""
        return NO_CODECARBON if self._energy is None else ""

    def begin(self, phase: Phase) -> None:
        """Start metering ``phase`` (ending the one running, if any)."""
        from torch.utils.flop_counter import FlopCounterMode

        if self._phase is not None:
            self.end()
        self._phase, self._counted_all = phase, True
        if self._energy is not None:
            self._energy.begin(phase)
        self._counter = FlopCounterMode(display=False)
        self._counter.__enter__()
        self._started = (time.perf_counter(), time.process_time())

    @property
    def running(self) -> Phase | None:
        return self._phase

    def stop_counting(self) -> None:
        """Stop counting FLOPs for the rest of the phase (training, after its first epoch); kept
        counting if another dispatch mode was entered since, which must leave first."""
        from torch.utils._python_dispatch import _get_current_dispatch_mode

        counter = self._counter
        if counter is None or counter.mode is None or _get_current_dispatch_mode() is not counter.mode:
            return
        counter.__exit__(None, None, None)
        self._counted_all = False

    def after_first_epoch(self, on_epoch: Callable[[Any], None]) -> Callable[[Any], None]:
        """``on_epoch`` that also stops counting when the first epoch is reported."""

        def reported(record: Any) -> None:
            self.stop_counting()
            on_epoch(record)

        return reported

    def end(self) -> PhaseReading:
        """Finish the running phase and keep its reading."""
        assert self._phase is not None and self._counter is not None
        wall = time.perf_counter() - self._started[0]
        processor = time.process_time() - self._started[1]
        if self._counter.mode is not None:
            self._counter.__exit__(None, None, None)
        energy = self._energy.end() if self._energy is not None else NotReported(not_reported=NO_CODECARBON)
        reading = PhaseReading(
            phase=self._phase,
            wall_seconds=wall,
            processor_seconds=processor,
            flops=float(self._counter.get_total_flops()),
            counted_all=self._counted_all,
            energy=energy,
        )
        self.readings[self._phase] = reading
        self._phase, self._counter = None, None
        return reading

    def close(self) -> None:
        """Stop whatever runs (a failed job must not leave the counter on its thread)."""
        if self._counter is not None and self._counter.mode is not None:
            self._counter.__exit__(None, None, None)
        self._phase, self._counter = None, None
        if self._energy is not None:
            self._energy.close()


class _EnergyTracker:
    """One CodeCarbon offline tracker per job, a task per phase."""

    def __init__(self, tracker: Any, version: str) -> None:
        self.tracker = tracker
        self.version = version

    @classmethod
    def create(cls) -> _EnergyTracker | None:
        """A started tracker, or None without CodeCarbon."""
        try:
            from codecarbon import OfflineEmissionsTracker
        except ImportError:
            return None
        logging.getLogger("codecarbon").setLevel(logging.ERROR)
        tracker = OfflineEmissionsTracker(
            # CodeCarbon needs a country for its own emissions figure, which reporter never
            # publishes: carbon comes only from the grid intensity a spec declares.
            country_iso_code="USA",
            output_methods=[],  # nothing written: the readings go into the facts only
            log_level="error",
            tracking_mode="process",
            measure_power_secs=1,
        )
        tracker.start()
        return cls(tracker, metadata.version("codecarbon"))

    def begin(self, phase: Phase) -> None:
        self.tracker.start_task(phase)

    def end(self) -> EnergyFacts | NotReported:
        data = self.tracker.stop_task()
        if data is None:
            return NotReported(not_reported="CodeCarbon returned no reading for this phase")
        cpu_mode = self._processor_mode()
        measured = cpu_mode in RAPL_MODES
        return EnergyFacts(
            kwh=float(data.energy_consumed),
            cpu_kwh=float(data.cpu_energy),
            memory_kwh=float(data.ram_energy),
            gpu_kwh=float(data.gpu_energy),
            kind="measured" if measured else "estimated",
            method=self._method(cpu_mode, data),
        )

    def _processor_mode(self) -> str:
        for hardware in getattr(self.tracker, "_hardware", []):
            if type(hardware).__name__ == "CPU":
                return str(getattr(hardware, "_mode", "unknown"))
        return "unknown"

    def _method(self, cpu_mode: str, data: Any) -> str:
        processor = (
            f"processor energy read from its counters ({cpu_mode})"
            if cpu_mode in RAPL_MODES
            else (
                f"processor power estimated as {data.cpu_power:.1f} W on average from the rated power CodeCarbon "
                f"assumes for {data.cpu_model} ({data.cpu_count:g} threads) scaled by this process's processor load"
            )
        )
        gpu = f"; GPU energy read through NVML ({data.gpu_model})" if data.gpu_count else ""
        return (
            f"CodeCarbon {self.version}, offline tracker, this process only: {processor}; memory power "
            f"estimated as {data.ram_power:.1f} W{gpu}"
        )

    def close(self) -> None:
        try:
            self.tracker.stop()
        except Exception:  # a tracker that failed to stop must not hide the job's own error
            logging.getLogger(__name__).debug("CodeCarbon tracker did not stop cleanly", exc_info=True)


def hardware_facts(device: str) -> HardwareFacts:
    """The machine this job runs on."""
    import torch

    gpus = []
    if device.startswith("cuda"):
        index = int(device.split(":")[1]) if ":" in device else torch.cuda.current_device()
        gpus = [torch.cuda.get_device_name(index)]
    return HardwareFacts(
        cpu=processor_name(),
        logical_cores=os.cpu_count() or 1,
        threads=torch.get_num_threads(),
        gpus=gpus,
        memory_gib=round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    )


def processor_name() -> str:
    """The processor's model name: Linux's /proc/cpuinfo, else what Python's platform says."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name") and ":" in line:
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"
