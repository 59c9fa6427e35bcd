"""Stratified bootstrap of the challenge metric over OOF rows: intervals, and paired tests between rows.

Each resample draws, within every class, as many rows as the class has, with replacement
(stratified: class supports stay fixed, as in the folds). All models being compared are scored
on the *same* resampled rows, so differences between two models are paired. A label metric
(:func:`bootstrap_scores`): rows of one class are grouped by the tuple of predictions they
receive, and a resample is counted per group, so the metric of every model comes from a few
matrix products instead of a pass over the rows. A metric that is a mean over rows (log loss,
:func:`bootstrap_losses`): each resample's mean of the rows' losses, from each class's counts of
drawn rows times their losses.
"""

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from stackfold.competition.metric import score_from_counts

N_RESAMPLES = 1000
LEVEL = 0.95
_CELLS_PER_BATCH = 20_000_000
"""Resamples are counted in batches of at most this many (resample, model, class) cells and (resample, row)
draws: bounded memory for 5,270 classes or millions of rows."""


@dataclass(frozen=True)
class BootstrapScores:
    """The metric of each compared model on the rows (``point``, ``(M,)``) and on every resample (``draws``,
    ``(B, M)``)."""

    point: np.ndarray
    draws: np.ndarray

    def interval(self, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
        """Percentile interval of each model's score."""
        return _percentiles(self.draws, level)

    def gap(self, reference: int, level: float = LEVEL, higher_is_better: bool = True
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """How much worse every model is than ``reference``, paired: point, interval low, interval high.

        ``reference - model`` where higher is better, ``model - reference`` where lower is (log loss):
        positive is worse either way.
        """
        models, references = np.arange(self.draws.shape[1]), np.full(self.draws.shape[1], reference)
        return (self.difference(references, models, level) if higher_is_better
                else self.difference(models, references, level))

    def difference(self, first: np.ndarray, second: np.ndarray, level: float = LEVEL
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Paired differences ``first[i] - second[i]`` of model columns on the same resamples: point, low, high."""
        draws = self.draws[:, first] - self.draws[:, second]
        return (self.point[first] - self.point[second], *_percentiles(draws, level))


def _percentiles(draws: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    tail = (1 - level) / 2
    low, high = np.quantile(draws, [tail, 1 - tail], axis=0)
    return low, high


def bootstrap_scores(
    y: np.ndarray, predictions: np.ndarray, n_classes: int, metric: str, n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> BootstrapScores:
    """Score ``predictions`` (``(N, M)`` class indices of M models) against ``y`` (``(N,)`` class indices).

    Same inputs and seed, same draws. ``metric`` is a name of :data:`stackfold.competition.metric.METRICS`.
    """
    predictions = np.asarray(predictions).reshape(len(y), -1)
    support = np.bincount(y, minlength=n_classes).astype(float)
    by_class = np.argsort(y, kind="stable")  # each class's rows in their order, without a pass over y per class
    bounds = np.concatenate([[0], np.cumsum(np.bincount(y, minlength=n_classes))])
    groups = [_groups(predictions[by_class[bounds[c]:bounds[c + 1]]]) for c in range(n_classes)]
    n_models = predictions.shape[1]
    all_rows = [np.bincount(row_group, minlength=len(tuples))[None, :].astype(float) for tuples, row_group in groups]
    point = score_from_counts(metric, *_counts(groups, all_rows, n_models, n_classes), support)[0]
    rng = np.random.default_rng(seed)
    cells = max(n_models * n_classes, int(support.max()))
    batch = max(1, min(n_resamples, _CELLS_PER_BATCH // cells))
    draws = []
    for start in range(0, n_resamples, batch):
        size = min(batch, n_resamples - start)
        weights = [_resample(rng, row_group, len(tuples), size) for tuples, row_group in groups]
        draws.append(score_from_counts(metric, *_counts(groups, weights, n_models, n_classes), support))
    return BootstrapScores(point, np.vstack(draws))


def bootstrap_losses(
    y: np.ndarray, losses: np.ndarray, n_classes: int, n_resamples: int = N_RESAMPLES, seed: int = 0,
) -> BootstrapScores:
    """The mean of per-row ``losses`` (``(N, M)``: each row's loss under M models, e.g. its log loss) on the rows
    and on stratified resamples of them, ``y`` (``(N,)`` class indices) giving the strata.

    Each resample draws within every class as many rows as it has, with replacement, as :func:`bootstrap_scores`
    does; same inputs and seed, same draws.
    """
    losses = np.asarray(losses, dtype=np.float64).reshape(len(y), -1)
    n_models = losses.shape[1]
    by_class = np.argsort(y, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(y, minlength=n_classes))])
    rows = [by_class[bounds[c]:bounds[c + 1]] for c in range(n_classes)]
    rng = np.random.default_rng(seed)
    cells = max(n_models, int(np.diff(bounds).max(initial=1)))
    batch = max(1, min(n_resamples, _CELLS_PER_BATCH // cells))
    draws = []
    for start in range(0, n_resamples, batch):
        size = min(batch, n_resamples - start)
        total = np.zeros((size, n_models))
        for members in rows:
            if len(members):
                total += _resample(rng, np.arange(len(members)), len(members), size) @ losses[members]
        draws.append(total / max(len(y), 1))
    return BootstrapScores(losses.mean(axis=0), np.vstack(draws))


def _groups(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct prediction tuples among one class's rows, and the tuple of each row."""
    if not len(rows):
        return rows, np.zeros(0, dtype=np.int64)
    tuples, row_group = np.unique(rows, axis=0, return_inverse=True)
    return tuples, row_group.ravel()


def _resample(rng: np.random.Generator, row_group: np.ndarray, n_groups: int, size: int) -> np.ndarray:
    """``(size, n_groups)``: rows of each group in ``size`` resamples of the class's rows with replacement."""
    n = len(row_group)
    drawn = row_group[rng.integers(0, n, size=(size, n), dtype=np.int32)] if n else np.zeros((size, 0), dtype=np.int64)
    offsets = (np.arange(size) * n_groups)[:, None]
    return np.bincount((drawn + offsets).ravel(), minlength=size * n_groups).reshape(size, n_groups).astype(float)


def _counts(
    groups: list[tuple[np.ndarray, np.ndarray]], weights: list[np.ndarray], n_models: int, n_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """True positives and predicted counts ``(B, M, K)`` when group g of class c holds ``weights[c][:, g]`` rows."""
    size = len(weights[0])
    true_positives = np.zeros((size, n_models, n_classes))
    predicted = np.zeros((size, n_models * n_classes))
    for c, ((tuples, _), w) in enumerate(zip(groups, weights)):
        if not len(tuples):
            continue
        true_positives[:, :, c] = w @ (tuples == c).astype(float)
        # only the (model, class) cells this class's groups predict: touching all M x K of them for each of
        # 5,270 classes (Cdiscount) was the whole cost; counts are whole numbers, so the sums are exact either way
        cells, where = np.unique((np.arange(n_models) * n_classes + tuples).ravel(), return_inverse=True)
        rows = np.repeat(np.arange(len(tuples)), n_models)
        one_hot = sparse.csr_matrix((np.ones(len(rows)), (rows, where.ravel())), shape=(len(tuples), len(cells)))
        predicted[:, cells] += (one_hot.T @ w.T).T
    return true_positives, predicted.reshape(size, n_models, n_classes)
