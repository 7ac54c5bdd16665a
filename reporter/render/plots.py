"""Plots as byte-deterministic SVG: fixed hash salt, no date, no random ids.

Plots draw on a white card (see `extra.css`) so they read the same in light and dark palettes.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from reporter.facts import (
    DeclaredTrainingFacts,
    ExplanationFacts,
    FactsRecord,
    FairnessFacts,
    FeatureFairnessFacts,
    ImageClassificationEvaluation,
    MembershipFacts,
    MulticlassPerformanceFacts,
    PerformanceFacts,
    PermutationImportanceFacts,
    PowerLawFit,
    PrivacyFacts,
    RegressionPerformanceFacts,
    TensorFacts,
    TrainingFacts,
    WeightFacts,
)

if TYPE_CHECKING:
    from matplotlib.transforms import Bbox
    from matplotlib.typing import RcKeyType

    from reporter.tasks._grouped import GroupPlots

INTERSECTION_SEPARATOR = " × "  # as the fairness extractor joins group names
PALETTE = ["#3f51b5", "#e65100", "#2e7d32", "#6a1b9a", "#00838f"]


STYLE: dict[RcKeyType, Any] = {
    "svg.hashsalt": "reporter",
    "svg.fonttype": "none",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "text.parse_math": False,  # labels are untrusted text: "$…$" must not be parsed as math
    # Titles sit at the top of their axes (no ticks or labels are ever drawn there): the automatic
    # placement would measure every tick label of the axes twice per draw, ~10 % of a model's plots.
    "axes.titley": 1.0,
}


def svg_figure(draw: Callable[..., None], *, width: float = 6.4, height: float = 3.6) -> bytes:
    """One figure drawn to SVG; call inside `model_plots`, which sets the style once for all of them.

    The SVG is cropped to its drawn content (what ``bbox_inches="tight"`` gives) by measuring the
    content during the one draw that writes the SVG: tight layout or tight bounding boxes draw
    every figure twice, which made plots the larger part of a cold site build. A bare `Figure`
    (no pyplot) keeps no global figure registry to clean up.
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    draw(figure)
    extents = []
    figure.canvas.mpl_connect("draw_event", lambda event: extents.append(figure.get_tightbbox(event.renderer)))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return crop_svg(buffer.getvalue(), extents[-1], height=height)


CROP_PAD = 0.1  # inches of margin around the content, matplotlib's default `pad_inches`
SVG_SIZE = re.compile(rb'width="[0-9.]+pt" height="[0-9.]+pt" viewBox="[0-9. ]+"')


def crop_svg(svg: bytes, extent: Bbox, *, height: float) -> bytes:
    """Set the SVG's size and view box to ``extent`` (inches from the figure's lower left corner,
    may reach outside it) plus `CROP_PAD`; SVG measures in points from the top left."""
    left, bottom = (extent.x0 - CROP_PAD) * 72, (extent.y0 - CROP_PAD) * 72
    right, top = (extent.x1 + CROP_PAD) * 72, (extent.y1 + CROP_PAD) * 72
    size = f'width="{right - left:.2f}pt" height="{top - bottom:.2f}pt" '
    view = f'viewBox="{left:.2f} {height * 72 - top:.2f} {right - left:.2f} {top - bottom:.2f}"'
    cropped, replaced = SVG_SIZE.subn((size + view).encode(), svg, count=1)
    if replaced != 1:
        raise RuntimeError("matplotlib's SVG header changed: no width, height and viewBox to crop")
    return cropped


def legend_above(axes: object, **options: object) -> None:
    """The legend in a row above the plot area: it never hides data, and placing it costs nothing
    (matplotlib's default "best" place is searched against every point drawn)."""
    axes.legend(loc="lower left", bbox_to_anchor=(0, 1.01), ncols=2, frameon=False, **options)  # type: ignore[attr-defined]


def legend_right(axes: object, **options: object) -> None:
    """The legend beside the plot area, for long or many entries (one curve per group)."""
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, **options)  # type: ignore[attr-defined]


FEW_EPOCHS = 10


