"""A token classifier fine-tuned in the build by the `token_classifier` recipe: the same kind of
:class:`RunOutcome` as any trained or loaded model, with the recipe's tagging function bound as
its `tag_words` capability, so the token-classification task measures it as it measures a
recogniser loaded from its published folder.

The recipe fits tagged sentences, not labelled rows, so it is run here rather than through the
row recipes' :func:`reporter.runners.train.run_training`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reporter.facts import ArchitectureFacts, EpochFacts, NotReported, TrainingFacts
from reporter.runners.metering import JobMeter
from reporter.runners.outcome import RunOutcome, WordTagger
from reporter.spec import LoadedSpec

TAGGING_BATCH_SIZE = 32
SENTENCE_RECIPES = frozenset({"token_classifier"})
"""The built-in recipes that fit tagged sentences (the rest fit labelled rows)."""


def train_tagger(
    loaded: LoadedSpec,
    tokens: list[list[str]],
    tags: list[list[str]],
    *,
    device: str,
    checkpoint_dir: Path,
    resolve: Callable[[Any, str], Path],
    on_epoch: Callable[[EpochFacts], None],
    on_step: Callable[[int, int, int], None],
    meter: JobMeter | None = None,
) -> RunOutcome:
    """Fine-tune with the `token_classifier` recipe and publish the model as a transformers folder;
    ``meter`` meters the recipe as the training phase, and the evaluation phase begins after it."""
    from reporter.runners.device import seed_everything
    from reporter.runners.recipes import check_epoch, validate_hyperparameters
    from reporter.runners.token_classifier import TRAIN_FIGURES, tagging_function, train
    from reporter.runners.train import plain_hyperparameter, publish

    source = loaded.spec.source.train
    assert source is not None
    params = validate_hyperparameters(source)
    history: list[EpochFacts] = []
    counted = meter.after_first_epoch(on_epoch) if meter else on_epoch

    def report_epoch(record: EpochFacts) -> None:
        check_epoch(loaded.path, record)
        history.append(record)
        counted(record)

    seed_everything(source.seed)
    if meter:
        meter.begin("training")
    started = time.perf_counter()
    trained = train(
        tokens,
        tags,
        hyperparameters=params,
        base_model=resolve(params.base_model, "source.train.hyperparameters.base_model"),
        seed=source.seed,
        device=device,
        spec_path=loaded.path,
        report_epoch=report_epoch,
        report_step=on_step,
    )
    wall = time.perf_counter() - started
    if meter:
        meter.begin("evaluation")
    checkpoint = publish(checkpoint_dir, save=trained.save, module=trained.model)
    parameters = dict(trained.model.named_parameters())
    tag = tagging_function(
        trained.model, trained.tokenizer, trained.labels, max_length=params.max_length, batch_size=TAGGING_BATCH_SIZE
    )
    return RunOutcome(
        weight_files=[checkpoint],
        parameter_names=set(parameters),
        trainable_names={name for name, p in parameters.items() if p.requires_grad},
        architecture=ArchitectureFacts(
            source="train", recipe=source.recipe, module_class=type(trained.model).__name__, config=trained.architecture
        ),
        training=TrainingFacts(
            hyperparameters={k: plain_hyperparameter(v) for k, v in sorted(params.model_dump(mode="json").items())},
            optimizer=trained.optimizer,
            schedule=trained.schedule,
            seed=source.seed,
            train_rows=trained.train_rows,
            validation_rows=trained.validation_rows,
            history=history,
            train_figures=TRAIN_FIGURES,
            wall_seconds=round(wall, 3),
            device=device,
        ),
        evaluation_scores=None,
        inference=NotReported(not_reported="the tagging pass is reported by the token-classification task"),
        tag_words=WordTagger(tag=tag, labels=trained.labels),
    )
