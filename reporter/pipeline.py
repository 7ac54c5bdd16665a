"""Spec → facts for every model, with the content-addressed cache in front of the model jobs.

The driver (this module) alone reads and writes the cache and the facts folder: it computes each
model's cache key, serves hits from the cache, and hands every miss to an executor as a
:class:`~reporter.jobs.ModelJob` (in this process, in local worker processes, or on a Ray cluster).
Results are written in spec order whatever order the jobs finish in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from reporter.cache import FactsCache, FileHashes, cache_key
from reporter.compute import load_path, published_artifact, with_declarations
from reporter.datasets import listed_images
from reporter.executors import Executor, choose_executor
from reporter.extract.provenance import project_commit
from reporter.facts import CardFacts, FactsRecord
from reporter.files import write_atomically
from reporter.jobs import ModelJob
from reporter.progress import BuildProgress
from reporter.project import Project, resolve_file
from reporter.settings import BuildSettings
from reporter.spec import LoadedSpec, ModelSpec, SpecFiles, with_project_grid


def build_facts(project: Project, specs: list[LoadedSpec], settings: BuildSettings) -> list[FactsRecord]:
    """Facts for every spec (cached where nothing changed), also written to the facts folder."""
    from reporter.runners.device import choose_device

    device = choose_device(settings.device)
    driver = _Driver(project, specs, settings, device=device)
    with BuildProgress(len(specs), quiet=settings.quiet) as progress:
        with choose_executor(settings, device=device, progress=progress) as executor:
            driver.run(executor, progress)
    driver.hashes.save()
    facts_dir = settings.facts_path(project)
    for spec in specs:
        write_atomically(facts_dir / f"{spec.slug}.json", driver.records[spec.slug].to_json().encode())
    return [driver.records[s.slug] for s in specs]


class _Driver:
    """Serves cached models, submits the others as jobs, and collects their results.

    A spec that loads another model's published artifact waits for that model (its cache key
    hashes the artifact). Models are submitted as the executor has room, most urgent first.
    """

    def __init__(self, project: Project, specs: list[LoadedSpec], settings: BuildSettings, *, device: str) -> None:
        self.project, self.specs, self.settings, self.device = project, specs, settings, device
        self.cache = FactsCache(settings.cache_path(project))
        self.hashes = FileHashes(settings.cache_path(project) / "file-hashes.json")
        self.commit = project_commit(project.root)
        self.records: dict[str, FactsRecord] = {}
        self.loaded_by_others = {load.published for s in specs if (load := s.spec.source.load) and load.published}
        self.input_bytes: dict[str, int] = {}

    def run(self, executor: Executor, progress: BuildProgress) -> None:
        """Start models as workers free up, the most urgent first (:meth:`_longest_first`), and
        collect their results; a model that loads another's artifact becomes startable when that
        one is done, and goes before the models still waiting, because it is on the critical path."""
        waiting: list[LoadedSpec] = list(self.specs)
        ready: list[LoadedSpec] = []
        while True:
            startable = [s for s in waiting if self._producer_done(s)]
            waiting = [s for s in waiting if s not in startable]
            ready = self._longest_first(ready + startable)
            if ready and executor.outstanding < executor.capacity:
                self._start(ready.pop(0), executor, progress)
                continue
            if not executor.outstanding:
                break
            result = executor.next_result()
            if result.failure is not None:
                result.failure.raise_again()
            assert result.facts_json is not None
            # Read back through JSON so fresh and cached facts render identically (key order).
            facts = FactsRecord.model_validate_json(result.facts_json)
            self.cache.put(result.slug, facts.provenance.cache_key, facts)
            progress.model_done(result.slug)
            self.records[result.slug] = facts
        assert not waiting and not ready, "every spec waits only for a model of this build"

    def _longest_first(self, ready: list[LoadedSpec]) -> list[LoadedSpec]:
        """The order to start models in, so that side-by-side workers finish close together: first
        the models another spec waits for, then the models that waited for one (both on the
        build's critical path), then by the size of the files each reads, largest first (a
        transformers base model or a GGUF file of 100 MB takes minutes; a table of a few MB,
        seconds). Results are written in spec order whatever the order the jobs run in."""

        def urgency(spec: LoadedSpec) -> tuple[int, int]:
            if spec.slug not in self.input_bytes:
                files = _JobInputs.of(self.project, spec, self.settings).files
                self.input_bytes[spec.slug] = sum(_size_of(path) for path in files)
            load = spec.spec.source.load
            waited = load is not None and load.published is not None
            rank = 0 if spec.slug in self.loaded_by_others else 1 if waited else 2
            return rank, -self.input_bytes[spec.slug]

        return sorted(ready, key=urgency)

    def _producer_done(self, spec: LoadedSpec) -> bool:
        """The model whose artifact the spec loads is done, or is not part of this build (`reporter
        verify` loads an artifact an earlier build published)."""
        load = spec.spec.source.load
        if load is None or load.published is None:
            return True
        return load.published in self.records or all(s.slug != load.published for s in self.specs)

    def _start(self, declared: LoadedSpec, executor: Executor, progress: BuildProgress) -> None:
        """Serve the model from the cache, or submit its job."""
        project, settings = self.project, self.settings
        loaded = with_project_grid(settings.fairness_defaults.apply_to(declared), settings.grid)
        inputs = _JobInputs.of(project, loaded, settings)
        key = inputs.key(loaded, device=self.device, settings=settings, hashes=self.hashes)
        facts = self.cache.get(loaded.slug, key) if settings.use_cache else None
        if loaded.slug in self.loaded_by_others and not published_artifact(project, settings, loaded.slug).is_dir():
            facts = None  # cached facts, but the artifact another spec loads was deleted: rebuild it
        if facts is not None:
            progress.model_started(loaded.slug, cached=True, training=False, epochs=None)
            self.records[loaded.slug] = with_declarations(facts, loaded.spec)
            progress.model_done(loaded.slug)
            return
        executor.submit(
            ModelJob(
                project=project,
                loaded=loaded,
                key=key,
                device=self.device,
                settings=settings,
                threads=executor.threads,
                project_commit=self.commit,
                checkpoint_dir=published_artifact(project, settings, loaded.slug),
                epochs=_declared_epochs(loaded),
                inputs=inputs.all_files(loaded),
                progress_seconds=progress.interval,
            )
        )


def _size_of(path: Path) -> int:
    """Bytes in a file, or in every file under a folder."""
    if path.is_dir():
        return sum(child.stat().st_size for child in path.rglob("*") if child.is_file())
    return path.stat().st_size if path.is_file() else 0


def computed_part(spec: ModelSpec) -> bytes:
    """The spec without its declarations, canonically: what the cached facts depend on.

    Editing an intended use, a limitation, a released component (or a comment) must not retrain a
    model that took minutes to train; the card prose, the openness class and the compute
    declarations (grid, original training) are taken from the spec on every build instead
    (`reporter.compute.with_declarations`).
    """
    declared = set(CardFacts.model_fields) | {"openness", "compute", "training_content"}
    return json.dumps(spec.model_dump(mode="json", exclude=declared), sort_keys=True).encode()


def _declared_epochs(loaded: LoadedSpec) -> int | None:
    """Epochs to show progress against: the recipe's (defaults included), if it declares a number."""
    from reporter.runners.recipes import validate_hyperparameters

    train = loaded.spec.source.train
    if train is None:
        return None
    hyperparameters = validate_hyperparameters(train)
    epochs = hyperparameters.get("epochs") if isinstance(hyperparameters, dict) else hyperparameters.epochs
    return epochs if isinstance(epochs, int) and epochs > 0 else None


