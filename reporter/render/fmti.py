"""A model's scorecard against the Foundation Model Transparency Index, December 2025 edition.

The index (Stanford CRFM; indicator table in the public `stanford-crfm/fmti` repository,
`Dec2025/Dec2025_indicators.csv`) has 100 indicators in three domains: 34 upstream, 30 model, 36
downstream. Only their numbers (the table's row order), names, domains and a link travel with this
project; the one-line descriptions here are this project's own, and the index's definitions are
authoritative. 49 indicators are about what one model's report can disclose; each is read from
the facts record alone and gets *measured* (this build computed it), *declared* (the spec states
it; reporter cannot check it) or *missing* (with what would disclose it). The other 51 are about a
developer's organisation or products (labour, usage data from products, policies, downstream
impact) and are listed as out of scope, not scored.

Disclosure here is this report's own reading, not the index's scoring: the index awards a point
against its definitions and precision rules, which a reader should check on the linked page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from reporter.facts import (
    CompositionFacts,
    ComputeFacts,
    DataSourceFacts,
    DifferentialPrivacyFacts,
    DocumentOverlapFacts,
    EnergyFacts,
    FactsRecord,
    FairnessFacts,
    LanguageModelFacts,
    NotReported,
    OverlapFacts,
    PhaseComputeFacts,
    TokenClassificationFacts,
    TrainingFacts,
)
from reporter.render.coverage import Status, architecture, compute, data_size

INDEX: Final = "Foundation Model Transparency Index, December 2025 (Stanford CRFM)"
INDEX_URL: Final = "https://github.com/stanford-crfm/fmti/blob/main/Dec2025/Dec2025_indicators.csv"
Reading = tuple[Status, str, str | None]
Rule = Callable[[FactsRecord], Reading]


@dataclass(frozen=True)
class Indicator:
    """One indicator of the index, and how a model's report is read against it (None: out of scope)."""

    number: int
    name: str
    domain: str
    about: str
    rule: Rule | None = None


@dataclass(frozen=True)
class Disclosure:
    """One in-scope indicator and what this report holds for it."""

    indicator: Indicator
    status: Status
    holds: str
    page: str | None


def is_reported(value: object) -> bool:
    return not isinstance(value, NotReported)


def _training_sources(f: FactsRecord) -> list[DataSourceFacts]:
    return [d for d in f.data if d.role == "train"]


def _acquired(kind: str, label: str) -> Rule:
    """Sources of one acquisition type: disclosed once every training source's type is declared."""

    def rule(f: FactsRecord) -> Reading:
        sources = _training_sources(f)
        if not sources or any(d.acquisition is None for d in sources):
            return "missing", "Declare `acquisition:` on every training source.", "data.md"
        chosen = [d.id for d in sources if d.acquisition == kind]
        named = ", ".join(chosen) if chosen else "none"
        return "declared", f"{label}: {named} (of {_sources(len(sources))}).", "data.md"

    return rule


def _every_source(field: str, what: str) -> Rule:
    """A free-text field every training source must declare."""

    def rule(f: FactsRecord) -> Reading:
        sources = _training_sources(f)
        if sources and all(getattr(d, field) for d in sources):
            return "declared", f"{what}, declared for {_sources(len(sources))}.", "data.md"
        return "missing", f"Declare `{field}:` on every training source.", "data.md"

    return rule


def _sources(count: int) -> str:
    return "the one training source" if count == 1 else f"the {count} training sources"


def _acquisition_methods(f: FactsRecord) -> Reading:
    sources = _training_sources(f)
    if sources and all(d.acquisition for d in sources):
        kinds = sorted({str(d.acquisition) for d in sources})
        return "declared", f"Acquisition types of the training data: {', '.join(kinds)}.", "data.md"
    return "missing", "Declare `acquisition:` on every training source.", "data.md"


def _crawling(f: FactsRecord) -> Reading:
    sources = _training_sources(f)
    if not sources or any(d.acquisition is None for d in sources):
        return "missing", "Declare `acquisition:` on every training source.", "data.md"
    if not any(d.acquisition == "crawled" for d in sources):
        return "declared", "No training source is declared crawled.", "data.md"
    content = f.training_content
    if content is not None and content.crawler and content.opt_out_policy:
        return "declared", "Crawler and opt-out policy, as declared.", "training-content.md"
    return "missing", "Declare `training_content.crawler` and `opt_out_policy`.", "training-content.md"


