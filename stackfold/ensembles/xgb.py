"""XGBoost stacker on the concatenated OOF probabilities, the LightGBM stacker's twin.

Same contract: regularised defaults (``min_child_weight``, ``reg_lambda``, 64 bins, column
subsampling), explicit threads, rounds chosen by early stopping on an inner split of the
training rows only.
"""

from typing import Any

import numpy as np
import xgboost as xgb

from stackfold.ensembles.lgbm import ROUND_PARAMS
from stackfold.models.base import BaseModel
from stackfold.models.splits import inner_split


class XGBStacker(BaseModel):
    """Multiclass ``hist`` gradient boosting over the stack matrix."""

    name = "xgb"
    defaults = {
        "learning_rate": 0.1,
        "max_depth": 4,
        "min_child_weight": 2.0,
        "reg_lambda": 5.0,
        "subsample": 0.8,
        "colsample_bytree": 0.7,
        "max_bin": 64,
        "max_rounds": 400,
        "early_stopping_rounds": 25,
        "inner_valid_fraction": 0.1,
        "rounds_without_validation": 100,
    }

    def _booster_params(self) -> dict[str, Any]:
        tree = {k: v for k, v in self.params.items() if k not in ROUND_PARAMS}
        return {**tree, "objective": "multi:softprob", "num_class": len(self.classes), "tree_method": "hist",
                "nthread": self.n_jobs, "seed": self.seed, "eval_metric": "mlogloss", "verbosity": 0}

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        train, valid = inner_split(y, self.params["inner_valid_fraction"], self.seed)
        params = self._booster_params()
        train_set = xgb.DMatrix(X[train], label=y[train], nthread=self.n_jobs)
        if len(valid) == 0:
            self.booster_ = xgb.train(params, train_set, num_boost_round=self.params["rounds_without_validation"])
            return
        self.booster_ = xgb.train(
            params, train_set, num_boost_round=self.params["max_rounds"],
            evals=[(xgb.DMatrix(X[valid], label=y[valid], nthread=self.n_jobs), "valid")],
            early_stopping_rounds=self.params["early_stopping_rounds"], verbose_eval=False,
        )

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        rounds = getattr(self.booster_, "best_iteration", None)
        limit = (0, rounds + 1) if rounds is not None else (0, 0)
        return self.booster_.predict(xgb.DMatrix(X, nthread=self.n_jobs), iteration_range=limit)
