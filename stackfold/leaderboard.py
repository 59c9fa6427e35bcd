"""Leaderboard: one row per base model and stacker, CV scores with bootstrap intervals, best first.

The submitted-row rule: ``best.csv`` is the top row, the best CV mean of the challenge metric
among *all* rows, base models and stackers alike: the highest, or the lowest for a metric where
lower is better (log loss); ties: the model name first in alphabetical order. Its ``submitted``
cell is ``True``, every other ``False``.

Intervals (:mod:`stackfold.bootstrap`): ``oof_score`` is the challenge metric of a row's pooled
OOF predictions (log loss: of its OOF probabilities), ``ci_low``/``ci_high`` its 95% stratified
bootstrap interval (1,000 resamples, seeded by the run's seed), and ``gap_low``/``gap_high`` the
95% interval of the paired amount by which the row is *worse than the top row* on the same
resamples (top row minus this row, or this row minus top row where lower is better): ``tied`` is
true when that interval holds 0, i.e. the row is not significantly worse than the top row.
"""

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from stackfold.bootstrap import N_RESAMPLES, BootstrapScores, bootstrap_losses, bootstrap_scores
from stackfold.competition.metric import metric_info, row_log_losses
from stackfold.core.topk import Probabilities
from stackfold.io import write_text_atomic

COLUMNS = ["model", "level", "wf1_mean", "wf1_std", "accuracy", "macro_f1", "oof_score", "ci_low", "ci_high",
           "gap_low", "gap_high", "tied", "fit_s", "predict_s", "blank_images", "leak_suspect", "submitted"]
"""``blank_images``: images the model's views replaced by white (``on_bad_image = "blank"``), train and test;
``leak_suspect``: an external model whose OOF score looks leaked (:func:`stackfold.external.leak_suspect`);
``submitted``: the row ``best.csv`` comes from."""
_INTERVAL_COLUMNS = ["oof_score", "ci_low", "ci_high", "gap_low", "gap_high"]
_SCORE_COLUMNS = ["wf1_mean", "wf1_std", "accuracy", "macro_f1", "log_loss"]


def leaderboard_columns(metric: str) -> list[str]:
    """:data:`COLUMNS`, with the CV mean of the challenge's metric after ``macro_f1`` where it is not one of theirs
    (``log_loss``): a label metric's leaderboard keeps exactly :data:`COLUMNS`."""
    column = metric_info(metric).summary_column
    if column in COLUMNS:
        return list(COLUMNS)
    at = COLUMNS.index("macro_f1") + 1
    return [*COLUMNS[:at], column, *COLUMNS[at:]]


def row_losses(metric: str, oof: Mapping[str, Probabilities], y: np.ndarray) -> dict[str, np.ndarray] | None:
    """Each row's OOF loss under each model (log loss, NaN where no fold covered the row) when ``metric`` scores
    probabilities, the input :func:`leaderboard_frame` bootstraps then; ``None`` for a label metric.

    ``oof[model]``: dense OOF probabilities; ``y``: true class indices.
    """
    if not metric_info(metric).needs_probabilities:
        return None
    return {name: row_log_losses(y, np.asarray(proba)) for name, proba in oof.items()}


def leaderboard_frame(
    rows: list[dict], predictions: Mapping[str, np.ndarray], y: np.ndarray, n_classes: int, metric: str,
    rank_by: str, seed: int = 0, losses: Mapping[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Rows (``model``, ``level`` and a CV summary each) sorted best first by ``rank_by`` in the metric's direction,
    the top one submitted.

    ``predictions[model]`` are the row's OOF class indices and ``y`` the true ones; for a metric of
    probabilities (log loss) ``losses[model]`` are each row's OOF losses (:func:`row_losses`), which the
    intervals then resample. Rows some model left uncovered (NaN OOF: predicted as -1, a NaN loss) are
    left out of every interval.
    """
    info = metric_info(metric)
    columns = leaderboard_columns(metric)
    frame = pd.DataFrame(rows, columns=[c for c in columns if c not in (*_INTERVAL_COLUMNS, "tied", "submitted")])
    frame = frame.sort_values([rank_by, "model"], ascending=[not info.higher_is_better, True], ignore_index=True)
    scores = _bootstrap(frame["model"], predictions, losses, y, n_classes, metric, seed)
    frame["oof_score"] = scores.point
    frame["ci_low"], frame["ci_high"] = scores.interval()
    _, frame["gap_low"], frame["gap_high"] = scores.gap(reference=0, higher_is_better=info.higher_is_better)
    frame["tied"] = (frame["gap_low"] <= 0) & (frame["gap_high"] >= 0)
    frame["submitted"] = frame.index == 0
    return frame[columns]


def _bootstrap(models: pd.Series, predictions: Mapping[str, np.ndarray], losses: Mapping[str, np.ndarray] | None,
               y: np.ndarray, n_classes: int, metric: str, seed: int) -> BootstrapScores:
    """The bootstrap of ``models``' OOF scores, in that order, on the rows every one of them covers."""
    if metric_info(metric).needs_probabilities:
        if losses is None:
            raise ValueError(f"{metric} is scored from probabilities: pass each row's losses (row_losses)")
        matrix = np.column_stack([losses[name] for name in models])
        covered = ~np.isnan(matrix).any(axis=1)
        return bootstrap_losses(y[covered], matrix[covered], n_classes, N_RESAMPLES, seed)
    matrix = np.column_stack([predictions[name] for name in models])
    covered = (matrix >= 0).all(axis=1)
    return bootstrap_scores(y[covered], matrix[covered], n_classes, metric, N_RESAMPLES, seed)


def write_leaderboard(frame: pd.DataFrame, csv: Path, markdown: Path, notes: list[str] | None = None) -> None:
    """Save as CSV (the run folder's ``leaderboard.csv``) and as a Markdown table (``leaderboard.md``), followed
    there by ``notes`` (what a time limit left out)."""
    rounded = frame.round({**dict.fromkeys([*_SCORE_COLUMNS, *_INTERVAL_COLUMNS], 4),
                           "fit_s": 1, "predict_s": 1})
    write_text_atomic(csv, rounded.to_csv(index=False))
    below = "".join(f"- {note}\n" for note in notes or ())
    write_text_atomic(markdown, rounded.to_markdown(index=False) + "\n" + ("\n" + below if below else ""))


def read_leaderboard(csv: Path) -> pd.DataFrame:
    return pd.read_csv(csv, dtype={"model": str, "level": str}, keep_default_na=False)
