"""The challenge metrics, and the fixed set of scores every leaderboard row reports."""

from collections.abc import Callable

import numpy as np
from sklearn.metrics import accuracy_score, f1_score


def weighted_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Rakuten's metric: F1 per class averaged with class support as weights."""
    return float(f1_score(y_true, y_pred, average="weighted", zero_division=0))


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Cdiscount's metric: share of products whose category is right."""
    return float(accuracy_score(y_true, y_pred))


METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {"accuracy": accuracy, "weighted_f1": weighted_f1}
"""Each challenge metric by the name a :class:`CompetitionSpec` gives in ``metric``."""

SUMMARY_COLUMN = {"accuracy": "accuracy", "weighted_f1": "wf1_mean"}
"""The leaderboard column (CV mean) holding each challenge metric: what rows are ranked by."""

FOLD_SCORE = {"accuracy": "accuracy", "weighted_f1": "wf1"}
"""The key of :func:`classification_scores` holding each challenge metric: a fold's score."""


def classification_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Weighted F1, accuracy and macro F1 of hard predictions."""
    return {
        "wf1": weighted_f1(y_true, y_pred),
        "accuracy": accuracy(y_true, y_pred),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
    }


def score_from_counts(metric: str, true_positives: np.ndarray, predicted: np.ndarray, support: np.ndarray) -> np.ndarray:
    """The challenge ``metric`` from per-class counts, vectorised over leading axes (e.g. bootstrap resamples).

    ``true_positives`` and ``predicted`` are ``(..., n_classes)``: rows of class k predicted k,
    and rows predicted k; ``support`` is ``(n_classes,)``: rows of class k. Equal to
    :func:`weighted_f1` / :func:`accuracy` of the rows counted (F1 of class k is
    ``2 tp / (support + predicted)``, 0 when both are 0).
    """
    n_rows = support.sum()
    if metric == "accuracy":
        return true_positives.sum(axis=-1) / n_rows
    if metric == "weighted_f1":
        denominator = support + predicted
        f1 = np.divide(2.0 * true_positives, denominator, out=np.zeros(denominator.shape), where=denominator > 0)
        return (f1 * support).sum(axis=-1) / n_rows
    raise ValueError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")
