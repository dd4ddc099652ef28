"""The report's plots, drawn with matplotlib (no pyplot, no global state) as SVG text.

Each function takes the folder's record and returns one self-contained SVG: fonts are
drawn as paths, so nothing is fetched when the page opens.
"""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pandas as pd

from . import analysis
from .folder import FitRecord

FAMILY_COLOURS = {"baseline": "#8c8c8c", "linear": "#1f77b4", "random_forest": "#2ca02c",
                  "extra_trees": "#9acd32", "lightgbm": "#ff7f0e", "xgboost": "#d62728", "mlp": "#9467bd",
                  "ensemble": "#111111"}
_OTHER = "#17becf"
# Plot sizes in inches; 8.6 in at 96 dpi fills the page's 830-pixel column.
WIDE, TALL = 8.6, 3.6


def colour(family: str) -> str:
    return FAMILY_COLOURS.get(family, _OTHER)


def _figure(height: float = TALL, columns: int = 1, left: float = 0.75, bottom: float = 0.55):
    """A figure with fixed margins (in inches): a layout engine would cost ~0.25 s a plot."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDE, height))
    fig.subplots_adjust(left=left / WIDE, right=1 - 0.15 / WIDE, bottom=bottom / height, top=1 - 0.15 / height,
                        wspace=(left + 0.1) / (WIDE / columns - left))
    axes = fig.subplots(1, columns, squeeze=False)[0]
    for ax in axes:
        ax.grid(True, which="major", alpha=0.25, linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)
    return fig, axes


def to_svg(fig, name: str) -> str:
    """The figure as an inline <svg> element (no XML prolog); `name` makes its ids unique."""
    import matplotlib

    buffer = io.StringIO()
    # Fonts as paths: nothing to fetch. A salt per plot: clip-path ids differ between the
    # plots of one page and stay the same from run to run.
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": f"kiss-{name}"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    # Every plot's ids ("axes_1", "patch_2"...) made unique on the page, with the references to them.
    return (re.sub(r'\bid="', f'id="{name}-', text).replace("url(#", f"url(#{name}-")
            .replace('href="#', f'href="#{name}-'))


def _metric_label(record: FitRecord) -> str:
    metric = record.run["metric"]
    return metric if record.greater_is_better else f"{metric} (lower is better)"


def _positive(values: pd.Series) -> pd.Series:
    """Values for a log axis: zeros (a blend's own fit, a tiny predict) drawn at the smallest positive one."""
    values = pd.to_numeric(values, errors="coerce")
    floor = values[values > 0].min()
    floor = floor / 2 if math.isfinite(floor) else 1e-6
    return values.where(values > 0, floor)


def score_vs_energy(record: FitRecord) -> str:
    """Every successful candidate: score against fit energy, and against inference energy."""
    ok = analysis.successful(record)
    top = analysis.top_rung(record)
    signed = analysis.signed_scores(record)
    best, simplest = analysis.best_row(record), analysis.simplest_within_se(record)
    chosen = next((row for _, row in ok.iterrows() if row["selected"]), None)
    fig, axes = _figure(height=TALL + 0.35, columns=2, bottom=0.9)
    energies = {"fit energy, every fold's fit summed (J, log)": _positive(analysis.plotted_fit_energy(record)),
                "inference energy per 1,000 rows (J, log)": _positive(record.board["predict_energy_j_per_1k"])}
    for ax, (label, energy) in zip(axes, energies.items()):
        for family, rows in ok.groupby("family", sort=False):
            lower = rows[rows["rung"] < top]
            ax.scatter(energy[lower.index], lower["score"], s=14, alpha=0.35, color=colour(family), linewidths=0)
            upper = rows[rows["rung"] == top]
            ax.scatter(energy[upper.index], upper["score"], s=26, alpha=0.85, color=colour(family),
                       linewidths=0, label=family)
        front = analysis.pareto_front(energy[ok[ok["rung"] == top].index], signed)
        if front:
            ax.plot(energy[front], ok.loc[front, "score"], drawstyle="steps-post", color="#444", linewidth=1,
                    label="Pareto front")
        if chosen is not None:
            ax.scatter([energy[chosen.name]], [chosen["score"]], s=190, marker="*", facecolors="none",
                       edgecolors="black", linewidths=1.2, label="selected")
        if best is not None and (chosen is None or best.name != chosen.name):
            ax.scatter([energy[best.name]], [best["score"]], s=110, marker="o", facecolors="none",
                       edgecolors="black", linewidths=1.2, label="best score")
        if simplest is not None:
            ax.scatter([energy[simplest.name]], [simplest["score"]], s=150, marker="D", facecolors="none",
                       edgecolors="#c51b7d", linewidths=1.2, label="simplest within 1 SE")
        _log_x(ax)
        ax.set_xlabel(label)
        ax.set_ylabel(_metric_label(record))
        _clip_to_good(ax, ok["score"], record.greater_is_better)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), fontsize=7.5, frameon=False)
    return to_svg(fig, "front")


def _log_x(ax) -> None:
    """A log x axis whose minor ticks are labelled only on ranges under ~0.6 decades, where
    a power of ten may be missing: on longer ones their labels collide."""
    from matplotlib.ticker import LogFormatterSciNotation

    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(LogFormatterSciNotation(labelOnlyBase=False, minor_thresholds=(0.6, 0.25)))