@dataclass(frozen=True)
class _JobInputs:
    """The files one model's facts depend on: what its cache key hashes and a Ray task is sent."""

    files: list[Path]
    user_code: list[Path]

    @classmethod
    def of(cls, project: Project, loaded: LoadedSpec, settings: BuildSettings) -> _JobInputs:
        files = [
            resolve_file(project, loaded.path, named.ref, field=named.field, kind=named.kind)
            for named in SpecFiles.of(loaded).file_refs()
        ]
        for index, source in enumerate(loaded.spec.data):
            if source.images is not None and source.images.path_column is not None and source.file is not None:
                csv = resolve_file(project, loaded.path, source.file, field=f"data.{index}.file", kind="file")
                files += listed_images(source, csv, spec_path=loaded.path, field=f"data.{index}")
        load, train = loaded.spec.source.load, loaded.spec.source.train
        if load is not None and (load.published is not None or load.hub is not None):
            files.append(load_path(project, loaded, settings))
        user_code = []
        if (train and ":" in train.recipe) or (load and load.module):
            user_code = sorted(loaded.folder.glob("*.py"))
        return cls(files=files, user_code=user_code)

    def key(self, loaded: LoadedSpec, *, device: str, settings: BuildSettings, hashes: FileHashes) -> str:
        return cache_key(
            hashes=hashes,
            spec_bytes=computed_part(loaded.spec),
            input_files=self.files,
            extra_code=self.user_code,
            device=device,
            settings={
                "bootstrap_samples": settings.bootstrap_samples,
                "small_threshold": settings.small_threshold,
                "spectral_max_side": settings.spectral_max_side,
                "fairness_defaults": settings.fairness_defaults.model_dump(),
                # Only when set, so the cache keys of builds without it stay as they were.
                **({"full_benchmarks": True} if settings.full_benchmarks else {}),
            },
        )

    def all_files(self, loaded: LoadedSpec) -> tuple[Path, ...]:
        """The spec itself, every file it names, and the recipe code beside it."""
        return (loaded.path, *self.files, *self.user_code)
