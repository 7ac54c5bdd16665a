"""The model spec (`models/<slug>/model.yaml`) and its loader.

A spec is untrusted input: it is parsed with YAML's safe loader (duplicate keys rejected), validated
by pydantic models that forbid unknown fields, and every problem becomes a
:class:`~reporter.errors.Problem` naming the file, the YAML line, the field and the fix, so one run
shows the author everything to change. One module per concern: the YAML source, the sections of
the model and its data, the measurement sections, the task sections of `evaluation:`, the whole
spec, the cross-section rules, the files it names, and loading.
"""

from __future__ import annotations

from reporter.spec.compute import GridIntensity
from reporter.spec.evaluation import (
    MULTICLASS_TASKS,
    ROWS_TASKS,
    SECTIONS_BY_TASK,
    Evaluation,
    EvaluationSection,
    ImageLayout,
    MovedSpelling,
    move_earlier_spellings,
)
from reporter.spec.files import HYPERPARAMETER_FOLDERS, NamedFile, SpecFiles, data_file_kind, load_file_kind
from reporter.spec.loading import TYPE_FIXES, load_spec, validation_problems
from reporter.spec.measurements import (
    NAME_TEMPLATES,
    PROBE_TEMPLATES,
    SEAT_TEMPLATES,
    BiasProbe,
    EmbeddingBias,
    Explanations,
    LanguageModel,
    MofComponent,
    NameProbe,
    Openness,
    Perplexity,
    Privacy,
    ReleasedComponent,
    TypeLicenses,
)
from reporter.spec.model import (
    PROJECT_WIDE_EVALUATION_FIELDS,
    FairnessDefaults,
    LoadedSpec,
    ModelSpec,
    Slug,
    with_project_grid,
)
from reporter.spec.rules import Add, cross_field_problems, needed_capabilities
from reporter.spec.sections import (
    SLUG_PATTERN,
    SPEC_FILENAME,
    CsvFormat,
    DataSource,
    Distinct,
    FileRef,
    LoadSource,
    Owner,
    Source,
    SpecModel,
    Split,
    TaskSection,
    TrainSource,
)
from reporter.spec.yaml_source import StrictSafeLoader, yaml_line, yaml_tree

__all__ = [
    "Add",
    "BiasProbe",
    "CsvFormat",
    "DataSource",
    "Distinct",
    "EmbeddingBias",
    "Evaluation",
    "EvaluationSection",
    "MovedSpelling",
    "MULTICLASS_TASKS",
    "ROWS_TASKS",
    "ImageLayout",
    "SECTIONS_BY_TASK",
    "Explanations",
    "FairnessDefaults",
    "GridIntensity",
    "with_project_grid",
    "FileRef",
    "HYPERPARAMETER_FOLDERS",
    "LanguageModel",
    "LoadSource",
    "LoadedSpec",
    "ModelSpec",
    "MofComponent",
    "NAME_TEMPLATES",
    "NameProbe",
    "NamedFile",
    "Openness",
    "Owner",
    "PROBE_TEMPLATES",
    "PROJECT_WIDE_EVALUATION_FIELDS",
    "Perplexity",
    "Privacy",
    "ReleasedComponent",
    "SEAT_TEMPLATES",
    "SLUG_PATTERN",
    "SPEC_FILENAME",
    "Slug",
    "Source",
    "SpecFiles",
    "SpecModel",
    "TaskSection",
    "Split",
    "StrictSafeLoader",
    "TYPE_FIXES",
    "TrainSource",
    "TypeLicenses",
    "cross_field_problems",
    "data_file_kind",
    "load_file_kind",
    "load_spec",
    "move_earlier_spellings",
    "needed_capabilities",
    "validation_problems",
    "yaml_line",
    "yaml_tree",
]