def training_curves(training: TrainingFacts) -> bytes:
    """Loss and (when the task has one) accuracy per epoch, train against validation."""
    history = training.history
    epochs = [h.epoch for h in history]
    panels = [("Loss", "train_loss", "validation_loss")]
    if all(h.train_accuracy is not None for h in history):
        panels.append(("Accuracy", "train_accuracy", "validation_accuracy"))

    def draw(figure: object) -> None:
        for index, (title, train_field, validation_field) in enumerate(panels):
            axes = figure.add_subplot(1, len(panels), index + 1)  # type: ignore[attr-defined]
            axes.plot(epochs, [getattr(h, train_field) for h in history], marker="o", color=PALETTE[0], label="train")
            axes.plot(
                epochs,
                [getattr(h, validation_field) for h in history],
                marker="s",
                color=PALETTE[1],
                label="validation",
            )
            axes.set(title=title, xlabel="epoch")
            if index == len(panels) - 1:
                legend_right(axes)
            if len(epochs) <= FEW_EPOCHS:  # a tick per epoch: the integer locator falls back to
                axes.set_xticks(epochs)  # fractions (0.950 … 1.050) when there is a single epoch
            else:
                axes.xaxis.get_major_locator().set_params(integer=True)

    return svg_figure(draw, width=6.4 if len(panels) == 2 else 4.4)


LOGGED_PANELS = 6
"""Series of a training log drawn at most (in the log's order); the table lists every one."""


