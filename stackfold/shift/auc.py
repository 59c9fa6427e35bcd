"""The AUC of out-of-fold test-probabilities, and its stratified bootstrap interval.

A resample draws, within train rows and within test rows, as many rows as each side has, with
replacement (the sides' sizes stay fixed, as in the folds). Rows are sorted by score once; a resample
is then a count per row, and its AUC one pass over the sorted counts: for every group of tied scores,
the test rows in it beat the train rows below it and tie with the train rows in it. So 1,000 resamples
of 100,000 rows take about a second.
"""

import numpy as np
from sklearn.metrics import roc_auc_score

from stackfold.shift.result import Auc

N_RESAMPLES = 1000
LEVEL = 0.95
_BATCH_CELLS = 5_000_000
"""Resample counts are drawn in batches of at most this many (resample, row) cells: bounded memory."""


def auc_interval(scores: np.ndarray, is_test: np.ndarray, seed: int = 0, n_resamples: int = N_RESAMPLES,
                 level: float = LEVEL) -> Auc:
    """The AUC of ``scores`` for ``is_test`` (booleans) and its percentile interval; same inputs and seed, same
    interval."""
    scores, is_test = np.asarray(scores, dtype=np.float64), np.asarray(is_test, dtype=bool)
    order = np.argsort(scores, kind="stable")
    sorted_scores, sorted_test = scores[order], is_test[order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])  # each group of tied scores
    sides = [np.flatnonzero(sorted_test == side) for side in (False, True)]
    rng = np.random.default_rng(seed)
    draws: list[np.ndarray] = []
    batch = max(1, _BATCH_CELLS // len(scores))
    while sum(map(len, draws)) < n_resamples:
        size = min(batch, n_resamples - sum(map(len, draws)))
        counts = np.zeros((size, len(scores)))
        for rows in sides:
            picked = rows[rng.integers(0, len(rows), size=(size, len(rows)))]
            counts += np.bincount((picked + np.arange(size)[:, None] * len(scores)).ravel(),
                                  minlength=size * len(scores)).reshape(size, len(scores))
        draws.append(_sorted_auc(counts, sorted_test, starts))
    tail = (1 - level) / 2
    low, high = np.quantile(np.concatenate(draws), [tail, 1 - tail])
    return Auc(float(roc_auc_score(is_test, scores)), float(low), float(high))


def _sorted_auc(counts: np.ndarray, sorted_test: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The AUC of each row of ``counts`` (how often each row, in score order, was drawn): ``(resamples,)``."""
    test = np.add.reduceat(counts * sorted_test, starts, axis=1)
    train = np.add.reduceat(counts * ~sorted_test, starts, axis=1)
    below = np.cumsum(train, axis=1) - train
    wins = (test * (below + 0.5 * train)).sum(axis=1)
    return wins / (test.sum(axis=1) * train.sum(axis=1))
