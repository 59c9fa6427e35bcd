"""Leaderboard: one row per base model and stacker, CV scores, sorted by the challenge metric."""

import pandas as pd

from stackfold.io import write_text_atomic
from stackfold.run_folder import RunFolder

COLUMNS = ["model", "level", "wf1_mean", "wf1_std", "accuracy", "macro_f1", "fit_s", "predict_s", "blank_images"]
"""``blank_images``: images the model's views replaced by white (``on_bad_image = "blank"``), train and test."""


def leaderboard_frame(rows: list[dict], rank_by: str = "wf1_mean") -> pd.DataFrame:
    """Rows (``model``, ``level`` and a CV summary each) sorted best first by column ``rank_by``."""
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.sort_values([rank_by, "model"], ascending=[False, True], ignore_index=True)


def write_leaderboard(run: RunFolder, frame: pd.DataFrame) -> None:
    """Save as ``leaderboard.csv`` and ``leaderboard.md``."""
    rounded = frame.round({"wf1_mean": 4, "wf1_std": 4, "accuracy": 4, "macro_f1": 4, "fit_s": 1, "predict_s": 1})
    write_text_atomic(run.leaderboard, rounded.to_csv(index=False))
    write_text_atomic(run.leaderboard.with_suffix(".md"), rounded.to_markdown(index=False) + "\n")


def read_leaderboard(run: RunFolder) -> pd.DataFrame:
    return pd.read_csv(
        run.require(run.leaderboard, "leaderboard"), dtype={"model": str, "level": str}, keep_default_na=False
    )