def _language_composition(f: FactsRecord) -> Reading:
    measured = [d.composition for d in _training_sources(f) if isinstance(d.composition, CompositionFacts)]
    if not measured:
        return "missing", "The training sources' files are not available to the build.", "data.md"
    if all(composition.modality != "text" for composition in measured):
        return "measured", "The training data holds no text (tabular rows only).", "data.md"
    return "measured", "Languages of each text column, identified by py3langid.", "data.md"


def _public_access(label: str) -> Rule:
    """Training data anyone can obtain: every training source public, with where it comes from."""

    def rule(f: FactsRecord) -> Reading:
        sources = _training_sources(f)
        if sources and all(d.acquisition == "public" and d.origin_url for d in sources):
            return "declared", f"{label}: every training source is public, with its origin.", "data.md"
        return "missing", "Not every training source is declared public with an `origin_url`.", "data.md"

    return rule


def _phase(f: FactsRecord) -> PhaseComputeFacts | None:
    if isinstance(f.compute, ComputeFacts) and isinstance(f.compute.training, PhaseComputeFacts):
        return f.compute.training
    return None


def _duration(f: FactsRecord) -> Reading:
    phase = _phase(f)
    if phase is None:
        return "missing", "Not trained by this build.", "training.md"
    return "measured", f"{phase.wall_seconds:.1f} s, {phase.device_hours:.3g} {phase.device_hours_unit}.", "training.md"


def _hardware(f: FactsRecord) -> Reading:
    if _phase(f) is None or not isinstance(f.compute, ComputeFacts):
        return "missing", "Not trained by this build.", "training.md"
    hardware = f.compute.hardware
    gpus = f", {len(hardware.gpus)} GPU(s)" if hardware.gpus else ""
    return "measured", f"{hardware.cpu}, {hardware.logical_cores} logical cores{gpus}.", "training.md"


def _energy(f: FactsRecord) -> Reading:
    phase = _phase(f)
    if phase is None or not isinstance(phase.energy, EnergyFacts):
        return "missing", "No training energy measured or estimated.", "training.md"
    return "measured", f"{phase.energy.kwh * 1000:.3g} Wh ({phase.energy.kind}).", "training.md"


def _carbon(f: FactsRecord) -> Reading:
    phase = _phase(f)
    if phase is None or isinstance(phase.carbon, NotReported):
        return "missing", "Declare `compute.grid` (grid carbon intensity with its source).", "training.md"
    return "measured", "From the measured energy and the declared grid intensity.", "training.md"


def _stages(f: FactsRecord) -> Reading:
    if isinstance(f.training, TrainingFacts):
        return (
            "measured",
            f"One stage: recipe {f.architecture.recipe}, {len(f.training.history)} epochs.",
            "training.md",
        )
    if not isinstance(f.training, NotReported):
        return "declared", "As the training log declares.", "training.md"
    return "missing", "Loaded, not trained here, and no training log.", "training.md"


def _objectives(f: FactsRecord) -> Reading:
    if isinstance(f.training, TrainingFacts):
        return "measured", f"Optimizer {f.training.optimizer}; the loss is recorded per epoch.", "training.md"
    return "missing", "The training objective of a loaded model is not declared.", "training.md"


def _component(key: str, label: str) -> Rule:
    """A component the Model Openness Framework assessment found released."""

    def rule(f: FactsRecord) -> Reading:
        if isinstance(f.openness, NotReported):
            return "missing", f"Not assessed: {f.openness.not_reported}.", None
        found = next((c for c in f.openness.components if c.key == key), None)
        if found is not None and found.status != "not_released":
            licensed = "under an open license" if found.status == "open" else "under a license that is not open"
            return "declared", f"{label}: released {licensed} ({found.license}).", "index.md"
        return "missing", f"{label} not declared released (spec `openness`).", "index.md"

    return rule


def _deeper(f: FactsRecord) -> Reading:
    return "measured", f"{f.weights.tensor_count} tensors described one by one, with their statistics.", "weights.md"


