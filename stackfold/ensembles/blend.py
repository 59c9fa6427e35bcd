"""The baselines every serious competitor tries before boosting the stack.

Each is a :class:`BaseModel` over the stack matrix (``n_models * n_classes`` columns, one
block of class probabilities per base model), so it is cross-validated on the same folds
and scored as honestly as the boosted stackers. Over a top-k stack (many classes,
:class:`~stackfold.core.topk.TopKStack`) each blends the models' probabilities of every row's
candidates, the union of their top k (:class:`~stackfold.core.topk.Pool`), and gives the top k.
"""

import warnings
from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax, logsumexp, softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from stackfold.core.estimator import BaseModel
from stackfold.core.params import count, positive
from stackfold.core.topk import Pool, Probabilities, TopKStack
from stackfold.progress import Cost

EPS = 1e-6
POOLED_FIT_ROWS = 250_000
"""Rows a top-k ``log_pool`` fits its few weights on: ``(rows, models, candidates)`` floats stay under ~1 GB."""


def model_blocks(X: np.ndarray, n_classes: int) -> np.ndarray:
    """The stack matrix as ``(n_rows, n_models, n_classes)``."""
    return X.reshape(X.shape[0], -1, n_classes)


def covered_blocks(X: np.ndarray, n_classes: int) -> np.ndarray:
    """:func:`model_blocks` with the rows a model did not cover (NaN) as uniform probabilities."""
    return np.nan_to_num(model_blocks(X, n_classes), nan=1.0 / n_classes)


def truth_probabilities(X: np.ndarray | TopKStack, y: np.ndarray, n_classes: int) -> np.ndarray:
    """``(n_rows, n_models)``: each model's probability of the row's true class (uncovered rows: uniform)."""
    if isinstance(X, TopKStack):
        return np.stack([np.where(p.covered(), p.probability_of(y[:, None])[:, 0], 1.0 / n_classes)
                         for p in X.parts], axis=1).astype(np.float64)
    return covered_blocks(X, n_classes)[np.arange(len(y)), :, y]


class MeanBlend(BaseModel):
    """Unweighted mean of the base models' probabilities (NaN rows of a model are skipped)."""

    name = "mean"
    cost = Cost(1.0)
    reads_top_k = True

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        pass

    def _predict_proba(self, X: np.ndarray | TopKStack) -> Probabilities:
        if isinstance(X, TopKStack):
            pool = Pool.of(X.parts)
            return pool.top_k(np.nan_to_num(np.nanmean(pool.values, axis=1), nan=1.0 / len(self.classes)), X.k)
        return np.nan_to_num(np.nanmean(model_blocks(X, len(self.classes)), axis=1), nan=1.0 / len(self.classes))


class WeightedBlend(BaseModel):
    """Weighted mean of the base models' probabilities, weights minimising log loss on the training rows.

    Weights are a softmax of free parameters (positive, summing to one), found by L-BFGS;
    ``l2`` pulls them toward equal weights.

    Parameters:
        l2: L2 penalty on the weights' free parameters: larger pulls the weights toward equal.
        max_iter: iterations of L-BFGS at most.
    """

    name = "weighted_mean"
    cost = Cost(2.5)
    reads_top_k = True
    parameters = {"l2": positive(1e-3), "max_iter": count(200)}

    def _fit(self, X: np.ndarray | TopKStack, y: np.ndarray) -> None:
        truth = truth_probabilities(X, y, len(self.classes))

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            weights = softmax(theta)
            mixed = truth @ weights + EPS
            grad_weights = -(truth / mixed[:, None]).mean(axis=0)
            value = -np.log(mixed).mean() + self.params["l2"] * np.sum(theta**2)
            jacobian = weights * (grad_weights - grad_weights @ weights)
            return value, jacobian + 2 * self.params["l2"] * theta

        result = minimize(loss, np.zeros(truth.shape[1]), jac=True, method="L-BFGS-B",
                          options={"maxiter": self.params["max_iter"]})
        self.weights_ = softmax(result.x)

    def _predict_proba(self, X: np.ndarray | TopKStack) -> Probabilities:
        if isinstance(X, TopKStack):
            pool = Pool.of(X.parts)
            return pool.top_k(np.einsum("rmu,m->ru", pool.filled()[0], self.weights_), X.k)
        blocks = covered_blocks(X, len(self.classes))
        return np.einsum("rmc,m->rc", blocks, self.weights_)