def logged_curves(training: DeclaredTrainingFacts) -> bytes:
    """Each series a training log holds against the optimizer step, one small panel each."""
    drawn = [s for s in training.series if any(v is not None for v in s.values)][:LOGGED_PANELS]
    columns = min(3, len(drawn))
    rows = -(-len(drawn) // columns)

    def draw(figure: object) -> None:
        for index, series in enumerate(drawn):
            axes = figure.add_subplot(rows, columns, index + 1)  # type: ignore[attr-defined]
            points = [
                (step, value) for step, value in zip(series.steps, series.values, strict=True) if value is not None
            ]
            marker = "o" if len(points) <= FEW_EPOCHS * 2 else None
            axes.plot(
                [p[0] for p in points], [p[1] for p in points], marker=marker, color=PALETTE[index % len(PALETTE)]
            )
            axes.set(title=series.name, xlabel="step")
            axes.xaxis.get_major_locator().set_params(integer=True)

    return svg_figure(draw, width=3.0 * columns + 0.4, height=2.6 * rows)


def reliability_diagram(
    performance: PerformanceFacts | MulticlassPerformanceFacts, axis_labels: tuple[str, str]
) -> bytes:
    """Mean score against observed positive fraction per score bin, with the diagonal (multiclass:
    confidence in the predicted class against the share predicted right; the task names the axes)."""
    bins = [b for b in performance.calibration if b.count > 0]

    def draw(figure: object) -> None:
        axes = figure.subplots()  # type: ignore[attr-defined]
        axes.plot([0, 1], [0, 1], linestyle="--", color="#9e9e9e", label="perfect calibration")
        axes.plot(
            [b.mean_score for b in bins],
            [b.positive_fraction for b in bins],
            marker="o",
            color=PALETTE[0],
            label="model",
        )
        axes.set(xlabel=axis_labels[0], ylabel=axis_labels[1], xlim=(0, 1), ylim=(0, 1))
        legend_above(axes)

    return svg_figure(draw, width=4.8, height=4.0)


def regression_calibration(performance: RegressionPerformanceFacts) -> bytes:
    """Mean label against mean prediction per decile of the predictions, with the diagonal."""
    bins = performance.calibration
    values = [b.mean_prediction for b in bins] + [b.mean_label for b in bins]
    low, high = min(values), max(values)
    pad = (high - low) * 0.05 or 1.0

    def draw(figure: object) -> None:
        axes = figure.subplots()  # type: ignore[attr-defined]
        axes.plot(
            [low - pad, high + pad],
            [low - pad, high + pad],
            linestyle="--",
            color="#9e9e9e",
            label="prediction = label",
        )
        axes.plot(
            [b.mean_prediction for b in bins], [b.mean_label for b in bins], marker="o", color=PALETTE[0], label="model"
        )
        axes.set(xlabel="mean prediction (decile of predictions)", ylabel="mean true label")
        legend_above(axes)

    return svg_figure(draw, width=4.8, height=4.0)


def group_rates(feature: FeatureFairnessFacts, style: GroupPlots) -> bytes:
    """The task's two headline group metrics (binary: selection and true positive rate) per
    reported group, with 95 % interval error bars."""
    groups = [g for g in feature.groups if g.status == "reported"]
    metrics = style.bars

    def draw(figure: object) -> None:
        axes = figure.subplots()  # type: ignore[attr-defined]
        width = 0.8 / len(metrics)
        for i, (field, label) in enumerate(metrics):
            values, lower, upper, positions = [], [], [], []
            for j, group in enumerate(groups):
                estimate = getattr(group, field)
                if estimate is None or estimate.value is None:
                    continue
                positions.append(j + (i - (len(metrics) - 1) / 2) * width)
                values.append(estimate.value)
                lower.append(estimate.value - (estimate.low if estimate.low is not None else estimate.value))
                upper.append((estimate.high if estimate.high is not None else estimate.value) - estimate.value)
            axes.bar(
                positions,
                values,
                width=width,
                color=PALETTE[i],
                label=label,
                yerr=[lower, upper],
                capsize=3,
                ecolor="#424242",
            )
        axes.set_xticks(
            range(len(groups)),
            [g.group for g in groups],
            rotation=30 if len(groups) > 4 else 0,
            ha="right" if len(groups) > 4 else "center",
        )
        if style.unit is not None:
            axes.set(ylabel=style.unit)
        else:
            axes.set(ylim=(0, 1), ylabel="rate")
        legend_above(axes)

    return svg_figure(draw, width=max(5.0, 0.9 * len(groups) + 2), height=3.8)


def calibration_by_group(feature: FeatureFairnessFacts, axis_labels: tuple[str, str]) -> bytes:
    """Reliability curves, one per reported group, with the diagonal."""
    groups = [g for g in feature.groups if g.status == "reported"]

    def draw(figure: object) -> None:
        axes = figure.subplots()  # type: ignore[attr-defined]
        axes.plot([0, 1], [0, 1], linestyle="--", color="#9e9e9e", label="perfect calibration")
        for index, group in enumerate(groups):
            bins = [b for b in group.calibration if b.count > 0]
            axes.plot(
                [b.mean_score for b in bins],
                [b.positive_fraction for b in bins],
                marker="o",
                color=PALETTE[index % len(PALETTE)],
                label=f"{group.group} (n={group.count:,})",
            )
        axes.set(xlabel=axis_labels[0], ylabel=axis_labels[1], xlim=(0, 1), ylim=(0, 1))
        legend_right(axes, fontsize=8)

    return svg_figure(draw, width=5.2, height=4.2)


def intersection_heatmap(feature: FeatureFairnessFacts, separator: str, style: GroupPlots) -> bytes:
    """The task's headline group metric (binary: selection rate) for every combination of two
    features; unreported cells are marked n/a."""
    field, label = style.bars[0]
    unbounded = style.unit is not None
    cells = {tuple(g.group.split(separator)): g for g in feature.groups}
    rows = sorted({key[0] for key in cells})
    columns = sorted({key[1] for key in cells})

    def draw(figure: object) -> None:
        import numpy as np

        axes = figure.subplots()  # type: ignore[attr-defined]
        values = np.full((len(rows), len(columns)), np.nan)
        for (r, c), group in cells.items():
            estimate = getattr(group, field)
            if estimate is not None and estimate.value is not None:
                values[rows.index(r), columns.index(c)] = estimate.value
        top = 1.0 if not unbounded or np.isnan(values).all() else float(np.nanmax(values))
        image = axes.imshow(np.ma.masked_invalid(values), cmap="Blues", vmin=0, vmax=top, aspect="auto")
        for i, r in enumerate(rows):
            for j, c in enumerate(columns):
                cell = cells.get((r, c))
                text = (
                    "n/a" if np.isnan(values[i, j]) else f"{values[i, j]:.3g}" if unbounded else f"{values[i, j]:.2f}"
                )
                if cell is not None:
                    text += f"\nn={cell.count:,}"
                axes.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if values[i, j] > 0.6 * top else "black",
                )
        axes.set_xticks(range(len(columns)), columns, rotation=30, ha="right")
        axes.set_yticks(range(len(rows)), rows)
        axes.spines[:].set_visible(False)
        figure.colorbar(image, ax=axes, label=label)  # type: ignore[attr-defined]

    return svg_figure(draw, width=max(5.0, 1.3 * len(columns) + 2.5), height=max(2.8, 0.8 * len(rows) + 1.6))


