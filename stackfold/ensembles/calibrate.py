"""Temperature scaling: a stacker's probabilities calibrated on out-of-fold rows, for a metric that scores them.

Blends of probabilities are under-confident and boosted stackers can be over-confident; log loss
pays for both. One temperature ``T`` (probabilities ``p ** (1 / T)``, renormalised) fitted on rows
the stacker never saw is the calibration that keeps every row's ranking of the classes, so it never
changes a predicted label. As a decision rule it is cross-validated on the run's folds: each fold's
temperature is fitted on the other folds' OOF probabilities only.
"""

import numpy as np
from scipy.optimize import minimize_scalar

from stackfold.competition.metric import LOG_LOSS_CLIP
from stackfold.core.estimator import BaseModel
from stackfold.core.params import positive


def _tempered(log_proba: np.ndarray, temperature: float) -> np.ndarray:
    scaled = log_proba / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    proba = np.exp(scaled)
    return proba / proba.sum(axis=1, keepdims=True)


class TemperatureScaling(BaseModel):
    """The temperature of a stacker's probabilities (the first ``n_classes`` columns) that minimises the log loss
    of the training rows, searched in ``[1 / max_temperature, max_temperature]``.

    Parameters:
        max_temperature: the temperature is searched from 1 / ``max_temperature`` to ``max_temperature``.
    """

    name = "temperature"
    keeps_labels = True
    parameters = {"max_temperature": positive(10.0)}

    def _log_proba(self, X: np.ndarray) -> np.ndarray:
        return np.log(np.clip(X[:, : len(self.classes)], LOG_LOSS_CLIP, 1.0))

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        log_proba, rows = self._log_proba(X), np.arange(len(y))

        def loss(log_temperature: float) -> float:
            return float(-np.log(_tempered(log_proba, np.exp(log_temperature))[rows, y] + LOG_LOSS_CLIP).mean())

        bound = np.log(self.params["max_temperature"])
        self.temperature_ = float(np.exp(minimize_scalar(loss, bounds=(-bound, bound), method="bounded").x))

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        return _tempered(self._log_proba(X), self.temperature_)
