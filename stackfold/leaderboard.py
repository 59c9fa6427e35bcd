"""Leaderboard: one row per base model and stacker, CV scores, sorted by the challenge metric.

The submitted-row rule: ``best.csv`` is the top row, the highest CV mean of the challenge metric
among *all* rows, base models and stackers alike (ties: the model name first in alphabetical
order). Its ``submitted`` cell is ``True``, every other ``False``.
"""

from pathlib import Path

import pandas as pd

from stackfold.io import write_text_atomic

COLUMNS = ["model", "level", "wf1_mean", "wf1_std", "accuracy", "macro_f1", "fit_s", "predict_s", "blank_images",
           "submitted"]
"""``blank_images``: images the model's views replaced by white (``on_bad_image = "blank"``), train and test;
``submitted``: the row ``best.csv`` comes from."""


def leaderboard_frame(rows: list[dict], rank_by: str = "wf1_mean") -> pd.DataFrame:
    """Rows (``model``, ``level`` and a CV summary each) sorted best first by column ``rank_by``, the top one submitted."""
    frame = pd.DataFrame(rows, columns=COLUMNS[:-1])
    frame = frame.sort_values([rank_by, "model"], ascending=[False, True], ignore_index=True)
    frame["submitted"] = frame.index == 0
    return frame


def write_leaderboard(frame: pd.DataFrame, csv: Path, markdown: Path) -> None:
    """Save as CSV (the run folder's ``leaderboard.csv``) and as a Markdown table (``leaderboard.md``)."""
    rounded = frame.round({"wf1_mean": 4, "wf1_std": 4, "accuracy": 4, "macro_f1": 4, "fit_s": 1, "predict_s": 1})
    write_text_atomic(csv, rounded.to_csv(index=False))
    write_text_atomic(markdown, rounded.to_markdown(index=False) + "\n")


def read_leaderboard(csv: Path) -> pd.DataFrame:
    return pd.read_csv(csv, dtype={"model": str, "level": str}, keep_default_na=False)
