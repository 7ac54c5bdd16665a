"""The whole spec of one model, and a validated spec together with where it came from."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from reporter.spec.compute import Compute, GridIntensity
from reporter.spec.evaluation import ROWS_TASKS, Evaluation, EvaluationSection, compatible_tasks, one_or_many
from reporter.spec.measurements import EmbeddingBias, Explanations, LanguageModel, NameProbe, Openness, Privacy
from reporter.spec.sections import SLUG_PATTERN, DataSource, Distinct, Owner, Source, SpecModel
from reporter.spec.training_content import TrainingContent


class ModelSpec(SpecModel):
    """Everything the author declares about one model."""

    name: str = Field(min_length=1, max_length=200, description="The model's name, as the card and catalog show it.")
    version: str = Field(min_length=1, description="This release's version (any text, e.g. `1.0.0`).")
    date: datetime.date | None = Field(default=None, description="Release date of this version (YYYY-MM-DD).")
    description: str = Field(min_length=1, description="What the model is and how it was made, in a few sentences.")
    owners: Annotated[list[Owner], Distinct] = Field(min_length=1, description="Who answers for the model.")
    license: str = Field(
        min_length=1, description="The model's license, ideally an SPDX identifier (e.g. `Apache-2.0`)."
    )
    intended_uses: Annotated[list[str], Distinct] = Field(
        min_length=1, description="What the model is for, one sentence each."
    )
    out_of_scope_uses: Annotated[list[str], Distinct] = Field(
        min_length=1, description="Uses the model must not be put to, one sentence each."
    )
    limitations: Annotated[list[str], Distinct] = Field(
        min_length=1, description="What the model does badly or was not tested on, one sentence each."
    )
    ethical_considerations: Annotated[list[str], Distinct] = Field(
        default_factory=list, description="Risks and harms a reader should weigh, one sentence each."
    )
    intended_users: Annotated[list[str], Distinct] = Field(
        default_factory=list, description="Who the model is for (e.g. 'fairness researchers')."
    )
    task: str = Field(min_length=1, description="What the model does, in a few words.")
    source: Source = Field(description="Where the model comes from: trained in the build, or loaded from files.")
    data: list[DataSource] = Field(
        default_factory=list, description="The data sources the model was trained or is evaluated on."
    )
    evaluation: Annotated[list[EvaluationSection], BeforeValidator(one_or_many), AfterValidator(compatible_tasks)] = (
        Field(
            default_factory=list,
            description="The task the model is evaluated for (`task:` and its fields), or a list of two: a "
            "classifier's section and `task: sentence_embedding` for its encoder's embedding bias.",
        )
    )
    privacy: Privacy = Field(
        default_factory=Privacy, description="Membership-inference audit settings for a model trained in the build."
    )
    explanations: Explanations = Field(
        default_factory=Explanations,
        description="Permutation importance settings (rows sampled, repeats, seed) for a model the build runs.",
    )
    allow_pickle: bool = Field(default=False, description="Allow PyTorch pickle checkpoints (loaded weights-only).")
    openness: Openness = Field(
        default_factory=Openness, description="Released components and their licenses (Model Openness Framework)."
    )
    training_content: TrainingContent = Field(
        default_factory=TrainingContent,
        description="What the EU public summary of training content asks that the build cannot measure, declared.",
    )
    compute: Compute = Field(
        default_factory=Compute,
        description="The grid's carbon intensity and a loaded model's original training compute, declared.",
    )

    @property
    def labelled_evaluation(self) -> Evaluation | None:
        """The section of the task evaluated on labelled rows (binary, multiclass, regression, token
        classification), if the model carries one."""
        return next((s for s in self.evaluation if isinstance(s, Evaluation) and s.task in ROWS_TASKS), None)

    @property
    def embedding_bias(self) -> EmbeddingBias | None:
        """The `sentence_embedding` task's section, if the model carries it."""
        return next((s for s in self.evaluation if isinstance(s, EmbeddingBias)), None)

    @property
    def language_model(self) -> LanguageModel | None:
        """The `text_generation` task's section, if the model carries it."""
        return next((s for s in self.evaluation if isinstance(s, LanguageModel)), None)

    def section_field(self, section: SpecModel | None) -> str:
        """Where ``section`` is written: `evaluation`, or `evaluation.N` when the spec lists several."""
        if len(self.evaluation) < 2 or section is None:
            return "evaluation"
        return f"evaluation.{next(i for i, s in enumerate(self.evaluation) if s is section)}"

    @property
    def name_probe(self) -> NameProbe | None:
        """The token classifier's name probe, if its section asks for one."""
        evaluation = self.labelled_evaluation
        return evaluation.name_probe if evaluation is not None else None


Slug = Annotated[str, Field(pattern=SLUG_PATTERN.pattern)]


class LoadedSpec(BaseModel):
    """A validated spec together with where it came from."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    slug: Slug
    path: Path
    spec: ModelSpec

    @property
    def folder(self) -> Path:
        """The model's folder, which relative paths in the spec start from."""
        return self.path.parent


def with_project_grid(loaded: LoadedSpec, grid: GridIntensity | None) -> LoadedSpec:
    """The spec with the project's grid intensity (the plugin's `grid:` option) when it declares
    none of its own: one declaration for every model built on the same machines."""
    if grid is None or loaded.spec.compute.grid is not None:
        return loaded
    compute = loaded.spec.compute.model_copy(update={"grid": grid})
    return loaded.model_copy(update={"spec": loaded.spec.model_copy(update={"compute": compute})})


PROJECT_WIDE_EVALUATION_FIELDS = ("min_group_size", "privacy_threshold", "ratio_threshold", "difference_threshold")


class FairnessDefaults(SpecModel):
    """Project-wide defaults (the plugin's `fairness:` option) for what a spec's evaluation leaves unset."""

    min_group_size: int | None = Field(default=None, ge=1)
    privacy_threshold: int | None = Field(default=None, ge=1)
    ratio_threshold: float | None = Field(default=None, gt=0, le=1)
    difference_threshold: float | None = Field(default=None, gt=0, le=1)

    def apply_to(self, loaded: LoadedSpec) -> LoadedSpec:
        """The spec with every threshold its evaluation does not set itself taken from these defaults."""
        evaluation = loaded.spec.labelled_evaluation
        if evaluation is None:
            return loaded
        unset = {
            name: getattr(self, name)
            for name in PROJECT_WIDE_EVALUATION_FIELDS
            if name not in evaluation.model_fields_set and getattr(self, name) is not None
        }
        if not unset:
            return loaded
        merged = Evaluation.model_validate({**evaluation.model_dump(exclude_unset=True), **unset})
        sections = [merged if section is evaluation else section for section in loaded.spec.evaluation]
        return loaded.model_copy(update={"spec": loaded.spec.model_copy(update={"evaluation": sections})})
