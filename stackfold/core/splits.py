"""Inner validation splits taken from a training fold, for early stopping."""

import numpy as np


HOLDOUT_FRACTION = 0.2
"""What a single inner split (``n_folds = 1``) holds out: as much as one fold of five."""


def inner_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified (train, valid) row positions inside one training fold.

    Each class gives ``floor(fraction * count)`` rows to the validation part, so classes with
    a single row stay entirely in training instead of breaking the split.
    """
    rng = np.random.default_rng(seed)
    valid_parts = []
    for label in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == label))
        valid_parts.append(rows[: int(fraction * len(rows))])
    valid = np.sort(np.concatenate(valid_parts))
    train = np.setdiff1d(np.arange(len(y)), valid)
    return train, valid


def inner_folds(y: np.ndarray, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified (train, valid) splits inside one training fold, for inner CV such as calibration.

    Rows of each class are dealt round-robin over the folds, so a class with fewer rows than
    folds is simply absent from some validation parts instead of making the split fail. One fold
    means one split: a stratified ``HOLDOUT_FRACTION`` of the rows held out (:func:`inner_split`).
    """
    if n_folds == 1:
        return [inner_split(y, HOLDOUT_FRACTION, seed)]
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(y), dtype=np.int64)
    for label in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == label))
        fold_of[rows] = (np.arange(len(rows)) + int(rng.integers(n_folds))) % n_folds
    return [(np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)) for k in range(n_folds)]