def _dependencies(f: FactsRecord) -> Reading:
    if f.hub is not None:
        return "measured", f"Loaded from {f.hub.repo_id} at commit {f.hub.commit}.", "index.md"
    libraries = len(f.provenance.libraries)
    return (
        "missing",
        f"{libraries} library versions are recorded; the models this one builds on are not declared.",
        None,
    )


def _inference(f: FactsRecord) -> Reading:
    if isinstance(f.inference, NotReported):
        return "missing", f"Not measured: {f.inference.not_reported}.", None
    return "measured", f"{f.inference.rows_per_second:,.0f} rows per second on {f.inference.device}.", "index.md"


def _reproducible(what: str, measured: Callable[[FactsRecord], bool]) -> Rule:
    """An evaluation anyone can rerun: measured here, on public evaluation data, with `reporter verify`."""

    def rule(f: FactsRecord) -> Reading:
        if not measured(f):
            return "missing", f"No {what} is measured.", None
        evaluation = [d for d in f.data if d.role == "evaluation"]
        if evaluation and all(d.origin_url for d in evaluation):
            return "measured", f"The {what} reruns with `reporter verify` on public evaluation data.", "index.md"
        return "missing", "The evaluation data has no declared origin others can obtain.", "data.md"

    return rule


def _evaluated(f: FactsRecord) -> bool:
    return bool(f.evaluations)


def _capabilities(f: FactsRecord) -> Reading:
    if not f.evaluations:
        return "missing", "No evaluation of the model is measured.", None
    kinds = ", ".join(evaluation.kind.replace("_", " ") for evaluation in f.evaluations)
    return "measured", f"Measured by this build, with intervals: {kinds}.", "index.md"


def measured_risks(f: FactsRecord) -> list[str]:
    """The risk evaluations the record holds, by name."""
    tagging, language = f.token_classification, f.language_model
    found = (
        ("fairness per group", isinstance(f.fairness, FairnessFacts)),
        ("embedding bias", not isinstance(f.embedding_bias, NotReported)),
        ("membership inference", not isinstance(f.privacy, NotReported)),
        ("entity scores per group", isinstance(tagging, TokenClassificationFacts) and is_reported(tagging.groups)),
        ("name probe", isinstance(tagging, TokenClassificationFacts) and is_reported(tagging.name_probe)),
        ("bias probe", isinstance(language, LanguageModelFacts) and is_reported(language.bias_probe)),
    )
    return [name for name, present in found if present]


def _risks_measured(f: FactsRecord) -> bool:
    return bool(measured_risks(f))


def _risks(f: FactsRecord) -> Reading:
    measured = measured_risks(f)
    if measured:
        return "measured", f"Measured: {', '.join(measured)}.", "fairness.md"
    return "missing", "No risk of the model is measured.", None


def _overlap(f: FactsRecord) -> Reading:
    if isinstance(f.overlap, OverlapFacts):
        return "measured", f"{f.overlap.features_only.rows:,} of {f.overlap.evaluation_rows:,} rows.", "data.md"
    language = f.language_model
    if isinstance(language, LanguageModelFacts) and isinstance(language.overlap, DocumentOverlapFacts):
        found = language.overlap
        text = f"{found.overlapping.rows:,} of {found.documents:,} documents share a word {found.n}-gram with it."
        return "measured", text, "index.md"
    return "missing", f"Not measured: {f.overlap.not_reported}.", "data.md"


def _private(f: FactsRecord) -> bool:
    """Whether the model was trained with a differential privacy guarantee."""
    return not isinstance(f.privacy, NotReported) and isinstance(f.privacy.guarantee, DifferentialPrivacyFacts)


def _mitigations(f: FactsRecord) -> Reading:
    if _private(f):
        return "measured", "Differentially private training, with the guarantee its accountant computed.", "privacy.md"
    return "missing", "No mitigation is declared.", None


def _mitigation_efficacy(f: FactsRecord) -> Reading:
    if _private(f) and not isinstance(f.privacy, NotReported) and not isinstance(f.privacy.membership, NotReported):
        return "measured", "A membership-inference audit of the private model.", "privacy.md"
    return "missing", "No mitigation's efficacy is measured.", None


def _quantization(f: FactsRecord) -> Reading:
    dtypes = ", ".join(sorted(f.weights.bytes_by_dtype))
    return "measured", f"Weight types, read from the files: {dtypes}.", "weights.md"


