"""The cross-validated classifier of train rows against test rows: out-of-fold test-probabilities, and what
separates the sides.

Folds are stratified over the side (train or test), seeded; everything fitted (TF-IDF weights, scalers,
classifiers) is fitted on the fold's other rows only. A feature's weight is averaged over the folds' models:
no refit on all rows is needed to name what separates.
"""

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from stackfold.features.tfidf import FoldTfidf
from stackfold.shift.result import Separator

TERMS_C = 1.0
"""Inverse L2 strength of the logistic regression over TF-IDF terms."""
LINEAR_C = 0.1
"""Inverse L2 strength of the logistic regression over scaled dense features (hundreds of correlated dimensions)."""
TREE_PARAMS = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 20,
               "lambda_l2": 1.0, "deterministic": True, "force_row_wise": True, "verbosity": -1}
TREE_ROUNDS = 200


@dataclass(frozen=True)
class Fitted:
    """Out-of-fold test-probabilities of every row, and each column's weight averaged over the folds (terms and
    linear: the coefficient, positive toward test; trees: the share of the gain)."""

    oof: np.ndarray
    weights: np.ndarray


def side_folds(is_test: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """Each row's fold, stratified over the side, seeded."""
    folds = np.empty(len(is_test), dtype=np.int64)
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for k, (_, held_out) in enumerate(splitter.split(np.zeros(len(is_test)), is_test)):
        folds[held_out] = k
    return folds


def cross_validate(model: str, X: sp.csr_matrix | np.ndarray, is_test: np.ndarray, folds: np.ndarray, seed: int,
                   n_jobs: int) -> Fitted:
    """Fit ``model`` (``"terms"``, ``"linear"`` or ``"trees"``) on every fold's other rows."""
    oof = np.empty(len(is_test))
    weights = np.zeros(X.shape[1])
    n_folds = int(folds.max()) + 1
    for k in range(n_folds):
        fit, held_out = np.flatnonzero(folds != k), np.flatnonzero(folds == k)
        oof[held_out], fold_weights = _FITS[model](X[fit], is_test[fit], X[held_out], seed, n_jobs)
        weights += fold_weights / n_folds
    return Fitted(oof, weights)


def _terms(X: sp.csr_matrix, y: np.ndarray, held_out: sp.csr_matrix, seed: int, n_jobs: int
           ) -> tuple[np.ndarray, np.ndarray]:
    tfidf = FoldTfidf(min_df=2).fit(X)
    weights = np.zeros(X.shape[1])
    if not len(tfidf.columns_):  # no term in 2 of the fold's texts: the side's share is all it knows
        return np.full(held_out.shape[0], y.mean()), weights
    model = LogisticRegression(C=TERMS_C, solver="liblinear", random_state=seed).fit(tfidf.transform(X), y)
    weights[tfidf.columns_] = model.coef_[0]
    return model.predict_proba(tfidf.transform(held_out))[:, 1], weights


def _linear(X: np.ndarray, y: np.ndarray, held_out: np.ndarray, seed: int, n_jobs: int
            ) -> tuple[np.ndarray, np.ndarray]:
    scaler = StandardScaler().fit(X)
    model = LogisticRegression(C=LINEAR_C, max_iter=1000, random_state=seed).fit(scaler.transform(X), y)
    return model.predict_proba(scaler.transform(held_out))[:, 1], model.coef_[0]


def _trees(X: np.ndarray, y: np.ndarray, held_out: np.ndarray, seed: int, n_jobs: int
           ) -> tuple[np.ndarray, np.ndarray]:
    booster = lgb.train({**TREE_PARAMS, "num_threads": n_jobs, "seed": seed}, lgb.Dataset(X, y.astype(np.float64)),
                        num_boost_round=TREE_ROUNDS)
    gain = booster.feature_importance(importance_type="gain")
    return booster.predict(held_out), gain / gain.sum() if gain.sum() > 0 else gain


_FITS = {"terms": _terms, "linear": _linear, "trees": _trees}


def separators(model: str, fitted: Fitted, X: sp.csr_matrix | np.ndarray, is_test: np.ndarray,
               names: np.ndarray | None, top: int) -> tuple[Separator, ...]:
    """What separates the sides most: terms, the ``top`` strongest toward each side with the share of each side's
    rows holding them; features (trees, linear), the ``top`` heaviest with each side's mean. Nothing for columns
    without names."""
    if names is None or not len(names):
        return ()
    weights = fitted.weights
    if model == "terms":
        order = np.argsort(-weights, kind="stable")
        picked = [j for j in order[:top] if weights[j] > 0] + [j for j in order[::-1][:top] if weights[j] < 0]
        present = (X[:, picked] > 0).astype(np.float64)
        values = [np.asarray(present[~is_test].mean(axis=0)).ravel(), np.asarray(present[is_test].mean(axis=0)).ravel()]
    else:
        picked = [j for j in np.argsort(-np.abs(weights), kind="stable")[:top] if weights[j] != 0]
        dense = np.asarray(X[:, picked], dtype=np.float64)
        values = [np.nanmean(dense[~is_test], axis=0), np.nanmean(dense[is_test], axis=0)]
    found = []
    for i, j in enumerate(picked):
        train, test = float(values[0][i]), float(values[1][i])
        toward_test = weights[j] > 0 if model != "trees" else test > train
        found.append(Separator(str(names[j]), "test" if toward_test else "train", float(weights[j]), train, test))
    return tuple(found)
