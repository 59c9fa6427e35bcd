"""``stackfold compare``: runs of the same data and folds side by side, with paired bootstrap differences.

Every run is compared with the first: for each row name both have, and for their top rows,
the difference (other run minus first run) of the challenge metric on the OOF rows both cover,
with its 95% interval from resampling those rows together (stratified, 1,000 resamples). The
difference is in the metric's own units: positive is better where higher is, worse for log loss.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from stackfold.version import __version__
from stackfold.bootstrap import N_RESAMPLES, bootstrap_losses, bootstrap_scores
from stackfold.competition.metric import metric_info
from stackfold.errors import RunFolderMismatchError
from stackfold.report import charts
from stackfold.report.blocks import Section, frame_table
from stackfold.report.contents import RunContents, load_run
from stackfold.report.page import render_page, write_page


@dataclass(frozen=True)
class Comparison:
    """``scores``: one row per leaderboard row name, OOF score and interval per run; ``differences``: paired tests."""

    labels: list[str]
    metric: str
    scores: pd.DataFrame
    differences: pd.DataFrame

    @property
    def direction(self) -> str:
        """Which way the metric is better, for titles: ``higher is better`` or ``lower is better``."""
        return "higher is better" if metric_info(self.metric).higher_is_better else "lower is better"


def compare_runs(paths: Sequence[Path], seed: int = 0) -> Comparison:
    """Load the runs, refuse any of other data or folds than the first, and compare each with the first."""
    runs = [load_run(p) for p in paths]
    for other in runs[1:]:
        _check_comparable(runs[0], other)
    labels = _labels(paths)
    return Comparison(labels, runs[0].spec.metric, _scores(runs, labels), _differences(runs, labels, seed))


def _check_comparable(first: RunContents, other: RunContents) -> None:
    """One line naming what differs when ``other`` was not made from ``first``'s data and folds."""
    a, b = first.folder.root, other.folder.root
    if first.spec.name != other.spec.name:
        raise RunFolderMismatchError(f"{b}: a {other.spec.name} run, {a} a {first.spec.name} one; "
                                     "compare runs of one challenge")
    data_a, data_b = first.origin.get("data"), other.origin.get("data")
    if data_a != data_b:
        raise RunFolderMismatchError(f"{b}: made from other data than {a} (fingerprint {data_b} vs {data_a}); "
                                     "compare runs of the same data and folds")
    same_rows = first.assignment.index.equals(other.assignment.index)
    if not same_rows or not np.array_equal(first.assignment.folds, other.assignment.folds):
        raise RunFolderMismatchError(f"{b}: other folds than {a} ({other.folder.folds} differs from "
                                     f"{first.folder.folds}); rerun one with the other's folds and seed")


def _labels(paths: Sequence[Path]) -> list[str]:
    """Each run's folder name, or its whole path where names repeat."""
    names = [Path(p).name for p in paths]
    return [n if names.count(n) == 1 else str(p) for n, p in zip(names, paths)]


def _scores(runs: list[RunContents], labels: list[str]) -> pd.DataFrame:
    frames = []
    for run, label in zip(runs, labels):
        board = run.leaderboard.set_index("model")
        frames.append(pd.DataFrame({
            (label, "OOF"): board["oof_score"], (label, "low"): board["ci_low"], (label, "high"): board["ci_high"],
        }))
    order = list(dict.fromkeys(m for run in runs for m in run.leaderboard["model"]))
    return pd.concat(frames, axis=1).reindex(order).rename_axis("model")


def _differences(runs: list[RunContents], labels: list[str], seed: int) -> pd.DataFrame:
    """Paired bootstrap of (other run - first run) per common row name and for the top rows."""
    first = runs[0]
    pairs = []  # (row shown, other run label, first run's row, other run's row, index of the other run)
    for k, other in enumerate(runs[1:], start=1):
        common = [m for m in first.leaderboard["model"] if m in set(other.leaderboard["model"])]
        pairs += [(m, labels[k], m, m, k) for m in common]
        pairs.append((f"top rows: {first.best} -> {other.best}", labels[k], first.best, other.best, k))
    by_loss = metric_info(first.spec.metric).needs_probabilities  # log loss: each row's loss, else its class
    kept = [(run.losses if by_loss else run.predictions) for run in runs]
    columns = [kept[0][a] for _, _, a, _, _ in pairs] + [kept[k][b] for _, _, _, b, k in pairs]
    matrix = np.column_stack(columns)
    if by_loss:
        covered = ~np.isnan(matrix).any(axis=1)
        scores = bootstrap_losses(first.y[covered], matrix[covered], first.spec.n_classes, N_RESAMPLES, seed)
    else:
        covered = (matrix >= 0).all(axis=1)
        scores = bootstrap_scores(first.y[covered], matrix[covered], first.spec.n_classes, first.spec.metric,
                                  N_RESAMPLES, seed)
    n = len(pairs)
    point, low, high = scores.difference(np.arange(n, 2 * n), np.arange(n))
    return pd.DataFrame({
        "row": [p[0] for p in pairs], "run": [p[1] for p in pairs], f"vs {labels[0]}": point, "low": low,
        "high": high, "significant": (low > 0) | (high < 0),
    })


def comparison_page(comparison: Comparison) -> str:
    """The comparison as a report-like page: scores side by side, then the paired differences with a chart."""
    scores = Section("scores", "Leaderboards side by side")
    scores.note(f"OOF {comparison.metric} ({comparison.direction}) of each row in each run, with its 95% bootstrap "
                "interval.")
    flat = comparison.scores.copy()
    flat.columns = [f"{run} {part}" for run, part in flat.columns]
    scores.blocks.append(frame_table(flat.reset_index(), id="scores-table"))
    differences = Section("differences", "Paired differences")
    differences.note(f"Other run minus {comparison.labels[0]} on the same OOF rows (paired stratified bootstrap, "
                     f"95%; {comparison.direction}); significant when the interval leaves out 0.")
    frame = comparison.differences
    differences.blocks.append(frame_table(frame, id="differences-table"))
    names = [f"{r} ({run})" for r, run in zip(frame["row"], frame["run"])]
    value = frame[f"vs {comparison.labels[0]}"]
    differences.chart(charts.intervals(names, value, frame["low"], frame["high"], ~frame["significant"],
                                       f"difference in {comparison.metric} (95% interval)", zero_line=True),
                      "Paired difference and its 95% interval; blue: not significant")
    title = "stackfold compare: " + " vs ".join(comparison.labels)
    return render_page(title, f"{len(comparison.labels)} runs of the same data and folds", [scores, differences],
                       f"stackfold {__version__}")


def write_comparison(comparison: Comparison, out: Path) -> Path:
    return write_page(Path(out), comparison_page(comparison))
