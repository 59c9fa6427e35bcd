"""The numbers behind the report's sections, from OOF predictions and labels: plain functions, no drawing."""

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from stackfold.core.topk import Probabilities, TopK

MAX_SHOWN_CLASSES = 40
"""Charts of challenges with more classes show some: heatmaps those with the most errors, distributions the most
frequent (the rest summed as `other`)."""


def per_class_f1(y: np.ndarray, predictions: Mapping[str, np.ndarray], classes: Sequence[int],
                 names: Sequence[str]) -> pd.DataFrame:
    """F1 of every class (rows: code, name, support) for every model (columns), on the OOF rows each covers."""
    frame = pd.DataFrame({"code": list(classes), "category": list(names),
                          "support": np.bincount(y, minlength=len(classes))})
    labels = np.arange(len(classes))
    for name, predicted in predictions.items():
        covered = predicted >= 0
        frame[name] = f1_score(y[covered], predicted[covered], labels=labels, average=None, zero_division=0)
    return frame


def confusion_counts(y: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """``(true, predicted)`` row counts of the covered OOF rows."""
    covered = predicted >= 0
    cells = y[covered] * n_classes + predicted[covered]
    return np.bincount(cells, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def row_normalised(counts: np.ndarray) -> np.ndarray:
    """Each true class's row as shares of its rows (a class without rows stays 0)."""
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)


def shown_classes(counts: np.ndarray, limit: int = MAX_SHOWN_CLASSES) -> np.ndarray:
    """Indices of the classes a heatmap shows: all of them, or the ``limit`` with the most misclassified rows."""
    if len(counts) <= limit:
        return np.arange(len(counts))
    errors = counts.sum(axis=1) - np.diag(counts) + counts.sum(axis=0) - np.diag(counts)
    return np.sort(np.argsort(-errors, kind="stable")[:limit])


def top_confused_pairs(counts: np.ndarray, labels: Sequence[str], n: int = 10) -> pd.DataFrame:
    """The ``n`` largest off-diagonal cells: true class, predicted class, rows, share of the true class's rows."""
    off = counts.astype(float).copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(-off, axis=None, kind="stable")[:n]
    true, predicted = np.unravel_index(order, off.shape)
    keep = off[true, predicted] > 0
    true, predicted = true[keep], predicted[keep]
    support = counts.sum(axis=1)
    return pd.DataFrame({
        "true": [labels[i] for i in true], "predicted as": [labels[j] for j in predicted],
        "rows": counts[true, predicted], "share of true class": counts[true, predicted] / support[true],
    })


def error_correlation(y: np.ndarray, predictions: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Pearson correlation of the models' error indicators (1 = wrong) on rows every model covers.

    High values mean two models fail on the same rows: one of them adds little to a stack.
    A model that is always right (or always wrong) has no variance: its correlations are NaN.
    """
    matrix = np.column_stack(list(predictions.values()))
    covered = (matrix >= 0).all(axis=1)
    errors = (matrix[covered] != y[covered, None]).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = np.corrcoef(errors, rowvar=False) if errors.shape[1] > 1 else np.ones((1, 1))
    return pd.DataFrame(np.atleast_2d(correlation), index=list(predictions), columns=list(predictions))


def reliability(proba: Probabilities, y: np.ndarray, bins: int = 10) -> tuple[pd.DataFrame, float]:
    """Top-label calibration: rows, mean confidence and accuracy per confidence bin; the expected calibration error."""
    if isinstance(proba, TopK):
        covered = proba.covered()
        confidence, predicted = proba.proba[covered, 0].astype(np.float32), proba.classes[covered, 0]
    else:
        covered = ~np.isnan(proba).any(axis=1)
        confidence, predicted = proba[covered].max(axis=1), proba[covered].argmax(axis=1)
    y = y[covered]
    correct = predicted == y
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    rows = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore"):
        mean_confidence = np.bincount(which, confidence, bins) / rows
        accuracy = np.bincount(which, correct, bins) / rows
    frame = pd.DataFrame({"low": edges[:-1], "high": edges[1:], "rows": rows, "confidence": mean_confidence,
                          "accuracy": accuracy})
    filled = frame[frame["rows"] > 0]
    ece = float((filled["rows"] * (filled["confidence"] - filled["accuracy"]).abs()).sum() / max(len(y), 1))
    return frame, ece


def class_shares(labels: Sequence[int] | np.ndarray, classes: Sequence[int]) -> np.ndarray:
    """Share of rows holding each class code, in ``classes`` order."""
    index = pd.Index(classes).get_indexer(np.asarray(labels))
    counts = np.bincount(index[index >= 0], minlength=len(classes))
    return counts / max(counts.sum(), 1)