def plain_log_labels(axis: object) -> None:
    """Tick labels like ``100`` and ``0.01`` on a log axis: the default ones are mathtext, which is
    switched off here because labels can hold untrusted text. Minor ticks are labelled too when
    the axis spans too few decades to show a major one (norms of similar layers)."""
    from matplotlib.ticker import LogFormatter

    axis.set_major_formatter(LogFormatter())  # type: ignore[attr-defined]
    axis.set_minor_formatter(LogFormatter(labelOnlyBase=False))  # type: ignore[attr-defined]


HISTOGRAM_TENSORS = 4  # the weights page shows histograms of this many of the largest tensors


def largest_tensors(weights: WeightFacts) -> list[TensorFacts]:
    """The tensors whose histograms the weights page shows: the largest, by elements, then name."""
    with_histogram = [t for t in weights.tensors if t.histogram is not None]
    return sorted(with_histogram, key=lambda t: (-t.numel, t.name))[:HISTOGRAM_TENSORS]


def weight_histograms(tensors: list[TensorFacts]) -> bytes:
    """Value histograms of the given tensors, one panel each, counts on a log scale."""

    def draw(figure: object) -> None:
        panels = figure.subplots(1, len(tensors), squeeze=False, gridspec_kw={"wspace": 0.45})[0]  # type: ignore[attr-defined]
        for axes, tensor in zip(panels, tensors, strict=True):
            histogram = tensor.histogram
            assert histogram is not None  # largest_tensors keeps only tensors with one
            width = (histogram.high - histogram.low) / len(histogram.counts)
            edges = [histogram.low + i * width for i in range(len(histogram.counts) + 1)]
            axes.stairs(histogram.counts, edges, fill=True, color=PALETTE[0])  # one path, not a bar per bin
            axes.set_yscale("symlog", linthresh=1)
            plain_log_labels(axes.yaxis)
            axes.set_title(tensor.name if len(tensor.name) <= 28 else "…" + tensor.name[-27:], fontsize=8)
            axes.set_xlabel("value")
        panels[0].set_ylabel("count")

    return svg_figure(draw, width=2.6 * len(tensors) + 0.6, height=2.8)


def weights_over_depth(weights: WeightFacts) -> bytes:
    """Spectral and Frobenius norm, and alpha with the 2–6 band, for every analysed matrix in depth
    order; the alpha panel only when some matrix had a power law fitted (else it would be empty)."""
    layers = weights.layers
    positions = list(range(len(layers)))
    fitted = [(i, x.fit.alpha) for i, x in enumerate(layers) if isinstance(x.fit, PowerLawFit)]

    def draw(figure: object) -> None:
        panels = figure.subplots(2 if fitted else 1, 1, sharex=True, squeeze=False)[:, 0]  # type: ignore[attr-defined]
        norm_axes = panels[0]
        norm_axes.plot(positions, [x.frobenius_norm for x in layers], marker="o", color=PALETTE[0], label="Frobenius")
        norm_axes.plot(positions, [x.spectral_norm for x in layers], marker="s", color=PALETTE[1], label="spectral")
        norm_axes.set_yscale("log")
        plain_log_labels(norm_axes.yaxis)
        norm_axes.set(ylabel="norm")
        legend_right(norm_axes, fontsize=8)
        if fitted:
            alpha_axes = panels[1]
            alpha_axes.axhspan(2, 6, color="#c8e6c9", label="typical (2–6)")
            alpha_axes.plot([i for i, _ in fitted], [a for _, a in fitted], marker="o", color=PALETTE[2], label="alpha")
            alpha_axes.set(ylabel="alpha")
            legend_right(alpha_axes, fontsize=8)
        panels[-1].set(xlabel="layer (depth order, as in the table)")
        panels[-1].xaxis.get_major_locator().set_params(integer=True)

    return svg_figure(draw, width=6.4, height=4.6 if fitted else 2.6)