def _clip_to_good(ax, scores: pd.Series, greater_is_better: bool) -> None:
    """Keep the axis on the candidates worth comparing: a baseline far below would flatten them."""
    values = pd.to_numeric(scores, errors="coerce").dropna()
    if len(values) < 3:
        return
    good = values.quantile(0.25 if greater_is_better else 0.75)
    best = values.max() if greater_is_better else values.min()
    span = abs(best - good) or abs(best) * 0.05 or 0.05
    worst_shown = good - 2 * span if greater_is_better else good + 2 * span
    low, high = sorted((worst_shown, best + (span * 0.3 if greater_is_better else -span * 0.3)))
    if (values.min() < low) or (values.max() > high):
        ax.set_ylim(low, high)
        ax.set_title("worse candidates below the axis: see the leaderboard", fontsize=6.5, color="#666", loc="left")


def search_curve(record: FitRecord) -> str:
    """Best score so far against the energy the plateau rule counted, with its marks."""
    curve = analysis.search_curve(record)
    fig, axes = _figure(height=4.2, bottom=0.95)
    ax = axes[0]
    x = np.array([max(p.joules, 1e-9) for p in curve])
    best = np.array([p.best for p in curve])
    rung0 = np.array([p.rung == 0 for p in curve])
    ax.step(x[rung0], best[rung0], where="post", color="black", linewidth=1.4, label="best so far (rung 0)")
    for family in dict.fromkeys(p.family for p in curve):
        for rung, marker in ((0, "o"), (1, "s")):
            picked = [i for i, p in enumerate(curve) if p.family == family and (p.rung == 0) == (rung == 0)]
            ax.scatter(x[picked], [curve[i].score for i in picked], s=16 if rung == 0 else 30, marker=marker,
                       color=colour(family), alpha=0.6, linewidths=0)
    for i, point in enumerate(analysis.first_of_each_family(curve)):
        ax.axvline(point.joules, color=colour(point.family), linewidth=0.8, linestyle=":")
        # Labels at alternating heights: families reached close together would overprint.
        ax.annotate(point.family, xy=(point.joules, 0.99 - 0.17 * (i % 2)), xycoords=("data", "axes fraction"),
                    rotation=90, fontsize=7, va="top", ha="right", color=colour(point.family))
    _mark_stop(ax, record, curve)
    promoted = [p for p in curve if p.rung > 0]
    if promoted:
        start = max((p.joules for p in curve if p.rung == 0), default=promoted[0].joules)
        ax.axvspan(start, x.max() * 1.05, color="#4575b4", alpha=0.08, linewidth=0,
                   label="promoted to more rows (squares)")
    _log_x(ax)
    measured = record.run.get("config", {}).get("decision_energy") == "measured"
    how = "as the meter read it" if measured else "as the cost model estimates it, which the stop rule reads"
    ax.set_xlabel(f"cumulative energy of the search, J (log): {how}")
    ax.set_ylabel(_metric_label(record))
    _clip_to_good(ax, pd.Series([p.score for p in curve]), record.greater_is_better)
    # Below the axes, where no data is: inside, it sat on the curve or its points.
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=7.5, frameon=False)
    return to_svg(fig, "search")


def _mark_stop(ax, record: FitRecord, curve: list) -> None:
    """The doublings the plateau rule compared, and where the search stopped."""
    detail = record.run.get("stop_detail") or {}
    reason = record.run["stop_reason"]
    from .words import gain_phrase

    doublings = detail.get("doublings") or []
    for i, doubling in enumerate(doublings):
        ax.axvspan(doubling["from_j"], doubling["to_j"], color="#fdae61", alpha=0.25, linewidth=0,
                   label="the last doubling(s) of energy the plateau rule compared" if i == 0 else None)
    if doublings:
        ax.set_title(f"the last doubling improved the best by {gain_phrase(doublings[0]['gain'])} "
                     f"(tolerance {float(detail.get('tol', 0)):.4g})", fontsize=7, color="#b35806", loc="right")
    stop_at = doublings[0]["to_j"] if doublings else (curve[-1].joules if curve else None)
    if stop_at:
        ax.axvline(stop_at, color="#b2182b", linestyle="--", linewidth=1, label=f"stop: {reason}")


def energy_breakdown(record: FitRecord) -> str:
    """Where the energy went: by family (fit and predict) and by phase of the fit."""
    families = analysis.energy_by_family(record)
    phases = [p for p in analysis.energy_by_phase(record) if p.joules > 0]
    height = max(2.6, 0.28 * max(len(families), len(phases)) + 1.2)
    fig, axes = _figure(height=height, columns=2, left=1.45)
    ax = axes[0]
    names = list(families["family"])[::-1]
    fit, predict = families["fit_j"].to_numpy()[::-1], families["predict_j"].to_numpy()[::-1]
    ax.barh(names, fit, color=[colour(n) for n in names])
    ax.barh(names, predict, left=fit, color=[colour(n) for n in names], alpha=0.45)
    ax.set_xlabel("joules of the candidates: fit (solid), validation predict (light)")
    ax = axes[1]
    # A linear axis: bar lengths compare as the joules do (a log axis made 5 J look like 27 J).
    ax.barh([p.name for p in phases][::-1], [p.joules for p in phases][::-1], color="#4d4d4d")
    ax.set_xlabel("joules by phase of the fit")
    for axis in axes:
        axis.tick_params(axis="y", labelsize=7.5)
    return to_svg(fig, "energy")