class LogPool(BaseModel):
    """Weighted geometric pooling: ``softmax(sum_m w_m log(p_m + floor))``, weights minimising log loss.

    One non-negative weight per base model (L-BFGS-B, ``l2`` on the weights), so a few hundred
    rows fit it: where ``weighted_mean`` averages probabilities, pooling their logarithms lets
    several models' agreement multiply, and the weights' scale also sets the temperature.
    ``floor`` as in :class:`LogitStack`. On the 1,795 real products it was the best stacker.

    Parameters:
        floor: added to every probability before its logarithm, so a confident zero of one model cannot veto a class.
        l2: L2 penalty on the weights (0.01, 0.1 or chosen by an inner CV were no better on the real rows).
        max_iter: iterations of L-BFGS-B at most.
    """

    name = "log_pool"
    cost = Cost(13.0)
    reads_top_k = True
    parameters = {"floor": positive(0.01), "l2": positive(1e-3), "max_iter": count(200)}

    def _log_blocks(self, X: np.ndarray) -> np.ndarray:
        return np.log(covered_blocks(X, len(self.classes)) + self.params["floor"])

    def _fit(self, X: np.ndarray | TopKStack, y: np.ndarray) -> None:
        if isinstance(X, TopKStack):
            self.weights_ = self._fit_pooled(X, y)
            return
        logs = self._log_blocks(X)
        rows, l2 = np.arange(len(y)), self.params["l2"]
        truth = logs[rows, :, y]  # (n_rows, n_models)

        def loss(weights: np.ndarray) -> tuple[float, np.ndarray]:
            log_proba = log_softmax(np.einsum("rmc,m->rc", logs, weights), axis=1)
            expected = np.einsum("rmc,rc->rm", logs, np.exp(log_proba))
            value = -log_proba[rows, y].mean() + l2 * np.sum(weights**2)
            return value, -(truth - expected).mean(axis=0) + 2 * l2 * weights

        self.weights_ = self._minimize(loss, logs.shape[1])

    def _minimize(self, loss: Callable[[np.ndarray], tuple[float, np.ndarray]], n_models: int) -> np.ndarray:
        result = minimize(loss, np.full(n_models, 1.0 / n_models), jac=True, method="L-BFGS-B",
                          bounds=[(0.0, None)] * n_models, options={"maxiter": self.params["max_iter"]})
        return result.x

    def _predict_proba(self, X: np.ndarray | TopKStack) -> Probabilities:
        if isinstance(X, TopKStack):
            pool, logs, other_logs = self._pooled_logs(X)
            candidates, _, _ = _pooled_log_proba(pool, logs, other_logs, self.weights_)
            return pool.top_k(np.exp(candidates), X.k)
        return softmax(np.einsum("rmc,m->rc", self._log_blocks(X), self.weights_), axis=1)

    def _pooled_logs(self, X: TopKStack) -> tuple[Pool, np.ndarray, np.ndarray]:
        """Each model's ``log(p + floor)`` of every row's candidates ``(n, m, u)``, and of any outside class."""
        pool = Pool.of(X.parts)
        values, other = pool.filled()
        return pool, np.log(values + self.params["floor"]), np.log(other + self.params["floor"])

    def _fit_pooled(self, X: TopKStack, y: np.ndarray) -> np.ndarray:
        """The weights over top-k input: the same loss, the classes outside a row's candidates as one bucket;
        on at most ``POOLED_FIT_ROWS`` rows (a seeded sample), so memory stays bounded at millions of rows."""
        if len(y) > POOLED_FIT_ROWS:
            rows = np.sort(np.random.default_rng(self.seed).choice(len(y), POOLED_FIT_ROWS, replace=False))
            X, y = X.take(rows), y[rows]
        pool, logs, other_logs = self._pooled_logs(X)
        truth = np.log(truth_probabilities(X, y, len(self.classes)) + self.params["floor"])
        l2 = self.params["l2"]

        def loss(weights: np.ndarray) -> tuple[float, np.ndarray]:
            candidates, outside, log_z = _pooled_log_proba(pool, logs, other_logs, weights)
            p, p_outside = np.exp(candidates), np.exp(outside) * pool.n_other  # p is 0 on a repeat
            expected = np.einsum("rmu,ru->rm", logs, p) + other_logs * p_outside[:, None]
            value = -(truth @ weights - log_z).mean() + l2 * np.sum(weights**2)
            return value, -(truth - expected).mean(axis=0) + 2 * l2 * weights

        return self._minimize(loss, logs.shape[1])


def _pooled_log_proba(pool: Pool, logs: np.ndarray, other_logs: np.ndarray,
                      weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log-probabilities of pooling over all classes: of each candidate (-inf for a repeat) ``(n, u)``, of each
    outside class ``(n,)``, and the log normaliser ``(n,)``."""
    candidates = np.where(pool.valid, np.einsum("rmu,m->ru", logs, weights), -np.inf)
    outside = other_logs @ weights
    with np.errstate(divide="ignore"):
        outside_total = outside + np.log(pool.n_other)  # -inf when the candidates are every class
    log_z = np.logaddexp(logsumexp(candidates, axis=1), outside_total)
    return candidates - log_z[:, None], outside - log_z, log_z


class LogitStack(BaseModel):
    """Multinomial logistic regression (L-BFGS, ``max_iter`` iterations) on the log-probabilities of every base model.

    Features are ``log(p + floor)``: below about ``floor`` a probability carries no more
    evidence, and unfloored log-probabilities (down to log 1e-6) let one model's confident
    zeros dominate. On a 5,000-product twin stack (3 models) ``floor`` 0.01 scored 0.769 CV
    weighted F1 in 3.3 s against 0.748 in 12.1 s with 1e-6. L-BFGS stopped at 100 iterations
    cost time in proportion to the rows, where ``newton-cg`` grew 9x from 5,000 to 20,000 products
    (11 models), and scored as well or better on the twin (fold 0 at 20,000: 0.8456 against 0.8383).

    Parameters:
        C: inverse regularisation strength of the logistic regression.
        floor: added to every probability before its logarithm (0.01 beat 1e-6 on the twin).
        max_iter: iterations of L-BFGS at most.
    """

    name = "logreg_stack"
    cost = Cost(72.0, fixed=3.5)
    parameters = {"C": positive(0.1), "floor": positive(0.01), "max_iter": count(100)}

    def _features(self, X: np.ndarray) -> np.ndarray:
        return np.log(np.nan_to_num(X, nan=1.0 / len(self.classes)) + self.params["floor"])

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        self.model_ = LogisticRegression(C=self.params["C"], solver="lbfgs", max_iter=self.params["max_iter"],
                                         random_state=self.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed budget of iterations, by design
            self.model_.fit(self._features(X), y)

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict_proba(self._features(X))