METRIC_LABELS = {"roc_auc": "ROC AUC", "macro_f1": "macro F1", "mean_absolute_error": "mean absolute error"}


def importance_bars(importance: PermutationImportanceFacts) -> bytes:
    """Each input column's permutation importance, most important on top, with 95 % interval bars."""
    columns = [c for c in importance.columns if c.importance.value is not None]
    values = [c.importance.value or 0.0 for c in columns]
    lower = [
        v - (c.importance.low if c.importance.low is not None else v) for v, c in zip(values, columns, strict=True)
    ]
    upper = [
        (c.importance.high if c.importance.high is not None else v) - v for v, c in zip(values, columns, strict=True)
    ]
    worse = "drop in" if importance.higher_is_better else "rise in"

    def draw(figure: object) -> None:
        axes = figure.subplots()  # type: ignore[attr-defined]
        positions = list(range(len(columns)))[::-1]
        axes.barh(positions, values, xerr=[lower, upper], color=PALETTE[0], capsize=3, ecolor="#424242")
        axes.axvline(0, color="#9e9e9e", linewidth=0.8)
        axes.set_yticks(positions, [c.column for c in columns])
        axes.set(xlabel=f"{worse} {METRIC_LABELS[importance.metric]} when the column is shuffled")

    return svg_figure(draw, width=6.0, height=max(2.4, 0.32 * len(columns) + 1.0))


def importance_heatmap(importance: PermutationImportanceFacts) -> bytes:
    """Permutation importance of each column (columns) within each reported group of each single
    sensitive feature (rows); a diverging scale centred on zero."""
    import numpy as np

    columns = [c.column for c in importance.columns]
    rows = [
        (f"{feature.feature} = {group.group}", {c.column: c.importance.value for c in group.columns})
        for feature in importance.by_group
        if INTERSECTION_SEPARATOR not in feature.feature
        for group in feature.groups
        if group.status == "reported"
    ]
    values = np.array([[np.nan if v.get(c) is None else v[c] for c in columns] for _, v in rows], dtype=np.float64)
    top = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0

    def draw(figure: object) -> None:
        axes = figure.subplots()  # type: ignore[attr-defined]
        image = axes.imshow(np.ma.masked_invalid(values), cmap="RdBu_r", vmin=-top, vmax=top, aspect="auto")
        for i in range(len(rows)):
            for j in range(len(columns)):
                text = "n/a" if np.isnan(values[i, j]) else f"{values[i, j]:.2g}"
                axes.text(j, i, text, ha="center", va="center", fontsize=7)
        axes.set_xticks(range(len(columns)), columns, rotation=40, ha="right")
        axes.set_yticks(range(len(rows)), [name for name, _ in rows])
        axes.spines[:].set_visible(False)
        figure.colorbar(image, ax=axes, label=f"importance ({METRIC_LABELS[importance.metric]})")  # type: ignore[attr-defined]

    return svg_figure(draw, width=max(5.5, 0.6 * len(columns) + 3.5), height=max(2.4, 0.4 * len(rows) + 1.8))


def membership_roc(membership: MembershipFacts) -> bytes:
    """The membership attack's ROC curve on log axes (the low false-positive end is what matters),
    with the chance diagonal."""
    points = [p for p in membership.roc if p.false_positive_rate > 0 and p.true_positive_rate > 0]

    def draw(figure: object) -> None:
        axes = figure.subplots()  # type: ignore[attr-defined]
        low = min((p.false_positive_rate for p in points), default=1e-3)
        axes.plot([low, 1], [low, 1], linestyle="--", color="#9e9e9e", label="chance")
        axes.plot(
            [p.false_positive_rate for p in points],
            [p.true_positive_rate for p in points],
            color=PALETTE[0],
            label="loss-threshold attack",
        )
        axes.set_xscale("log")
        axes.set_yscale("log")
        plain_log_labels(axes.xaxis)
        plain_log_labels(axes.yaxis)
        axes.set(
            xlabel="false positive rate (held-out rows flagged)", ylabel="true positive rate (training rows caught)"
        )
        legend_above(axes)

    return svg_figure(draw, width=4.8, height=4.2)


