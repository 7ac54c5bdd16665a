"""The log's final evaluation beside the build's own: where a run evaluated on the rows this build
evaluates on, a reader sees both figures and whether the log's lies within the build's interval.

Which logged figure measures which of the build's metrics on the same rows is the spec's
declaration (`source.load.training_log.compare`); nothing is matched by name alone, since a log's
`eval_accuracy` may come from a different split.
"""

from __future__ import annotations

from reporter.errors import ModelFileError
from reporter.facts import DeclaredTrainingFacts, FactsRecord, LoggedComparison
from reporter.tasks import figures_of


def with_log_comparisons(record: FactsRecord, compare: dict[str, str], *, where: str) -> FactsRecord:
    """The record with each declared comparison added to its declared training report.

    Raises:
        ModelFileError: the log holds no such figure, or the build publishes no such metric;
            each names the spec field and the names there are.
    """
    training = record.training
    if not compare or not isinstance(training, DeclaredTrainingFacts):
        return record
    overall = {f.metric: f for f in figures_of(record) if f.feature is None}
    check_comparisons(training, compare, metrics=tuple(overall), where=where)
    comparisons = []
    for logged, metric in compare.items():
        log_value, figure = final_value(training, logged), overall[metric]
        assert log_value is not None  # checked above
        within = None if figure.low is None or figure.high is None else figure.low <= log_value <= figure.high
        comparisons.append(
            LoggedComparison(
                log_figure=logged,
                log_value=log_value,
                metric=metric,
                value=figure.value,
                low=figure.low,
                high=figure.high,
                within_interval=within,
            )
        )
    return record.model_copy(update={"training": training.model_copy(update={"comparisons": comparisons})})


def check_comparisons(
    training: DeclaredTrainingFacts, compare: dict[str, str], *, metrics: tuple[str, ...], where: str
) -> None:
    """Each pair names a figure the log holds a final value of and a metric the build publishes:
    checked when the log is read (so `reporter check` refuses it) and again on the record.

    Raises:
        ModelFileError: naming the spec field, and the log's figures or the build's metrics.
    """
    for logged, metric in compare.items():
        if final_value(training, logged) is None:
            named = sorted({s.name for s in training.series} | set(training.summary))
            raise ModelFileError(
                f"{where}.compare: the log holds no final value of {logged!r}; its figures: {', '.join(named)}. "
                "Fix: name one of them"
            )
        if metric not in metrics:
            published = ", ".join(sorted(metrics)) or "none"
            raise ModelFileError(
                f"{where}.compare.{logged}: this build publishes no overall {metric!r}; its overall metrics: "
                f"{published}. Fix: map the log's figure to one of them"
            )


def final_value(training: DeclaredTrainingFacts, name: str) -> float | None:
    """A figure's value at the end of the run: from the end-of-run summary if it holds it (where
    Trainer's final evaluation lands), else the series' last point that is a number."""
    if training.summary.get(name) is not None:
        return training.summary[name]
    for series in training.series:
        if series.name == name:
            return next((v for v in reversed(series.values) if v is not None), None)
    return None