def _declared(text: str, present: Callable[[FactsRecord], bool], missing: str, page: str = "index.md") -> Rule:
    def rule(f: FactsRecord) -> Reading:
        return ("declared", text, page) if present(f) else ("missing", missing, page)

    return rule


def _missing(text: str, page: str | None = None) -> Rule:
    def rule(f: FactsRecord) -> Reading:
        return "missing", text, page

    return rule


def _basic(f: FactsRecord) -> Reading:
    return architecture(f)


UP, MODEL, DOWN = "Upstream", "Model", "Downstream"
INDICATORS: Final = (
    Indicator(1, "Data acquisition methods", UP, "How the training data was acquired.", _acquisition_methods),
    Indicator(2, "Public datasets", UP, "The public data sets used.", _acquired("public", "Public")),
    Indicator(3, "Crawling", UP, "The crawler and its opt-out protocol, if the web was crawled.", _crawling),
    Indicator(
        4, "Usage data used in training", UP, "Data from the developer's products used.", _acquired("user", "User data")
    ),
    Indicator(5, "Notice of usage data used in training", UP, "How product users are told."),
    Indicator(6, "Licensed data sources", UP, "The licensed data sets used.", _acquired("licensed", "Licensed")),
    Indicator(7, "Licensed data compensation", UP, "What licensors are paid."),
    Indicator(
        8,
        "New human-generated data sources",
        UP,
        "Who created or annotated new data.",
        _every_source("collection", "How the data was collected and annotated"),
    ),
    Indicator(9, "Instructions for data generation", UP, "The instructions given to annotators."),
    Indicator(10, "Data laborer practices", UP, "Pay, location and protections of data workers."),
    Indicator(
        11, "Synthetic data sources", UP, "The generators of synthetic data.", _acquired("synthetic", "Synthetic")
    ),
    Indicator(
        12,
        "Synthetic data purpose",
        UP,
        "What synthetic data was made for.",
        _acquired("synthetic", "Synthetic, described on the datasheet"),
    ),
    Indicator(
        13,
        "Data processing methods",
        UP,
        "The processing steps applied to the data.",
        _every_source("preprocessing", "Processing"),
    ),
    Indicator(
        14,
        "Data processing purpose",
        UP,
        "Why each step is applied.",
        _every_source("preprocessing", "Processing and its reasons, as written"),
    ),
    Indicator(
        15,
        "Data processing techniques",
        UP,
        "How each step is implemented.",
        _every_source("preprocessing", "Processing and its tools, as written"),
    ),
    Indicator(16, "Data size", UP, "The size of the training data, by modality.", data_size),
    Indicator(
        17, "Data language composition", UP, "The languages of the text data and their shares.", _language_composition
    ),
    Indicator(
        18,
        "Data domain composition",
        UP,
        "The domains of the data and their shares.",
        _missing("Domain shares are not measured or declared.", "data.md"),
    ),
    Indicator(19, "External data access", UP, "Whether others can access the training data.", _public_access("Access")),
    Indicator(20, "Data replicability", UP, "Whether the data can be obtained again.", _public_access("Replicable")),
    Indicator(21, "Compute usage for final training run", UP, "FLOPs of the final training run.", compute),
    Indicator(
        22,
        "Compute usage including R&D",
        UP,
        "FLOPs including experiments.",
        _missing("Only the run this build performs is counted.", "training.md"),
    ),
    Indicator(23, "Development duration for final training run", UP, "Duration and device-hours.", _duration),
    Indicator(24, "Compute hardware for final training run", UP, "Type and amount of hardware.", _hardware),
    Indicator(25, "Compute provider", UP, "Who provided the compute.", _missing("Not declared.", "training.md")),
    Indicator(26, "Energy usage for final training run", UP, "Energy of the final training run.", _energy),
    Indicator(27, "Carbon emissions for final training run", UP, "Emissions of the final training run.", _carbon),
    Indicator(
        28,
        "Water usage for final training run",
        UP,
        "Water used by the final training run.",
        _missing("Not measured.", "training.md"),
    ),
    Indicator(29, "Internal compute allocation", UP, "How the developer allocates compute internally."),
    Indicator(30, "Model stages", UP, "The stages the model was trained in.", _stages),
    Indicator(31, "Model objectives", UP, "What each stage optimises.", _objectives),
    Indicator(
        32, "Code access", UP, "Whether the training code is available.", _component("training_code", "Training code")
    ),
    Indicator(33, "Organization chart", UP, "The teams that built the model."),
    Indicator(34, "Model cost", UP, "What building the model cost."),
    Indicator(35, "Basic model properties", MODEL, "Size, architecture, inputs and outputs.", _basic),
    Indicator(36, "Deeper model properties", MODEL, "Layer-level detail of the model.", _deeper),
    Indicator(37, "Model dependencies", MODEL, "The models and data this one builds on.", _dependencies),
    Indicator(38, "Benchmarked inference", MODEL, "Measured inference speed on stated hardware.", _inference),
    Indicator(39, "Researcher credits", MODEL, "Free access for researchers."),
    Indicator(40, "Specialized access", MODEL, "Deeper access for vetted parties."),
    Indicator(
        41,
        "Open weights",
        MODEL,
        "Whether the weights are released.",
        _component("final_parameters", "Final parameters"),
    ),
    Indicator(42, "Agent Protocols", MODEL, "Protocols the model's products support."),
    Indicator(
        43,
        "Capabilities taxonomy",
        MODEL,
        "What the model is meant to do.",
        _declared("Intended uses, as declared.", lambda f: bool(f.card.intended_uses), "Declare `intended_uses`."),
    ),
    Indicator(44, "Capabilities evaluation", MODEL, "Measured capabilities.", _capabilities),
    Indicator(
        45,
        "External reproducibility of capabilities evaluation",
        MODEL,
        "Whether others can rerun it.",
        _reproducible("evaluation", _evaluated),
    ),
    Indicator(46, "Train-test overlap", MODEL, "Overlap of training and evaluation data.", _overlap),
    Indicator(
        47,
        "Risks taxonomy",
        MODEL,
        "The risks the model poses.",
        _declared(
            "Limitations and ethical considerations, as declared.",
            lambda f: bool(f.card.limitations),
            "Declare `limitations`.",
        ),
    ),
    Indicator(48, "Risks evaluation", MODEL, "Measured risks.", _risks),
    Indicator(
        49,
        "External reproducibility of risks evaluation",
        MODEL,
        "Whether others can rerun it.",
        _reproducible("risk evaluation", _risks_measured),
    ),
    Indicator(50, "Pre-deployment risk evaluation", MODEL, "Risk evaluation before release, by process."),
    Indicator(51, "External risk evaluation", MODEL, "Risk evaluation by third parties with access."),
    Indicator(52, "Mitigations taxonomy", MODEL, "The mitigations applied.", _mitigations),
    Indicator(53, "Mitigations taxonomy mapped to risk taxonomy", MODEL, "Which mitigation answers which risk."),
    Indicator(54, "Mitigations efficacy", MODEL, "Measured effect of the mitigations.", _mitigation_efficacy),
    Indicator(
        55,
        "External reproducibility of mitigations evaluation",
        MODEL,
        "Whether others can rerun it.",
        _reproducible("mitigation audit", lambda f: _mitigation_efficacy(f)[0] == "measured"),
    ),
    Indicator(56, "Model theft prevention measures", MODEL, "How the developer protects the weights."),
    Indicator(57, "Release stages", MODEL, "The developer's staged release process."),
    Indicator(58, "Risk thresholds", MODEL, "Thresholds that would stop a release."),
    Indicator(
        59,
        "Versioning protocol",
        MODEL,
        "How versions are named.",
        _declared("A version, as declared.", lambda f: bool(f.card.version), "Declare `version`."),
    ),
    Indicator(
        60,
        "Change log",
        MODEL,
        "What changed between versions.",
        _missing("Build with `--base` for a Changes page; no history is kept in the record."),
    ),
    Indicator(61, "Foundation model roadmap", MODEL, "Plans for future models."),
    Indicator(62, "Top distribution channels", MODEL, "Where the model is distributed."),
    Indicator(63, "Quantization", MODEL, "The numeric types of the weights.", _quantization),
    Indicator(
        64,
        "Terms of use",
        MODEL,
        "The license the model is released under.",
        _declared("The license, as declared.", lambda f: bool(f.card.license), "Declare `license`."),
    ),
    *(
        Indicator(number, name, DOWN, about)
        for number, name, about in (
            (65, "Distribution channels with usage data", "Channels that report usage."),
            (66, "Amount of usage", "How much the model is used."),
            (67, "Classification of usage data", "What the model is used for."),
            (68, "Data retention and deletion policy", "How usage data is kept."),
            (69, "Geographic statistics", "Where the model is used."),
            (70, "Internal products and services", "The developer's products using it."),
            (71, "External products and services", "Others' products using it."),
            (72, "Users of internal products and services", "Their users."),
            (73, "Consumer/enterprise usage", "Consumer and enterprise shares."),
            (74, "Enterprise users", "Named enterprise users."),
            (75, "Government use", "Use by governments."),
            (76, "Benefits Assessment", "Assessed benefits of deployment."),
            (77, "AI bug bounty", "A bounty for model flaws."),
            (78, "Responsible disclosure policy", "How flaws can be reported."),
            (79, "Safe harbor", "Protection for good-faith research."),
            (80, "Security incident reporting protocol", "How security incidents are reported."),
            (81, "Misuse incident reporting protocol", "How misuse is reported."),
            (82, "Post-deployment coordination with government", "Work with governments after release."),
            (83, "Feedback mechanisms", "How users give feedback."),
            (84, "Permitted, restricted, and prohibited model behaviors", "The behaviour policy."),
            (85, "Model response characteristics", "How the model is meant to respond."),
            (86, "System prompt", "The system prompt of the developer's products."),
            (87, "Intermediate tokens", "Whether reasoning tokens are shown."),
            (88, "Internal product and service mitigations", "Mitigations in the developer's products."),
            (89, "External developer mitigations", "Mitigations for developers building on it."),
            (90, "Enterprise mitigations", "Mitigations for enterprise customers."),
            (91, "Detection of machine-generated content", "Watermarks or detectors."),
        )
    ),
    Indicator(
        92,
        "Documentation for responsible use",
        DOWN,
        "Guidance for using the model well.",
        _declared(
            "Intended and out-of-scope uses and limitations, as declared.",
            lambda f: bool(f.card.out_of_scope_uses and f.card.limitations),
            "Declare `out_of_scope_uses` and `limitations`.",
        ),
    ),
    Indicator(
        93,
        "Permitted and prohibited users",
        DOWN,
        "Who may use the model.",
        _declared("Intended users, as declared.", lambda f: bool(f.card.intended_users), "Declare `intended_users`."),
    ),
    Indicator(
        94,
        "Permitted, restricted, and prohibited uses",
        DOWN,
        "What the model may be used for.",
        _declared(
            "Intended and out-of-scope uses, as declared.",
            lambda f: bool(f.card.intended_uses and f.card.out_of_scope_uses),
            "Declare `intended_uses` and `out_of_scope_uses`.",
        ),
    ),
    *(
        Indicator(number, name, DOWN, about)
        for number, name, about in (
            (95, "AUP enforcement process", "How the use policy is enforced."),
            (96, "AUP enforcement frequency", "How often it is enforced."),
            (97, "Regional policy variations", "Policy differences by region."),
            (98, "Oversight mechanism", "Independent oversight of the developer."),
            (99, "Whistleblower protection", "Protection for employees who report."),
            (100, "Government commitments", "Commitments made to governments."),
        )
    ),
)


@dataclass(frozen=True)
class Scorecard:
    """A model's disclosures against the in-scope indicators, and the indicators out of scope."""

    disclosures: list[Disclosure]
    out_of_scope: list[Indicator]

    @property
    def disclosed(self) -> int:
        """In-scope indicators this report discloses (measured or declared)."""
        return sum(d.status != "missing" for d in self.disclosures)

    def count(self, status: Status) -> int:
        return sum(d.status == status for d in self.disclosures)


def scorecard(facts: FactsRecord) -> Scorecard:
    """Every in-scope indicator read against ``facts``; the rest listed as out of scope."""
    disclosures = [Disclosure(i, *i.rule(facts)) for i in INDICATORS if i.rule is not None]
    return Scorecard(disclosures=disclosures, out_of_scope=[i for i in INDICATORS if i.rule is None])
