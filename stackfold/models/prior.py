"""The floor every other model must beat: training class frequencies for every row."""

from typing import Any

import numpy as np

from stackfold.core.estimator import BaseModel, n_rows
from stackfold.progress import Cost


class PriorModel(BaseModel):
    """Predicts the training prior, so its hard prediction is the majority class.

    Named ``prior``, not ``null``: pandas reads the string "null" as missing, which would blank
    this row of every leaderboard and column of every OOF file a user loads.
    """

    name = "prior"
    cost = Cost(1.0)
    views = ("rows",)

    def _fit(self, X: Any, y: np.ndarray) -> None:
        self.prior_ = np.bincount(y, minlength=len(self.classes)) / len(y)

    def _predict_proba(self, X: Any) -> np.ndarray:
        return np.tile(self.prior_, (n_rows(X), 1))
