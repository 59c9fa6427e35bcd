"""Probabilities for margin classifiers (SVMs) by sigmoid calibration on inner splits of a training fold."""

from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.dummy import DummyClassifier


def sigmoid_calibrated(
    classifier: Any, splits: list[tuple[np.ndarray, np.ndarray]], y: np.ndarray
) -> CalibratedClassifierCV | DummyClassifier:
    """``classifier`` calibrated on the inner ``splits`` (positions into ``y``) it can be fitted and calibrated on.

    A split is usable when its training part holds two classes (a margin separates two) and its
    validation part has rows to calibrate on; the others would only make the fit fail. A fold too
    small for any usable split (three rows, one class) gets the training prior: nothing to calibrate.
    """
    usable = [(train, valid) for train, valid in splits if len(valid) and len(np.unique(y[train])) > 1]
    if not usable:
        return DummyClassifier(strategy="prior")
    return CalibratedClassifierCV(classifier, method="sigmoid", cv=usable)
