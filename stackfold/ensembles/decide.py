"""Decision rules on top of a stacker: metric-aware class scaling and a stage-II re-decider.

Both read a matrix whose first ``n_classes`` columns are a stacker's OOF probabilities
(the rest: the base models' stack matrix) and are cross-validated on the same folds, so
what they learn on training rows is scored on held-out rows only.
"""

import numpy as np
from sklearn.metrics import confusion_matrix

from stackfold.competition.metric import weighted_f1
from stackfold.core.estimator import BaseModel
from stackfold.core.params import count, positive
from stackfold.ensembles.xgb import XGBStacker


class ClassScaling(BaseModel):
    """Per-class multipliers of the stacked probabilities that maximise weighted F1 on the training rows.

    Weighted F1 rewards recall on large classes and precision on small ones differently from
    log loss; coordinate ascent over a geometric grid of multipliers moves the decision
    boundaries toward what the metric pays for.

    Parameters:
        sweeps: passes of coordinate ascent over every class.
        grid: the factors a class's multiplier is tried at in each pass (kept when weighted F1 rises).
    """

    name = "class_scaling"
    parameters = {"sweeps": count(2), "grid": [0.5, 0.63, 0.8, 0.9, 1.0, 1.1, 1.25, 1.6, 2.0]}

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        proba = X[:, : len(self.classes)]
        scales = np.ones(len(self.classes))
        best = weighted_f1(y, proba.argmax(axis=1))
        for _ in range(self.params["sweeps"]):
            for c in np.unique(y):
                current = scales[c]
                for factor in self.params["grid"]:
                    scales[c] = current * factor
                    score = weighted_f1(y, (proba * scales).argmax(axis=1))
                    if score > best + 1e-9:
                        best, current = score, scales[c]
                scales[c] = current
        self.scales_ = scales

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        return X[:, : len(self.classes)] * self.scales_


def confusable_groups(
    y: np.ndarray, predicted: np.ndarray, n_classes: int, threshold: float, max_size: int = 6,
    min_confusions: int = 10,
) -> list[np.ndarray]:
    """Groups of classes that the predictions mix up, strongest confusions first.

    Two classes are linked when their mutual confusion (both directions) counts at least
    ``min_confusions`` rows and reaches ``threshold`` as a share of the smaller class's rows;
    links are merged greedily from the strongest, never into a group larger than ``max_size``,
    so noise cannot chain every class together.
    """
    confusion = confusion_matrix(y, predicted, labels=np.arange(n_classes)).astype(float)
    support = np.maximum(confusion.sum(axis=1), 1)
    both_ways = confusion + confusion.T
    mutual = both_ways / np.minimum.outer(support, support)
    linked = (mutual >= threshold) & (both_ways >= min_confusions)
    group_of = np.arange(n_classes)
    pairs = [(mutual[i, j], i, j) for i, j in zip(*np.nonzero(np.triu(linked, k=1)))]
    for _, i, j in sorted(pairs, reverse=True):
        a, b = group_of[i], group_of[j]
        if a != b and np.sum(group_of == a) + np.sum(group_of == b) <= max_size:
            group_of[group_of == b] = a
    groups = [np.flatnonzero(group_of == g) for g in np.unique(group_of)]
    return [g for g in groups if len(g) >= 2]


class StageTwo(BaseModel):
    """Re-decides rows that the stacker puts in a confusable group with an XGBoost trained on that group only.

    Groups come from the confusion of the stacker's OOF predictions on the training rows
    (e.g. the book codes 10/2280/2403/2705). A group model sees only rows whose true class is
    in the group, so it spends its capacity on the distinctions the stacker gets wrong; it
    redistributes the probability mass the stacker gave the group, leaving other classes alone.

    Parameters:
        threshold: two classes are linked when their mutual confusion reaches this share of the smaller one's rows.
        min_confusions: ... and counts at least this many rows (both directions).
        max_group_size: classes a group holds at most, so noise cannot chain every class together.
        min_rows: training rows a group needs for its model; a smaller group is left to the stacker.
        max_rounds: boosting rounds of a group's XGBoost at most.
        max_depth: depth of its trees at most.
        learning_rate: shrinkage of its trees.
    """

    name = "stage2"
    parameters = {
        "threshold": positive(0.05),
        "min_confusions": count(10),
        "max_group_size": count(6, low=2),
        "min_rows": count(40),
        "max_rounds": count(300),
        "max_depth": count(4),
        "learning_rate": positive(0.1),
    }

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        n_classes = len(self.classes)
        predicted = X[:, :n_classes].argmax(axis=1)
        self.models_ = []
        groups = confusable_groups(y, predicted, n_classes, self.params["threshold"], self.params["max_group_size"],
                                   self.params["min_confusions"])
        for group in groups:
            rows = np.flatnonzero(np.isin(y, group))
            if len(rows) < self.params["min_rows"] or len(np.unique(y[rows])) < 2:
                continue
            model = XGBStacker(
                classes=self.classes[group], seed=self.seed, n_jobs=self.n_jobs,
                max_rounds=self.params["max_rounds"], max_depth=self.params["max_depth"],
                learning_rate=self.params["learning_rate"],
            ).fit(X[rows], self.classes[y[rows]])
            self.models_.append((group, model))

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        proba = X[:, : len(self.classes)].copy()
        predicted = proba.argmax(axis=1)
        for group, model in self.models_:
            rows = np.flatnonzero(np.isin(predicted, group))
            if len(rows):
                mass = proba[np.ix_(rows, group)].sum(axis=1, keepdims=True)
                proba[np.ix_(rows, group)] = model.predict_proba(X[rows]) * mass
        return proba

    @property
    def groups_(self) -> list[list[int]]:
        """The class codes of each re-decided group."""
        return [self.classes[group].tolist() for group, _ in self.models_]
