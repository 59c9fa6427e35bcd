"""One stratified K-fold assignment per run, saved once and read by every model and stacker."""

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from stackfold.competition.csv_files import id_index, parse_integers
from stackfold.errors import ConfigError, DataError
from stackfold.io import write_text_atomic


MAX_NAMED_CLASSES = 10
"""Small classes a warning names one by one (Cdiscount's twin can have thousands): the rest are counted."""


class SmallClassWarning(UserWarning):
    """A class has fewer training rows than folds, so some folds will not see it."""


def make_folds(y: np.ndarray, n_folds: int = 5, seed: int = 0) -> np.ndarray:
    """Fold number (0..n_folds-1) of every row, stratified by label and seeded.

    Classes with fewer rows than folds are allowed (real samples have them) and get a
    :class:`SmallClassWarning` naming the first ``MAX_NAMED_CLASSES`` of them and their counts.
    """
    if n_folds < 2:
        raise ConfigError(f"folds = {n_folds}: need at least 2 folds for out-of-fold predictions")
    if len(y) < n_folds:
        raise DataError(f"only {len(y)} training rows for {n_folds} folds; lower folds in the config")
    classes, counts = np.unique(y, return_counts=True)
    small = [f"{c} ({n} rows)" for c, n in zip(classes, counts) if n < n_folds]
    if small:
        named = ", ".join(small[:MAX_NAMED_CLASSES]) + (f" and {len(small) - MAX_NAMED_CLASSES} more"
                                                        if len(small) > MAX_NAMED_CLASSES else "")
        warnings.warn(
            f"{len(small)} classes have fewer rows than the {n_folds} folds: {named}; some folds will not see them",
            SmallClassWarning,
            stacklevel=2,
        )
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    folds = np.empty(len(y), dtype=np.int64)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        for fold, (_, valid) in enumerate(splitter.split(np.zeros(len(y)), y)):
            folds[valid] = fold
    return folds


def folds_digest(index: pd.Index, folds: np.ndarray) -> str:
    """Content hash of a fold assignment; part of every model's cache key."""
    if pd.api.types.is_integer_dtype(index):
        payload = np.stack([index.to_numpy(dtype=np.int64), folds]).tobytes()
    else:  # string ids
        payload = "\n".join(map(str, index)).encode() + np.asarray(folds, dtype=np.int64).tobytes()
    return hashlib.sha256(payload).hexdigest()[:16]


@dataclass(frozen=True)
class FoldAssignment:
    """The training rows' original index, fold number and label, as saved in a run folder."""

    index: pd.Index
    folds: np.ndarray
    labels: np.ndarray


def save_folds(path: Path, index: pd.Index, folds: np.ndarray, labels: np.ndarray) -> None:
    """Write the assignment as CSV ``index,fold,label``: with the labels, a run folder is enough to stack."""
    frame = pd.DataFrame({"index": index.to_numpy(), "fold": folds, "label": labels})
    write_text_atomic(path, frame.to_csv(index=False))


def load_folds(path: Path) -> FoldAssignment:
    """Read an assignment written by :func:`save_folds`; a damaged file is one error naming the row."""
    rewrite = "re-run `stackfold run` to rewrite it"
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as e:  # EmptyDataError is a ValueError
        raise DataError(f"{path}: not a valid CSV ({' '.join(str(e).split())}); {rewrite}") from e
    if list(frame.columns) != ["index", "fold", "label"]:
        raise DataError(f"{path}: expected columns index,fold,label; {rewrite}")
    columns: list = [id_index(path, frame["index"], "index")]
    for column in ("fold", "label"):
        values, bad = parse_integers(frame[column])
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(f"{path}, row {row + 1}, column {column}: {frame[column].iloc[row]!r} is not an integer; "
                            f"{rewrite}")
        columns.append(values)
    return FoldAssignment(columns[0], columns[1], columns[2])
