"""Random forest on the colour view (mean RGB and colour histograms of each image)."""

from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestClassifier

from stackfold.models.base import BaseModel


class ColorForest(BaseModel):
    """The image baseline: cheap, weak, and uncorrelated with the text models."""

    name = "color_forest"
    views = ("color",)
    defaults = {"n_estimators": 300, "min_samples_leaf": 3, "max_features": "sqrt"}

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        self.forest_ = RandomForestClassifier(
            n_estimators=self.params["n_estimators"],
            min_samples_leaf=self.params["min_samples_leaf"],
            max_features=self.params["max_features"],
            n_jobs=self.n_jobs,
            random_state=self.seed,
        ).fit(X["color"].to_numpy(), y)

    def _predict_proba(self, X: Any) -> np.ndarray:
        return self.forest_.predict_proba(X["color"].to_numpy())