def plot_plan(facts: FactsRecord) -> dict[str, Callable[[], bytes]]:
    """Every plot a model's pages show, by file name, as a drawing still to run: the pages need
    the names before (and without) the drawing."""
    plan: dict[str, Callable[[], bytes]] = {}
    if isinstance(facts.training, TrainingFacts):
        plan["training-curves.svg"] = partial(training_curves, facts.training)
    if isinstance(facts.training, DeclaredTrainingFacts) and any(
        v is not None for s in facts.training.series for v in s.values
    ):
        plan["training-log.svg"] = partial(logged_curves, facts.training)
    if largest_tensors(facts.weights):
        plan["weights-histograms.svg"] = partial(weight_histograms, largest_tensors(facts.weights))
    if len(facts.weights.layers) >= 2:  # one matrix has no depth to plot over: the table gives its figures
        plan["weights-depth.svg"] = partial(weights_over_depth, facts.weights)
    plan.update(_labelled_plots(facts))
    if isinstance(facts.labelled, ImageClassificationEvaluation) and facts.labelled.images.examples:
        from reporter.render.image_plots import example_images, occlusion_maps

        images = facts.labelled.images
        plan["example-images.svg"] = partial(example_images, images)
        if any(example.occlusion is not None for example in images.examples):
            plan["occlusion-maps.svg"] = partial(occlusion_maps, images)
    if isinstance(facts.explanations, ExplanationFacts) and isinstance(
        facts.explanations.importance, PermutationImportanceFacts
    ):
        importance = facts.explanations.importance
        plan["importance.svg"] = partial(importance_bars, importance)
        single = [f for f in importance.by_group if INTERSECTION_SEPARATOR not in f.feature]
        if any(g.status == "reported" for f in single for g in f.groups):
            plan["importance-groups.svg"] = partial(importance_heatmap, importance)
    if isinstance(facts.privacy, PrivacyFacts) and isinstance(facts.privacy.membership, MembershipFacts):
        plan["membership-roc.svg"] = partial(membership_roc, facts.privacy.membership)
    return plan


def model_plots(facts: FactsRecord) -> dict[str, bytes]:
    """Every plot a model's pages show, drawn, by file name."""
    import matplotlib

    with warnings.catch_warnings(), matplotlib.rc_context(STYLE):  # one style context for all: copying rcParams is slow
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        return {name: draw() for name, draw in plot_plan(facts).items()}


def _labelled_plots(facts: FactsRecord) -> dict[str, Callable[[], bytes]]:
    """The reliability diagram and the fairness plots of the record's task of labelled rows, drawn
    as the task says (`group_plots`)."""
    from reporter.tasks import labelled_task

    plan: dict[str, Callable[[], bytes]] = {}
    if facts.labelled_kind is None:
        return plan
    style = labelled_task(facts.labelled_kind).group_plots
    performance = facts.performance
    if isinstance(performance, PerformanceFacts | MulticlassPerformanceFacts) and performance.calibration:
        assert style.reliability is not None
        plan["reliability.svg"] = partial(reliability_diagram, performance, style.reliability)
    if isinstance(performance, RegressionPerformanceFacts) and performance.calibration:
        plan["reliability.svg"] = partial(regression_calibration, performance)
    if not isinstance(facts.fairness, FairnessFacts):
        return plan
    for index, feature in enumerate(facts.fairness.features):
        if any(g.status == "reported" for g in feature.groups):
            plan[f"fairness-{index}.svg"] = partial(group_rates, feature, style)
            if style.reliability is not None and any(getattr(g, "calibration", None) for g in feature.groups):
                plan[f"fairness-{index}-calibration.svg"] = partial(calibration_by_group, feature, style.reliability)
        if feature.feature.count(INTERSECTION_SEPARATOR) == 1:
            plan[f"fairness-{index}-heatmap.svg"] = partial(
                intersection_heatmap, feature, INTERSECTION_SEPARATOR, style
            )
    return plan
