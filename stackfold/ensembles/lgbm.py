"""LightGBM stacker on the concatenated OOF probabilities of the base models.

Probability features are nearly separable, which makes LightGBM's defaults overfit and
diverge; the defaults here are regularised (``min_sum_hessian_in_leaf``, ``lambda_l2``,
few bins, small leaves) and the number of rounds is chosen by early stopping on an
inner split of the training rows, never on the rows being scored.
"""

from typing import Any

import lightgbm as lgb
import numpy as np

from stackfold.models.base import BaseModel
from stackfold.models.splits import inner_split

ROUND_PARAMS = ("max_rounds", "early_stopping_rounds", "inner_valid_fraction", "rounds_without_validation")
"""Parameters of the boosting loop, not of the booster."""


class LGBMStacker(BaseModel):
    """Multiclass gradient boosting over the stack matrix ``{model}__{class}``."""

    name = "lgbm"
    defaults = {
        "learning_rate": 0.08,
        "num_leaves": 15,
        "min_data_in_leaf": 20,
        "min_sum_hessian_in_leaf": 1.0,
        "lambda_l2": 5.0,
        "feature_fraction": 0.7,
        "bagging_fraction": 0.8,
        "max_bin": 63,
        "max_rounds": 400,
        "early_stopping_rounds": 25,
        "inner_valid_fraction": 0.1,
        "rounds_without_validation": 100,
    }

    def _booster_params(self) -> dict[str, Any]:
        tree = {k: v for k, v in self.params.items() if k not in ROUND_PARAMS}
        return {
            **tree,
            "objective": "multiclass",
            "num_class": len(self.classes),
            "bagging_freq": 1,
            "num_threads": self.n_jobs,
            "seed": self.seed,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
        }

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        train, valid = inner_split(y, self.params["inner_valid_fraction"], self.seed)
        params = self._booster_params()
        train_set = lgb.Dataset(X[train], y[train], params={"max_bin": params["max_bin"]})
        if len(valid) == 0:
            self.booster_ = lgb.train(params, train_set, num_boost_round=self.params["rounds_without_validation"])
            return
        valid_set = lgb.Dataset(X[valid], y[valid], reference=train_set)
        self.booster_ = lgb.train(
            params,
            train_set,
            num_boost_round=self.params["max_rounds"],
            valid_sets=[valid_set],
            callbacks=[lgb.early_stopping(self.params["early_stopping_rounds"], verbose=False)],
        )

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.booster_.predict(X, num_iteration=self.booster_.best_iteration or None)
