"""Leaderboard: one row per base model and stacker, CV scores with bootstrap intervals, best first.

The submitted-row rule: ``best.csv`` is the top row, the highest CV mean of the challenge metric
among *all* rows, base models and stackers alike (ties: the model name first in alphabetical
order). Its ``submitted`` cell is ``True``, every other ``False``.

Intervals (:mod:`stackfold.bootstrap`): ``oof_score`` is the challenge metric of a row's pooled
OOF predictions, ``ci_low``/``ci_high`` its 95% stratified bootstrap interval (1,000 resamples,
seeded by the run's seed), and ``gap_low``/``gap_high`` the 95% interval of the paired
difference *top row minus this row* on the same resamples: ``tied`` is true when that interval
holds 0, i.e. the row is not significantly worse than the top row.
"""

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from stackfold.bootstrap import N_RESAMPLES, bootstrap_scores
from stackfold.io import write_text_atomic

COLUMNS = ["model", "level", "wf1_mean", "wf1_std", "accuracy", "macro_f1", "oof_score", "ci_low", "ci_high",
           "gap_low", "gap_high", "tied", "fit_s", "predict_s", "blank_images", "submitted"]
"""``blank_images``: images the model's views replaced by white (``on_bad_image = "blank"``), train and test;
``submitted``: the row ``best.csv`` comes from."""
_INTERVAL_COLUMNS = ["oof_score", "ci_low", "ci_high", "gap_low", "gap_high"]


def leaderboard_frame(
    rows: list[dict], predictions: Mapping[str, np.ndarray], y: np.ndarray, n_classes: int, metric: str,
    rank_by: str, seed: int = 0,
) -> pd.DataFrame:
    """Rows (``model``, ``level`` and a CV summary each) sorted best first by ``rank_by``, the top one submitted.

    ``predictions[model]`` are the row's OOF class indices and ``y`` the true ones; rows some
    model left uncovered (NaN OOF: predicted as -1) are left out of every interval.
    """
    frame = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in (*_INTERVAL_COLUMNS, "tied", "submitted")])
    frame = frame.sort_values([rank_by, "model"], ascending=[False, True], ignore_index=True)
    matrix = np.column_stack([predictions[name] for name in frame["model"]])
    covered = (matrix >= 0).all(axis=1)
    scores = bootstrap_scores(y[covered], matrix[covered], n_classes, metric, N_RESAMPLES, seed)
    frame["oof_score"] = scores.point
    frame["ci_low"], frame["ci_high"] = scores.interval()
    _, frame["gap_low"], frame["gap_high"] = scores.gap(reference=0)
    frame["tied"] = (frame["gap_low"] <= 0) & (frame["gap_high"] >= 0)
    frame["submitted"] = frame.index == 0
    return frame[COLUMNS]


def write_leaderboard(frame: pd.DataFrame, csv: Path, markdown: Path) -> None:
    """Save as CSV (the run folder's ``leaderboard.csv``) and as a Markdown table (``leaderboard.md``)."""
    rounded = frame.round({**dict.fromkeys(["wf1_mean", "wf1_std", "accuracy", "macro_f1", *_INTERVAL_COLUMNS], 4),
                           "fit_s": 1, "predict_s": 1})
    write_text_atomic(csv, rounded.to_csv(index=False))
    write_text_atomic(markdown, rounded.to_markdown(index=False) + "\n")


def read_leaderboard(csv: Path) -> pd.DataFrame:
    return pd.read_csv(csv, dtype={"model": str, "level": str}, keep_default_na=False)
