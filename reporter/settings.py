"""The options of one build, shared by the driver and every model job."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reporter.extract.metrics import BOOTSTRAP_SAMPLES
from reporter.extract.spectral import SpectralOptions
from reporter.extract.weights import WeightOptions
from reporter.project import Project
from reporter.spec import FairnessDefaults, GridIntensity


@dataclass(frozen=True)
class BuildSettings:
    """Options of one build; those that change figures are part of the cache key."""

    device: str | None = None
    use_cache: bool = True
    build_dir: Path | None = None
    facts_dir: Path | None = None
    cache_dir: Path | None = None
    bootstrap_samples: int = BOOTSTRAP_SAMPLES
    small_threshold: float = 1e-6
    spectral_max_side: int = 4096
    fairness_defaults: FairnessDefaults = FairnessDefaults()
    grid: GridIntensity | None = None
    """The project's grid carbon intensity (the plugin's `grid:` option), for specs that declare none."""
    quiet: bool = False
    jobs: int | None = None
    """Model jobs run side by side on this machine (None: one per two cores, or one per GPU)."""
    threads: int | None = None
    """Compute threads of each model job (None: the cores shared out among the jobs). Figures can
    differ in their last digits between thread counts, so a job always pins its own."""
    ray_address: str | None = None
    full_benchmarks: bool = False
    """Score every item of every language-model benchmark, ignoring the specs' samples."""
    """Run the model jobs as tasks on the Ray cluster at this address instead of locally."""

    def weight_options(self, device: str) -> WeightOptions:
        return WeightOptions(
            small_threshold=self.small_threshold,
            spectral=SpectralOptions(max_side=self.spectral_max_side, device=device),
        )

    def build_path(self, project: Project) -> Path:
        return self.build_dir or project.root / "build"

    def cache_path(self, project: Project) -> Path:
        return self.cache_dir or self.build_path(project) / "cache"

    def facts_path(self, project: Project) -> Path:
        return self.facts_dir or self.build_path(project) / "facts"
