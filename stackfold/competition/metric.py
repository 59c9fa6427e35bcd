"""The challenge metrics, and the fixed set of scores every leaderboard row reports.

Each metric says which way is better (log loss: lower) and whether it scores probabilities
or labels; everything that compares scores asks :func:`metric_info` instead of assuming
"higher is better".
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

LOG_LOSS_CLIP = 1e-15
"""Kaggle's multi-class log loss clips each probability to [1e-15, 1 - 1e-15] before renormalising the row."""


def weighted_f1(y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None) -> float:
    """Rakuten's metric: F1 per class averaged with class support as weights (``sample_weight``: each row counted
    that many times, e.g. its test-likeness)."""
    return float(f1_score(y_true, y_pred, average="weighted", zero_division=0, sample_weight=sample_weight))


def accuracy(y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None) -> float:
    """Cdiscount's metric: share of products whose category is right."""
    return float(accuracy_score(y_true, y_pred, sample_weight=sample_weight))


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None) -> float:
    """F1 per class, every class weighing the same."""
    return float(f1_score(y_true, y_pred, average="macro", zero_division=0, sample_weight=sample_weight))


def row_log_losses(true_positions: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """``-log p`` of each row's true class, as Kaggle scores it: clipped at 1e-15, each row renormalised."""
    clipped = np.clip(np.asarray(proba, dtype=np.float64), LOG_LOSS_CLIP, 1 - LOG_LOSS_CLIP)
    clipped /= clipped.sum(axis=1, keepdims=True)
    return -np.log(clipped[np.arange(len(true_positions)), true_positions])


def log_loss(true_positions: np.ndarray, proba: np.ndarray) -> float:
    """Kaggle's multi-class log loss of probabilities ``(N, K)`` against class positions ``(N,)``."""
    return float(row_log_losses(true_positions, proba).mean())


@dataclass(frozen=True)
class Metric:
    """A challenge metric: its direction, what it scores, and where a run keeps it."""

    name: str
    higher_is_better: bool
    needs_probabilities: bool
    fold_key: str
    """The key of a fold's scores holding it (:func:`fold_scores`)."""
    summary_column: str
    """The leaderboard column (CV mean over folds) holding it: what rows are ranked by."""

    def better(self, a: float, b: float) -> bool:
        """Whether score ``a`` beats score ``b``."""
        return a > b if self.higher_is_better else a < b

    def sign(self) -> float:
        """+1 where higher is better, -1 where lower is: ``sign() * score`` is always to be maximised."""
        return 1.0 if self.higher_is_better else -1.0


METRICS: dict[str, Metric] = {
    "accuracy": Metric("accuracy", True, False, "accuracy", "accuracy"),
    "weighted_f1": Metric("weighted_f1", True, False, "wf1", "wf1_mean"),
    "macro_f1": Metric("macro_f1", True, False, "macro_f1", "macro_f1"),
    "log_loss": Metric("log_loss", False, True, "log_loss", "log_loss"),
}
"""Each challenge metric by the name a :class:`CompetitionSpec` gives in ``metric``."""

LABEL_METRICS: dict[str, Callable[..., float]] = {
    "accuracy": accuracy, "weighted_f1": weighted_f1, "macro_f1": macro_f1}
"""The metrics of hard predictions, by name: ``(y_true, y_pred, sample_weight=None)``."""


def metric_info(name: str) -> Metric:
    try:
        return METRICS[name]
    except KeyError as e:
        raise ValueError(f"unknown metric {name!r}; known: {', '.join(METRICS)}") from e


SUMMARY_COLUMN = {name: m.summary_column for name, m in METRICS.items()}
"""The leaderboard column (CV mean) holding each challenge metric: what rows are ranked by."""

FOLD_SCORE = {name: m.fold_key for name, m in METRICS.items()}
"""The key of :func:`classification_scores` (or :func:`fold_scores`) holding each challenge metric: a fold's score."""


def classification_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Weighted F1, accuracy and macro F1 of hard predictions."""
    return {"wf1": weighted_f1(y_true, y_pred), "accuracy": accuracy(y_true, y_pred),
            "macro_f1": macro_f1(y_true, y_pred)}


def score_from_counts(metric: str, true_positives: np.ndarray, predicted: np.ndarray, support: np.ndarray) -> np.ndarray:
    """A label ``metric`` from per-class counts, vectorised over leading axes (e.g. bootstrap resamples).

    ``true_positives`` and ``predicted`` are ``(..., n_classes)``: rows of class k predicted k,
    and rows predicted k; ``support`` is ``(n_classes,)``: rows of class k. Equal to
    :func:`weighted_f1` / :func:`macro_f1` / :func:`accuracy` of the rows counted (F1 of class k is
    ``2 tp / (support + predicted)``, 0 when both are 0; macro F1 averages the classes present in
    the rows or predicted, as scikit-learn does).
    """
    n_rows = support.sum()
    if metric == "accuracy":
        return true_positives.sum(axis=-1) / n_rows
    if metric in ("weighted_f1", "macro_f1"):
        denominator = support + predicted
        f1 = np.divide(2.0 * true_positives, denominator, out=np.zeros(denominator.shape), where=denominator > 0)
        if metric == "weighted_f1":
            return (f1 * support).sum(axis=-1) / n_rows
        return f1.sum(axis=-1) / np.maximum((denominator > 0).sum(axis=-1), 1)
    raise ValueError(f"{metric!r} is not a metric of labels; known: {', '.join(LABEL_METRICS)}")
