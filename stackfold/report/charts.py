"""The report's charts, drawn with matplotlib and kept as inline SVG (text stays text: small and searchable).

Figures are built with the object API (no pyplot state); every SVG gets its own id salt so
that clip-path ids of several charts on one page never collide, and no date: same run, same bytes.
"""

import io
from collections.abc import Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from stackfold.competition.metric import metric_info

WIDTH = 7.5
"""Inches; the page shows charts at their natural width (100 dpi)."""
_STYLE = {"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False}


def to_svg(figure: Figure, chart_id: str) -> str:
    """The figure as an ``<svg>`` element (no XML prolog), ids salted with ``chart_id``."""
    buffer = io.StringIO()
    with matplotlib.rc_context({**_STYLE, "svg.hashsalt": chart_id}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _figure(height: float, width: float = WIDTH) -> Figure:
    with matplotlib.rc_context(_STYLE):
        return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _row_height(n: int) -> float:
    return 1.0 + 0.22 * n


def intervals(models: Sequence[str], point: Sequence[float], low: Sequence[float], high: Sequence[float],
              highlight: Sequence[bool], xlabel: str, zero_line: bool = False) -> Figure:
    """A point and its interval per row, first row at the top; highlighted rows blue, the rest gray."""
    figure = _figure(_row_height(len(models)))
    axes = figure.add_subplot()
    positions = np.arange(len(models))[::-1]
    colours = ["tab:blue" if h else "tab:gray" for h in highlight]
    axes.hlines(positions, low, high, colors=colours, linewidth=2)
    axes.scatter(point, positions, c=colours, zorder=3, s=18)
    if zero_line:
        axes.axvline(0, color="black", linewidth=0.8)
    axes.set_yticks(positions, list(models))
    axes.set_xlabel(xlabel)
    axes.grid(axis="x", alpha=0.3)
    return figure


def times(models: Sequence[str], fit: Sequence[float], predict: Sequence[float]) -> Figure:
    """Fit and predict seconds of every row (all folds), as stacked horizontal bars."""
    figure = _figure(_row_height(len(models)))
    axes = figure.add_subplot()
    positions = np.arange(len(models))[::-1]
    axes.barh(positions, fit, label="fit", color="tab:blue")
    axes.barh(positions, predict, left=fit, label="predict", color="tab:orange")
    axes.set_yticks(positions, list(models))
    axes.set_xlabel("seconds, all folds")
    axes.legend(loc="lower right")
    return figure


def heatmap(matrix: np.ndarray, rows: Sequence[str], columns: Sequence[str], title: str, colour_label: str,
            vmin: float = 0.0, vmax: float = 1.0, cmap: str = "Blues", annotate: bool = False) -> Figure:
    """A labelled matrix (confusion shares, error correlations).

    Laid out with fixed margins sized to the labels: a report draws one per leaderboard row, and
    automatic layout would triple the time. :func:`redraw_heatmap` reuses the figure for another
    matrix of the same labels.
    """
    cell = 0.24
    margin = 0.3 + 0.055 * max(len(label) for label in [*rows, *columns])  # inches of 7-point labels
    width, height = cell * len(columns), cell * len(rows)
    size = (margin + width + 1.4, margin + height + 0.5)
    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=size, dpi=100)
    axes = figure.add_axes((margin / size[0], margin / size[1], width / size[0], height / size[1]))
    bar = figure.add_axes(((margin + width + 0.2) / size[0], margin / size[1], 0.15 / size[0], height / size[1]))
    image = axes.imshow(matrix, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest")
    axes.set_xticks(np.arange(len(columns)), list(columns), rotation=90, fontsize=7)
    axes.set_yticks(np.arange(len(rows)), list(rows), fontsize=7)
    axes.set_title(title)
    if annotate:
        for (i, j), value in np.ndenumerate(matrix):
            if np.isfinite(value):
                axes.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6,
                          color="white" if abs(value) > 0.6 * vmax else "black")
    figure.colorbar(image, cax=bar, label=colour_label)
    return figure


def redraw_heatmap(figure: Figure, matrix: np.ndarray, title: str) -> Figure:
    """The same heatmap (labels, colours, no annotations) showing another matrix: ~40% faster than a new one."""
    axes = figure.axes[0]
    axes.images[0].set_data(matrix)
    axes.set_title(title)
    return figure


def shares(series: pd.Series, title: str) -> Figure:
    """Horizontal bars of shares (e.g. each base model's share of |SHAP|), largest at the top."""
    figure = _figure(_row_height(len(series)))
    axes = figure.add_subplot()
    positions = np.arange(len(series))[::-1]
    axes.barh(positions, series.to_numpy(float), color="tab:green")
    axes.set_yticks(positions, [str(i) for i in series.index])
    axes.set_xlabel(title)
    return figure


def reliability(bins: pd.DataFrame, ece: float, model: str) -> Figure:
    """Accuracy against mean confidence per bin, the diagonal being perfect calibration; bars: rows per bin."""
    figure = _figure(4.0, 5.5)
    axes = figure.add_subplot()
    filled = bins[bins["rows"] > 0]
    axes.plot([0, 1], [0, 1], linestyle="--", color="gray", label="perfectly calibrated")
    axes.plot(filled["confidence"], filled["accuracy"], marker="o", label=model)
    axes.set_xlabel("confidence (highest probability)")
    axes.set_ylabel("accuracy")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_title(f"{model}: expected calibration error {ece:.3f}")
    twin = axes.twinx()
    twin.bar((bins["low"] + bins["high"]) / 2, bins["rows"], width=0.08, alpha=0.2, color="tab:blue")
    twin.set_ylabel("rows")
    axes.legend(loc="upper left")
    return figure


def history(complete: pd.DataFrame, pruned: pd.DataFrame, metric: str, title: str) -> Figure:
    """Each complete trial's CV score and the best so far (the highest, or the lowest for a ``metric`` where lower
    is better), pruned trials at their last fold score: converged?

    Frames with columns ``number`` and ``value``.
    """
    higher = metric_info(metric).higher_is_better
    figure = _figure(3.2)
    axes = figure.add_subplot()
    axes.scatter(complete["number"], complete["value"], s=14, label="complete", color="tab:blue")
    if len(pruned):
        axes.scatter(pruned["number"], pruned["value"], s=14, marker="x", label="pruned (last fold)",
                     color="tab:gray")
    best = complete["value"].cummax() if higher else complete["value"].cummin()
    axes.step(complete["number"], best, where="post", label="best so far", color="tab:red")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("trial")
    axes.set_ylabel(f"CV {metric}" if higher else f"CV {metric} (lower is better)")
    axes.set_title(title)
    axes.legend(loc="lower right" if higher else "upper right")
    return figure


def grouped_bars(frame: pd.DataFrame, xlabel: str, ylabel: str, rotate: bool = True) -> Figure:
    """One group of bars per index entry, one bar per column (e.g. class shares: train vs predicted)."""
    figure = _figure(3.6 if rotate else 2.8)
    axes = figure.add_subplot()
    width = 0.8 / max(len(frame.columns), 1)
    positions = np.arange(len(frame))
    for k, column in enumerate(frame.columns):
        axes.bar(positions + k * width - 0.4 + width / 2, frame[column].to_numpy(float), width, label=str(column))
    axes.set_xticks(positions, [str(i) for i in frame.index], rotation=90 if rotate else 0, fontsize=7)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    if len(frame.columns) > 1:
        axes.legend()
    return figure


def histogram(values: dict[str, np.ndarray], xlabel: str) -> Figure:
    """Overlaid histograms of positive values on a log axis (text lengths: a few characters to thousands)."""
    figure = _figure(2.8)
    axes = figure.add_subplot()
    largest = max((v.max() for v in values.values() if len(v)), default=1)
    edges = np.geomspace(1, max(largest, 1) + 1, 40)
    for name, v in values.items():
        axes.hist(v[v > 0], bins=edges, alpha=0.5, label=name)
    axes.set_xscale("log")
    axes.set_xlabel(xlabel)
    axes.set_ylabel("rows")
    axes.legend()
    return figure
