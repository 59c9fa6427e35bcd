"""What a report reads from a finished run folder, loaded once: leaderboard, labels, folds, OOF probabilities."""

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from stackfold.competition.folds import FoldAssignment
from stackfold.competition.challenges import get_spec
from stackfold.competition.spec import CompetitionSpec
from stackfold.config import RunConfig, load_config
from stackfold.core.topk import Probabilities, predicted_positions
from stackfold.errors import RunFolderError
from stackfold.leaderboard import COLUMNS, read_leaderboard, row_losses
from stackfold.probability_files import read_probabilities
from stackfold.run_folder import Level, RunFolder


@dataclass(frozen=True)
class RunContents:
    """A finished run as the report sees it, in folds.csv row order.

    ``predictions[name]``: the class index each leaderboard row predicts out of fold (-1 where no
    fold covered the row); ``best_oof``: the top row's OOF probabilities (float32), the only ones
    drawn (its reliability diagram). Other rows' probabilities are read one at a time and dropped.
    ``losses[name]``: on a challenge scored by probabilities (log loss), each row's OOF loss (NaN where no fold
    covered the row), what its bootstraps resample; empty for a label metric.
    """

    folder: RunFolder
    config: RunConfig
    spec: CompetitionSpec
    origin: dict
    leaderboard: pd.DataFrame
    assignment: FoldAssignment
    best_oof: Probabilities
    predictions: dict[str, np.ndarray]
    losses: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def y(self) -> np.ndarray:
        """True class indices (positions in ``spec.classes``) of the training rows."""
        return pd.Index(self.spec.classes).get_indexer(self.assignment.labels)

    @property
    def best(self) -> str:
        """The leaderboard's top row: the submitted one."""
        return str(self.leaderboard["model"].iloc[0])

    def level(self, name: str) -> Level:
        return Level(self.leaderboard.set_index("model").at[name, "level"])


def load_run(run: Path) -> RunContents:
    """Read everything the report shows of ``run``; a missing or outdated piece is a one-line error."""
    folder = RunFolder(Path(run))
    config = load_config(folder.require(folder.config, "finished run (config.toml)"))
    board = read_leaderboard(folder.require(folder.leaderboard, "leaderboard"))
    missing = [c for c in COLUMNS if c not in board.columns]
    if missing:
        raise RunFolderError(f"{folder.leaderboard}: no column {', '.join(missing)} (written by an older stackfold); "
                             f"run `stackfold run` on the same data with --out {folder.root} again: it reuses "
                             "every result and rewrites the leaderboard")
    assignment = folder.load_fold_assignment()
    spec = get_spec(config.challenge)
    y = pd.Index(spec.classes).get_indexer(assignment.labels)
    predictions, losses, best_oof = {}, {}, np.empty(0, dtype=np.float32)
    for name, level in zip(board["model"], board["level"]):
        directory = folder.model_dir(Level(level), name)
        proba = read_probabilities(directory, "oof")
        proba = proba.astype(np.float32) if isinstance(proba, np.ndarray) else proba
        if len(proba) != len(assignment.labels):
            raise RunFolderError(f"{directory}: {len(proba)} OOF rows but {folder.folds} has "
                                 f"{len(assignment.labels)}; run `stackfold run` again to rewrite it")
        predictions[name] = predicted_positions(proba)
        losses.update(row_losses(spec.metric, {name: proba}, y) or {})
        if name == board["model"].iloc[0]:
            best_oof = proba
    origin = json.loads(folder.origin.read_text(encoding="utf-8")) if folder.origin.is_file() else {}
    return RunContents(folder, config, spec, origin, board, assignment, best_oof, predictions, losses)
