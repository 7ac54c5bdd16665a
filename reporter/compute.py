"""One model's facts from its resolved spec: train or load it, then run every extractor.

This is the body of a model job (`reporter.jobs`): it reads the spec's input files and writes the
model's checkpoint files, and touches nothing else of the build (no cache, no facts folder, no
site), so the same call runs in the driver, in a local worker process or on a Ray worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reporter.datasets import (
    LabelledData,
    Table,
    check_given_predictions,
    class_names,
    label_data,
    prediction_columns,
    read_table,
)
from reporter.errors import DataError, ModelFileError
from reporter.extract.attributions import extract_token_attributions
from reporter.extract.compute import with_carbon
from reporter.extract.data import extract_data_source
from reporter.extract.explanations import explained_rows, extract_permutation_importance
from reporter.extract.membership import extract_membership_inference
from reporter.extract.openness import assess_openness
from reporter.extract.provenance import extract_provenance
from reporter.extract.proxies import PROXY_THRESHOLD, extract_proxies
from reporter.extract.weights import extract_weights, with_spec_license
from reporter.facts import (
    LABELLED_KINDS,
    CardFacts,
    ComputeFacts,
    DataSourceFacts,
    DeclaredTrainingFacts,
    EvaluationFacts,
    ExplanationFacts,
    FactsRecord,
    HubFacts,
    ImageClassificationEvaluation,
    InferenceFacts,
    Interval,
    LabelledEvaluation,
    LanguageModelFacts,
    NotReported,
    OpennessFacts,
    OverlapFacts,
    Owner,
    PhaseComputeFacts,
    PrivacyFacts,
    TokenAttributionFacts,
    TrainingContentFacts,
    TrainingFacts,
    WeightFacts,
)
from reporter.formats import format_named
from reporter.formats.declaration import CAPABILITY_TEXT
from reporter.hub import HubSnapshot, hub_snapshot, snapshot_url
from reporter.progress import JobProgress
from reporter.project import Project, resolve_file
from reporter.runners.metering import JobMeter, hardware_facts
from reporter.runners.outcome import RunOutcome
from reporter.runners.returned import checked_attributions
from reporter.runners.train_tagger import SENTENCE_RECIPES
from reporter.settings import BuildSettings
from reporter.spec import (
    MULTICLASS_TASKS,
    Evaluation,
    LoadedSpec,
    ModelSpec,
    SpecFiles,
    TaskSection,
    data_file_kind,
    load_file_kind,
    needed_capabilities,
)
from reporter.tasks import labelled_task, measuring_task, measuring_tasks
from reporter.tasks._grouped import ScoredRows
from reporter.tasks.base import LOADED_NOT_AUDITED, NO_LABELLED_ROWS, MeasuringTask, TaskContext
from reporter.tasks.token_classification_measures import Sentences, tagged_sentences
from reporter.tasks.token_classification_overlap import TagRecorder, recording_tags


def published_artifact(project: Project, settings: BuildSettings, slug: str) -> Path:
    """The folder a model trained in the build is published in: loadable with `from_pretrained`
    (transformers recipes) or holding its `model.safetensors` (a Keras recipe's `model.keras`)."""
    return settings.build_path(project) / "checkpoints" / slug


def load_path(project: Project, loaded: LoadedSpec, settings: BuildSettings) -> Path:
    """What `source.load` names: a file or folder of the project, or another model's artifact."""
    load = loaded.spec.source.load
    assert load is not None
    if load.file is not None:
        return resolve_file(project, loaded.path, load.file, field="source.load.file", kind=load_file_kind(load))
    if load.hub is not None:
        return hub_reference(loaded).folder
    assert load.published is not None
    folder = published_artifact(project, settings, load.published)
    if load_file_kind(load) == "folder":
        return folder
    suffix = format_named(load.format).suffix  # a recipe writes `model` + its format's (first) ending
    return folder / ("model" + (suffix[0] if isinstance(suffix, tuple) else suffix or ".safetensors"))


def hub_reference(loaded: LoadedSpec) -> HubSnapshot:
    """The cached Hub snapshot a spec's `source.load.hub` names."""
    load = loaded.spec.source.load
    assert load is not None and load.hub is not None and load.revision is not None
    return hub_snapshot(load.hub, load.revision, where=f"{loaded.path}: source.load.hub")


def _hub_facts(loaded: LoadedSpec) -> HubFacts | None:
    load = loaded.spec.source.load
    if load is None or load.hub is None:
        return None
    snapshot = hub_reference(loaded)
    return HubFacts(
        repo_id=snapshot.repo_id,
        requested=snapshot.requested,
        commit=snapshot.commit,
        url=snapshot_url(snapshot.repo_id, snapshot.commit),
    )


def training_content_facts(spec: ModelSpec) -> TrainingContentFacts:
    """The spec's declarations for the EU public summary of training content."""
    declared = spec.training_content
    provider = declared.provider or spec.owners[0]
    return TrainingContentFacts(
        provider=provider.name,
        provider_contact=provider.contact,
        latest_acquisition=declared.latest_acquisition,
        crawler=declared.crawler,
        opt_out_policy=declared.opt_out_policy,
        illegal_content_measures=declared.illegal_content_measures,
        other_processing=declared.other_processing,
    )


def card_facts(spec: ModelSpec) -> CardFacts:
    """The prose half of the model card, as the spec declares it."""
    return CardFacts(
        name=spec.name,
        version=spec.version,
        date=spec.date.isoformat() if spec.date else None,
        description=spec.description,
        task=spec.task,
        owners=[Owner(name=o.name, contact=o.contact) for o in spec.owners],
        license=spec.license,
        intended_uses=spec.intended_uses,
        out_of_scope_uses=spec.out_of_scope_uses,
        limitations=spec.limitations,
        ethical_considerations=spec.ethical_considerations,
        intended_users=spec.intended_users,
    )


def openness_facts(spec: ModelSpec, facts: FactsRecord) -> OpennessFacts:
    """The openness class, from what the spec declares released and what the record publishes:
    evaluation results are released when its tasks publish any figure (the same list the exports
    carry), sample outputs when the card shows a language model's answers. The one place this is
    decided, for fresh and cached facts alike."""
    from reporter.tasks import figures_of

    language = facts.language_model
    return assess_openness(
        declared=spec.openness,
        model_license=spec.license,
        data=facts.data,
        evaluation_reported=bool(figures_of(facts)),
        samples_published=isinstance(language, LanguageModelFacts) and not isinstance(language.samples, NotReported),
    )


def _declared_compute(facts: FactsRecord, spec: ModelSpec) -> ComputeFacts | NotReported:
    """Compute facts with the spec's declarations applied: carbon from its grid intensity, and a
    loaded model's original training compute (the spec's, else its training log's)."""
    from reporter.extract.compute import declared_training

    compute = facts.compute
    if isinstance(compute, ComputeFacts) and not isinstance(compute.training, PhaseComputeFacts):
        log = facts.training if isinstance(facts.training, DeclaredTrainingFacts) else None
        compute = compute.model_copy(update={"training": declared_training(spec.compute.training, log)})
    return with_carbon(compute, spec.compute.grid)


def with_declarations(facts: FactsRecord, spec: ModelSpec) -> FactsRecord:
    """Facts with the spec's current card prose, openness, compute declarations and license check
    (a weight file's declared license against the spec's), read back through JSON so that fresh and cached facts
    serialise alike.

    A model job and the driver's cache both end here: editing an intended use or a released
    component must not retrain a model that took minutes to train, and the figures the openness
    class is assessed from must be the record's own.
    """
    update = {
        "card": card_facts(spec),
        "training_content": training_content_facts(spec),
        "weights": with_spec_license(facts.weights, spec.license),
    }
    declared = facts.model_copy(update=update)
    declared = declared.model_copy(update={"compute": _declared_compute(declared, spec)})
    declared = declared.model_copy(update={"openness": openness_facts(spec, declared)})
    return FactsRecord.model_validate_json(declared.to_json())


def compute_facts(project: Project, loaded: LoadedSpec, **options: Any) -> FactsRecord:
    """Compute one model's facts; a model-file error gains the spec and field that named the file."""
    try:
        return _compute_facts(project, loaded, **options)
    except ModelFileError as exc:
        raise _located(exc, loaded) from None


def check_inputs(project: Project, loaded: LoadedSpec, settings: BuildSettings) -> None:
    """Read and check everything the spec's model will be measured on, as a build does before it
    trains or loads the model (tables, columns, labels, given predictions' columns, each measuring
    task's inputs), and touch no model: what `reporter check` adds to validating the spec.

    Raises:
        InputError: naming the file, the field and the fix, as the build would.
    """
    progress = JobProgress(loaded.slug, epochs=None, send=lambda event: None)
    checkpoint_dir = published_artifact(project, settings, loaded.slug)
    inputs = _read_inputs(_Job(project, loaded, "cpu", settings, progress, checkpoint_dir))
    evaluation, table = loaded.spec.labelled_evaluation, inputs.predictions_table or inputs.eval_table
    if inputs.evaluation_data is not None and evaluation is not None and table is not None:
        check_given_predictions(table, evaluation, spec_path=loaded.path)
    load = loaded.spec.source.load
    if load is not None and load.published is None:  # an artifact this project publishes may not exist yet
        from reporter.loaders.base import check_model_files

        try:
            check_model_files(loaded, load_path(project, loaded, settings))
        except ModelFileError as exc:
            raise _located(exc, loaded) from None


def _located(exc: ModelFileError, loaded: LoadedSpec) -> ModelFileError:
    """A model-file error that names the spec and the field that named the file."""
    if str(exc).startswith(str(loaded.path)):
        return exc
    field = "source.load.file" if loaded.spec.source.load else "source.train"
    return ModelFileError(f"{loaded.path}: {field}: {exc}")


def _group_rules(evaluation: Evaluation, settings: BuildSettings) -> dict[str, Any]:
    """The group-size rules, thresholds and bootstrap size every fairness extractor takes."""
    return {
        "min_group_size": evaluation.min_group_size,
        "privacy_threshold": evaluation.privacy_threshold,
        "ratio_threshold": evaluation.ratio_threshold,
        "reference_groups": evaluation.reference_groups,
        "samples": settings.bootstrap_samples,
    }


def _predictions_table(project: Project, loaded: LoadedSpec, eval_table: Table | None) -> Table | None:
    """The spec's predictions file, cut to the evaluation rows, when the predictions are not in the
    evaluation data itself.

    Raises:
        DataError: its rows do not match the evaluation file's, or it lacks the named column.
    """
    evaluation = loaded.spec.labelled_evaluation
    if evaluation is None or evaluation.predictions_file is None or eval_table is None:
        return None
    field = "evaluation.predictions_file"
    path = resolve_file(project, loaded.path, evaluation.predictions_file, field=field, kind="file")
    table = eval_table.aligned(path, spec_path=loaded.path, field=field)
    for column_field, [column] in prediction_columns(evaluation, in_predictions_file=True):
        if column not in table.frame.columns:
            raise DataError(
                f"{loaded.path}: {column_field}: column {column!r} is not in the predictions file {path}. "
                f"Fix: use one of its columns {', '.join(map(str, table.frame.columns))}"
            )
    return table


EXPLANATION_BOOTSTRAP_SAMPLES = 200
"""Resamples for the importance intervals (at most): each resample recomputes the headline metric
for every column, repeat and group, which at 1,000 took 10 s per Adult MLP against 2 s at 200."""
NOT_RUN = "the build does not run this model (its predictions were computed elsewhere), so it cannot shuffle its inputs"


def _explanations(
    loaded: LoadedSpec,
    data: LabelledData | None,
    outcome: RunOutcome,
    *,
    settings: BuildSettings,
    progress: JobProgress,
) -> ExplanationFacts | NotReported:
    """Permutation importance of every input column (overall and per group) on the spec's sample
    of evaluation rows, the proxies of each sensitive feature among the inputs (all rows), and a
    text model's token attributions per column (its own sample)."""
    evaluation = loaded.spec.labelled_evaluation
    if data is None or evaluation is None:
        return NotReported(not_reported=NO_LABELLED_ROWS)
    not_explained = labelled_task(evaluation.task).not_explained
    if not_explained:
        return NotReported(not_reported=not_explained)
    options = loaded.spec.explanations
    importance: Any = NotReported(not_reported=NOT_RUN)
    if outcome.score_rows is not None:
        chosen = explained_rows(len(data.labels), sample=options.rows, seed=options.seed)
        importance = extract_permutation_importance(
            outcome.score_rows,
            features=data.features.iloc[chosen],
            labels=data.labels[chosen],
            sensitive=data.sensitive.iloc[chosen],
            metric=labelled_task(evaluation.task).importance_metric(data.classes),
            repeats=options.repeats,
            seed=options.seed,
            sampled=len(chosen) < len(data.labels),
            min_group_size=evaluation.min_group_size,
            privacy_threshold=evaluation.privacy_threshold,
            samples=min(settings.bootstrap_samples, EXPLANATION_BOOTSTRAP_SAMPLES),
            on_progress=progress.throttled(
                f"  {loaded.slug}: explanations, scored {{done:,}} of {{total:,}} shuffled rows"
            ),
        )
    proxies: Any = NotReported(not_reported="the spec names no sensitive features")
    if evaluation.sensitive_features:
        proxies = extract_proxies(data.features, data.sensitive, samples=settings.bootstrap_samples, seed=options.seed)
    return ExplanationFacts(
        importance=importance,
        proxies=proxies,
        proxy_threshold=PROXY_THRESHOLD,
        attributions=_token_attributions(loaded, data, outcome, settings=settings),
    )


def _token_attributions(
    loaded: LoadedSpec, data: LabelledData, outcome: RunOutcome, *, settings: BuildSettings
) -> TokenAttributionFacts | NotReported:
    from reporter.runners.attributions import BASELINE, COMPLETENESS_TOLERANCE, METHOD

    options = loaded.spec.explanations
    if outcome.attribute_rows is None:
        return NotReported(not_reported="the model reads no text; token attributions are measured for language models")
    if options.attribution_rows == 0:
        return NotReported(not_reported="the spec sets `explanations.attribution_rows: 0`")
    chosen = explained_rows(len(data.labels), sample=options.attribution_rows, seed=options.seed)
    found = checked_attributions(
        outcome.attribute_rows(data.features.iloc[chosen]),
        rows=len(chosen),
        columns=len(data.features.columns),
        where=f"{loaded.path}: {'source.train.recipe' if loaded.spec.source.train else 'source.load'}",
    )
    if isinstance(found, NotReported):
        return found
    return extract_token_attributions(
        found,
        row_positions=chosen.tolist(),
        columns=[str(c) for c in data.features.columns],
        method=METHOD,
        baseline=BASELINE,
        tolerance=COMPLETENESS_TOLERANCE,
        seed=options.seed,
        samples=settings.bootstrap_samples,
    )


NO_GUARANTEE = "trained without a formal privacy guarantee (no differential privacy)"


def _privacy(
    loaded: LoadedSpec,
    train: LabelledData | None,
    evaluation: LabelledData | None,
    outcome: RunOutcome,
    *,
    settings: BuildSettings,
) -> PrivacyFacts | NotReported:
    """The loss-threshold membership attack: the model's losses on a sample of the rows it was
    fitted on against as many held-out evaluation rows (whose scores the build already has)."""
    spec_evaluation = loaded.spec.labelled_evaluation
    if loaded.spec.source.train is None:
        return NotReported(not_reported=LOADED_NOT_AUDITED)
    if train is None or evaluation is None or spec_evaluation is None:
        return NotReported(not_reported=NO_LABELLED_ROWS)
    if outcome.score_rows is None or outcome.trained_rows is None or outcome.evaluation_scores is None:
        return NotReported(not_reported="the recipe gives no way to score training rows")
    options = loaded.spec.privacy
    size = min(options.rows, len(outcome.trained_rows), len(evaluation.labels))
    members = np.sort(np.random.default_rng(options.seed).choice(outcome.trained_rows, size=size, replace=False))
    nonmembers = explained_rows(len(evaluation.labels), sample=size, seed=options.seed)
    loss = labelled_task(spec_evaluation.task).membership_loss
    member_scores = np.asarray(outcome.score_rows(train.features.iloc[members]), dtype=np.float64)
    membership = extract_membership_inference(
        loss=loss.name,
        member_losses=loss.compute(train.labels[members], member_scores),
        nonmember_losses=loss.compute(evaluation.labels[nonmembers], outcome.evaluation_scores[nonmembers]),
        sensitive=pd.concat([train.sensitive.iloc[members], evaluation.sensitive.iloc[nonmembers]], ignore_index=True),
        classes=np.r_[train.labels[members], evaluation.labels[nonmembers]].astype(np.int64) if loss.by_class else None,
        class_names=(evaluation.classes or ["negative", "positive"]) if loss.by_class else None,
        min_group_size=spec_evaluation.min_group_size,
        privacy_threshold=spec_evaluation.privacy_threshold,
        samples=settings.bootstrap_samples,
        seed=options.seed,
    )
    guarantee = outcome.guarantee or NotReported(not_reported=NO_GUARANTEE)
    return PrivacyFacts(membership=membership, guarantee=guarantee)


def _read_role(project: Project, loaded: LoadedSpec, role: str) -> Table | None:
    for index, source in enumerate(loaded.spec.data):
        if source.role == role and source.file is not None:
            path = resolve_file(
                project, loaded.path, source.file, field=f"data.{index}.file", kind=data_file_kind(source)
            )
            columns = source.columns_file
            more = (
                None
                if columns is None
                else resolve_file(
                    project, loaded.path, columns.file, field=f"data.{index}.columns_file.file", kind="file"
                )
            )
            evaluation = loaded.spec.labelled_evaluation
            return read_table(
                source,
                path,
                spec_path=loaded.path,
                field=f"data.{index}",
                columns_path=more,
                image_layout=evaluation.image if evaluation else None,
            )
    return None


@dataclass(frozen=True)
class _Job:
    """What every step of one model's computation needs."""

    project: Project
    loaded: LoadedSpec
    device: str
    settings: BuildSettings
    progress: JobProgress
    checkpoint_dir: Path
    reported_inference: list[InferenceFacts] = field(default_factory=list)
    """How a task ran the model over its evaluation data, when the task runs it (a tagger)."""

    def resolve(self, ref: Any, field_name: str) -> Path:
        """A file the spec names, confined to the project (or its package)."""
        kinds = {named.field: named.kind for named in SpecFiles.of(self.loaded).file_refs()}
        return resolve_file(self.project, self.loaded.path, ref, field=field_name, kind=kinds.get(field_name))


@dataclass(frozen=True)
class _Inputs:
    """A model's data, read and checked before any model is touched."""

    train_table: Table | None
    eval_table: Table | None
    predictions_table: Table | None
    train_data: LabelledData | Sentences | None
    """What a model trained in the build is fitted on: labelled rows, or tagged sentences for a
    recipe that fits those."""
    evaluation_data: LabelledData | None
    """Labelled evaluation rows (a classifier or regressor)."""
    measuring: list[_MeasuringTask]
    """The measuring tasks the spec names, each with the inputs it read."""
    training_log: DeclaredTrainingFacts | None = None
    """What the training log of a model trained elsewhere declares, when the spec names one."""


@dataclass(frozen=True)
class _MeasuringTask:
    """A task that measures the model through the task interface (sentence embeddings, and every
    task another package adds), what it may use of the build, and the inputs it read."""

    task: MeasuringTask
    section: TaskSection
    context: TaskContext
    inputs: Any

    def evaluate(self, outcome: RunOutcome) -> EvaluationFacts:
        """The task's evaluation of the model (its facts family, checked to be the one it declares).

        Raises:
            ModelFileError: the model was not bound for a capability the task needs (a recipe
                that gives no such function; a format from another package that does not bind
                what it offers).
        """
        missing = sorted(need for need in self.task.needs(self.section) if not outcome.offers(need))
        if missing:
            raise ModelFileError(
                f"{self.context.spec_path}: {self.context.section_field}.task: task {self.task.name} needs a model "
                f"that can {' and '.join(CAPABILITY_TEXT.get(need, need) for need in missing)}, and this one, "
                f"as trained or loaded, cannot. Fix: load the model in a format that can, or remove the "
                f"`task: {self.task.name}` section"
            )
        facts = self.task.evaluate(outcome, self.inputs, self.context)
        if not isinstance(facts, self.task.facts) or facts.kind != self.task.name:
            raise TypeError(
                f"task {self.task.name} returned {type(facts).__name__} (kind {getattr(facts, 'kind', None)!r}); "
                f"its evaluate() must return its declared {self.task.facts.__name__} of kind {self.task.name!r}"
            )
        return facts


def _measuring_tasks(job: _Job, train_table: Table | None, eval_table: Table | None) -> list[_MeasuringTask]:
    """Each section of a measuring task, in the registry's order, with its inputs read before the
    model is touched."""
    sections = {section.task: section for section in job.loaded.spec.evaluation}
    found = []
    for task in measuring_tasks():
        if task.name not in sections:
            continue
        section = sections[task.name]
        context = TaskContext(
            spec_path=job.loaded.path,
            slug=job.loaded.slug,
            section_field=job.loaded.spec.section_field(section),
            evaluation_table=eval_table,
            train_table=train_table,
            samples=job.settings.bootstrap_samples,
            device=job.device,
            resolve=job.resolve,
            progress=job.progress.message,
            throttled=job.progress.throttled,
            report_inference=job.reported_inference.append,
            full_benchmarks=job.settings.full_benchmarks,
        )
        found.append(_MeasuringTask(task, section, context, task.read_inputs(section, context)))
    return found


def _read_inputs(job: _Job) -> _Inputs:
    """The spec's tables, labelled rows (classes found across every file) and the measuring tasks'
    inputs."""
    loaded, spec = job.loaded, job.loaded.spec
    train_table = _read_role(job.project, loaded, "train")
    eval_table = _read_role(job.project, loaded, "evaluation")
    predictions_table = _predictions_table(job.project, loaded, eval_table)
    classes = None
    if spec.labelled_evaluation and spec.labelled_evaluation.task in MULTICLASS_TASKS:
        read = [t for t in (train_table, eval_table, predictions_table) if t is not None]
        classes = class_names(read, spec.labelled_evaluation)

    def labelled(table: Table | None) -> LabelledData | None:
        evaluation = spec.labelled_evaluation
        if table is None or evaluation is None or measuring_task(evaluation.task) is not None:
            return None  # a task that measures the model itself reads its own rows (a tagger's sentences)
        return label_data(table, evaluation, spec_path=loaded.path, classes=classes)

    evaluation_data = labelled(eval_table)  # checked first: its problems are the ones a user sees first
    return _Inputs(
        train_table=train_table,
        eval_table=eval_table,
        predictions_table=predictions_table,
        train_data=_training_data(job, train_table, labelled),
        evaluation_data=evaluation_data,
        measuring=_measuring_tasks(job, train_table, eval_table),
        training_log=_training_log(job),
    )


def _training_log(job: _Job) -> DeclaredTrainingFacts | None:
    """The training log a loaded model's spec names, imported before the model is touched."""
    load = job.loaded.spec.source.load
    if load is None or load.training_log is None:
        return None
    from reporter.training_logs import import_training_log

    field_name = "source.load.training_log.file"
    declared = import_training_log(
        load.training_log.format,
        job.resolve(load.training_log.file, field_name),
        where=f"{job.loaded.path}: {field_name}",
        named=load.training_log.file.path,
        run=load.training_log.run,
    )
    if load.training_log.compare:
        from reporter.training_logs.compare import check_comparisons

        evaluation = job.loaded.spec.labelled_evaluation
        labelled = evaluation is not None and measuring_task(evaluation.task) is None
        metrics = labelled_task(evaluation.task).overall_metrics if labelled and evaluation else ()
        where = f"{job.loaded.path}: source.load.training_log"
        check_comparisons(declared, load.training_log.compare, metrics=metrics, where=where)
    return declared


def _training_data(
    job: _Job, table: Table | None, labelled: Callable[[Table | None], LabelledData | None]
) -> LabelledData | Sentences | None:
    """What the spec's recipe fits, checked before it runs: tagged sentences for a recipe that fits
    those, labelled rows for the others; None when the model is loaded."""
    train, evaluation = job.loaded.spec.source.train, job.loaded.spec.labelled_evaluation
    if train is None or table is None:
        return None
    if train.recipe in SENTENCE_RECIPES and evaluation is not None:
        return tagged_sentences(table, evaluation, spec_path=job.loaded.path)
    return labelled(table)


def _run_model(job: _Job, inputs: _Inputs, meter: JobMeter) -> RunOutcome:
    """Train or load the model the spec names, bound for what its tasks need: ``meter`` meters a
    recipe as training and what follows it as evaluation; a loaded model is all evaluation."""
    loaded, train = job.loaded, inputs.train_data
    if isinstance(train, Sentences):
        from reporter.runners.train_tagger import train_tagger

        return train_tagger(
            loaded,
            train.tokens,
            train.tags,
            device=job.device,
            checkpoint_dir=job.checkpoint_dir,
            resolve=job.resolve,
            on_epoch=job.progress.epoch,
            on_step=job.progress.steps(),
            meter=meter,
        )
    if train is not None:
        from reporter.runners.train import run_training

        assert inputs.evaluation_data is not None
        return run_training(
            loaded,
            train=train,
            evaluation=inputs.evaluation_data,
            device=job.device,
            checkpoint_dir=job.checkpoint_dir,
            resolve=job.resolve,
            on_epoch=job.progress.epoch,
            on_step=job.progress.steps(),
            meter=meter,
        )
    from reporter.loaders.base import load_model

    meter.begin("evaluation")
    return load_model(
        loaded,
        path=load_path(job.project, loaded, job.settings),
        device=job.device,
        convert_dir=job.checkpoint_dir,
        needs=needed_capabilities(loaded.spec),
        evaluation=inputs.evaluation_data,
        on_progress=lambda done, total: job.progress.message(f"  {loaded.slug}: scored {done:,} of {total:,} rows"),
        resolve=job.resolve,
    )


LANGUAGE_OVERLAP = (
    "a language model's evaluation documents are compared with the training text by word n-grams, in its "
    "language-model section"
)
NO_OVERLAP = (
    "overlap is measured between the labelled rows (or tagged sentences) of a training and an evaluation table, "
    "and this spec has no such pair"
)


def _scored_rows(job: _Job, inputs: _Inputs, outcome: RunOutcome) -> ScoredRows | None:
    """The labelled evaluation rows and the model's outputs for them; None when the model has none."""
    data, evaluation, table = inputs.evaluation_data, job.loaded.spec.labelled_evaluation, inputs.eval_table
    if data is None or evaluation is None or table is None:
        return None
    if outcome.evaluation_scores is None and not (evaluation.scores_column or evaluation.predictions_column):
        raise DataError(f"{job.loaded.path}: the model produced no evaluation scores. Fix: check the recipe")
    return ScoredRows(
        spec_path=job.loaded.path,
        evaluation=evaluation,
        table=inputs.predictions_table or table,
        data=data,
        outputs=outcome.evaluation_scores,
        samples=job.settings.bootstrap_samples,
        group_rules=_group_rules(evaluation, job.settings) if evaluation.sensitive_features else None,
    )


def _labelled_evaluation(rows: ScoredRows | None) -> LabelledEvaluation | None:
    """Performance and fairness on labelled evaluation rows; None when the model has none."""
    return None if rows is None else labelled_task(rows.evaluation.task).evaluate(rows)


def _overlap(
    job: _Job,
    inputs: _Inputs,
    rows: ScoredRows | None,
    labelled: LabelledEvaluation | None,
    recorder: TagRecorder | None,
) -> OverlapFacts | NotReported:
    """How many evaluation rows (or a tagger's sentences) also occur in the training source, and
    the figures without them; why not, when the spec holds no training and evaluation pair."""
    if any(m.task.name == "text_generation" for m in inputs.measuring):
        return NotReported(not_reported=LANGUAGE_OVERLAP)
    if inputs.train_table is None or inputs.eval_table is None:
        return NotReported(not_reported=NO_OVERLAP)
    sources = (inputs.train_table.source.id, inputs.eval_table.source.id)
    tagging = next((m for m in inputs.measuring if m.task.name == "token_classification"), None)
    if tagging is not None and recorder is not None:
        return _sentence_overlap(job, inputs, tagging, recorder, sources)
    if rows is None or labelled is None:
        return NotReported(not_reported=NO_OVERLAP)
    from reporter.extract.overlap import extract_overlap
    from reporter.tasks.figures import interval_figures

    def overall(performance: object) -> dict[str, Interval]:
        figures = interval_figures(performance, feature=None, group=None)
        return {f.metric: Interval(value=f.value, low=f.low, high=f.high) for f in figures}

    task = labelled_task(rows.evaluation.task)
    train = label_data(inputs.train_table, rows.evaluation, spec_path=job.loaded.path, classes=rows.data.classes)
    text_column = rows.evaluation.text_column
    job.progress.message(f"  {job.loaded.slug}: train-test overlap")
    return extract_overlap(
        train,
        rows.data,
        sources=sources,
        headline=overall(labelled.performance),
        figures_on=lambda kept: overall(task.evaluate(rows.subset(kept)).performance),
        text_column=text_column if text_column in rows.data.features.columns else None,
        privacy_threshold=rows.evaluation.privacy_threshold,
        on_progress=job.progress.throttled(f"  {job.loaded.slug}: near-duplicates, {{done:,}} of {{total:,}} texts"),
    )


def _sentence_overlap(
    job: _Job, inputs: _Inputs, tagging: _MeasuringTask, recorder: TagRecorder, sources: tuple[str, str]
) -> OverlapFacts:
    """A tagger's evaluation sentences against its training sentences, scored from the recorded tags."""
    from reporter.tasks.token_classification_overlap import sentence_overlap

    section = tagging.inputs.section
    assert inputs.train_table is not None and section.tokens_column is not None
    train = inputs.train_data
    if not isinstance(train, Sentences):
        train = tagged_sentences(inputs.train_table, section, spec_path=job.loaded.path)
    job.progress.message(f"  {job.loaded.slug}: train-test overlap")
    return sentence_overlap(
        train,
        tagging.inputs.evaluation,
        recorder,
        column=section.tokens_column,
        sources=sources,
        samples=job.settings.bootstrap_samples,
        on_progress=job.progress.throttled(f"  {job.loaded.slug}: near-duplicates, {{done:,}} of {{total:,}} texts"),
    )


def _evaluations(job: _Job, inputs: _Inputs, outcome: RunOutcome, rows: ScoredRows | None) -> list[EvaluationFacts]:
    """Every task's evaluation of the model, in the task registry's order (an image classifier's
    example images with the occlusion maps of the model the build runs)."""
    labelled = _labelled_evaluation(rows)
    if isinstance(labelled, ImageClassificationEvaluation) and outcome.score_rows is not None and rows is not None:
        from reporter.extract.image_attributions import with_occlusion_maps

        labelled = with_occlusion_maps(
            labelled,
            outcome.score_rows,
            [str(c) for c in rows.data.features.columns],
            on_progress=job.progress.throttled(
                f"  {job.loaded.slug}: occlusion maps, {{done:,}} of {{total:,}} images"
            ),
        )
    found: list[EvaluationFacts | None] = [labelled]
    found.extend(measuring.evaluate(outcome) for measuring in inputs.measuring)
    return [evaluation for evaluation in found if evaluation is not None]


def _audits(job: _Job, inputs: _Inputs, outcome: RunOutcome, *, evaluated: bool) -> tuple[Any, Any]:
    """Explanations and the membership-inference audit, each run on the evaluation rows that were
    measured (``evaluated``), or why it is not run: without labelled rows, the reasons the model's
    tasks give (a tagger's rows are sentences; an encoder's are word sets)."""
    if not evaluated:
        tasks = [measuring.task for measuring in inputs.measuring]
        not_explained = next((task.not_explained for task in tasks if task.not_explained), None)
        not_audited = next((task.not_audited for task in tasks if task.not_audited), None)
        if not_explained and not_audited:
            return NotReported(not_reported=not_explained), NotReported(not_reported=not_audited)
    measured = inputs.evaluation_data if evaluated else None
    train = inputs.train_data if isinstance(inputs.train_data, LabelledData) else None
    explanations = _explanations(job.loaded, measured, outcome, settings=job.settings, progress=job.progress)
    return explanations, _privacy(job.loaded, train, measured, outcome, settings=job.settings)


def _text_columns(spec: ModelSpec) -> list[str]:
    """The columns the spec declares free text: a text classifier's input, a tagger's sentences, a
    language model's documents."""
    columns = []
    evaluation, language = spec.labelled_evaluation, spec.language_model
    if evaluation is not None and evaluation.text_column:
        columns.append(evaluation.text_column)
    if evaluation is not None and evaluation.task == "token_classification" and evaluation.tokens_column:
        columns.append(evaluation.tokens_column)
    if language is not None and language.perplexity is not None:
        columns.append(language.perplexity.text_column)
    return columns


def _data_sources(spec: ModelSpec, tables: dict[str, Table], outcome: RunOutcome) -> list[DataSourceFacts]:
    """Every source's datasheet facts, with the composition of those the build read."""
    from reporter.extract.composition import extract_composition

    language = outcome.language
    tokens = (language.tokenizer, language.count_tokens) if language is not None else None
    found = []
    for source in spec.data:
        table = tables.get(source.id)
        images = spec.labelled_evaluation is not None and spec.labelled_evaluation.task == "image_classification"
        composition = (
            extract_composition(table.frame, _text_columns(spec), tokens, images=images) if table is not None else None
        )
        found.append(extract_data_source(source, table, spec.labelled_evaluation, composition=composition))
    return found


def _reads_text(outcome: RunOutcome) -> bool:
    """Whether the model reads text (its inputs are tokens, which the FLOP estimates count)."""
    text_capabilities = (outcome.attribute_rows, outcome.language, outcome.tag_words, outcome.embed_text)
    loaded_text = isinstance(outcome.inference, InferenceFacts) and outcome.inference.max_length is not None
    return loaded_text or any(capability is not None for capability in text_capabilities)


def _compute(job: _Job, inputs: _Inputs, outcome: RunOutcome, meter: JobMeter, weights: WeightFacts) -> ComputeFacts:
    """The machine, and what training and evaluation cost, from the meter's readings."""
    from reporter.extract.compute import NOT_TRAINED, evaluation_estimate, phase_facts, training_estimate

    reads_text, readings = _reads_text(outcome), meter.readings
    training: Any = NotReported(not_reported=NOT_TRAINED)  # declarations are applied by with_declarations
    if "training" in readings and isinstance(outcome.training, TrainingFacts):
        epochs = len(outcome.training.history)
        trained_rows = outcome.training.train_rows
        estimate = training_estimate(
            parameters=weights.parameters_trainable, rows=trained_rows, epochs=epochs, reads_text=reads_text
        )
        training = phase_facts(readings["training"], device=job.device, epochs=epochs, estimate=estimate)
    rows = len(inputs.evaluation_data.labels) if inputs.evaluation_data is not None else 0
    estimate = (
        evaluation_estimate(parameters=weights.parameters_total, rows=rows, reads_text=reads_text)
        if rows
        else (None, "no estimate: the model has no labelled evaluation rows to count")
    )
    return ComputeFacts(
        hardware=hardware_facts(job.device),
        training=training,
        evaluation=phase_facts(readings["evaluation"], device=job.device, epochs=1, estimate=estimate),
    )


def _compute_facts(
    project: Project,
    loaded: LoadedSpec,
    *,
    device: str,
    key: str,
    settings: BuildSettings,
    progress: JobProgress,
    checkpoint_dir: Path,
    project_commit: str | None,
) -> FactsRecord:
    """Read the inputs, run the model, measure it, and assemble the record."""
    spec = loaded.spec
    job = _Job(project, loaded, device, settings, progress, checkpoint_dir)
    inputs = _read_inputs(job)
    meter = JobMeter(device)
    try:
        outcome, recorder = recording_tags(_run_model(job, inputs, meter))
        rows = _scored_rows(job, inputs, outcome)
        evaluations = _evaluations(job, inputs, outcome, rows)
        labelled_evaluation = next((e for e in evaluations if isinstance(e, LabelledEvaluation)), None)
        overlap = _overlap(job, inputs, rows, labelled_evaluation, recorder)
        if job.reported_inference:
            outcome = replace(outcome, inference=job.reported_inference[0])
        labelled = any(evaluation.kind in LABELLED_KINDS for evaluation in evaluations)
        explanations, privacy = _audits(job, inputs, outcome, evaluated=labelled)
        weights = extract_weights(
            outcome.weight_files,
            parameter_names=outcome.parameter_names,
            trainable_names=outcome.trainable_names,
            options=settings.weight_options(device),
            spec_license=spec.license,
        )
        meter.end()
    finally:
        meter.close()
    tables = {t.source.id: t for t in (inputs.train_table, inputs.eval_table) if t is not None}
    record = FactsRecord(
        slug=loaded.slug,
        card=card_facts(spec),
        architecture=outcome.architecture,
        training=inputs.training_log or outcome.training,
        weights=weights,
        data=_data_sources(spec, tables, outcome),
        sensitive_features=spec.labelled_evaluation.sensitive_features if spec.labelled_evaluation else [],
        evaluations=evaluations,
        inference=outcome.inference,
        explanations=explanations,
        privacy=privacy,
        openness=NotReported(not_reported="assessed from the record's own figures (with_declarations)"),
        provenance=extract_provenance(device=device, cache_key=key, project_commit=project_commit),
        hub=_hub_facts(loaded),
        overlap=overlap,
        compute=_compute(job, inputs, outcome, meter, weights),
    )
    if spec.source.load and spec.source.load.training_log:
        from reporter.training_logs.compare import with_log_comparisons

        where = f"{loaded.path}: source.load.training_log"
        record = with_log_comparisons(record, spec.source.load.training_log.compare, where=where)
    return with_declarations(record, spec)
