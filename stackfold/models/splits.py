"""Inner validation splits taken from a training fold, for early stopping."""

import numpy as np


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
