"""XGBoost stacker on the concatenated OOF probabilities, the LightGBM stacker's twin.

Same contract: regularised defaults (``min_child_weight``, ``reg_lambda``, 64 bins, column
subsampling), explicit threads, rounds chosen by early stopping on an inner split of the
training rows only.
"""

from typing import Any

import numpy as np
import xgboost as xgb

from stackfold.core.params import Param, count, fraction, positive
from stackfold.ensembles.boosting import ROUND_DEFAULTS, BoostedStacker
from stackfold.progress import Cost


class XGBStacker(BoostedStacker):
    """Multiclass ``hist`` gradient boosting over the stack matrix.

    Parameters:
        learning_rate: shrinkage of each round's trees (XGBoost's ``eta``).
        max_depth: depth of a tree at most.
        min_child_weight: the summed hessian a child needs at least: it stops leaves that only fit near-certain rows.
        reg_lambda: L2 regularisation of the leaf values.
        subsample: the share of the rows each round trains on.
        colsample_bytree: the share of the stack's columns each tree draws from.
        max_bin: histogram bins per column.
    """

    name = "xgb"
    cost = Cost(560.0, class_exponent=1.0)
    parameters = {
        "learning_rate": positive(0.1),
        "max_depth": count(4),
        "min_child_weight": Param(2.0, low=0),
        "reg_lambda": Param(5.0, low=0),
        "subsample": fraction(0.8),
        "colsample_bytree": Param(0.7, above=0, high=1),
        "max_bin": count(64, low=2),
        **ROUND_DEFAULTS,
    }

    def _booster_params(self) -> dict[str, Any]:
        return {**self._tree_params(), "objective": "multi:softprob", "num_class": len(self.classes), "tree_method": "hist",
                "nthread": self.n_jobs, "seed": self.seed, "eval_metric": "mlogloss", "verbosity": 0}

    def _train(self, X: np.ndarray, y: np.ndarray, validation: tuple[np.ndarray, np.ndarray] | None) -> xgb.Booster:
        params = self._booster_params()
        train_set = xgb.DMatrix(X, label=y, nthread=self.n_jobs)
        if validation is None:
            return xgb.train(params, train_set, num_boost_round=self.params["rounds_without_validation"])
        return xgb.train(
            params, train_set, num_boost_round=self.params["max_rounds"],
            evals=[(xgb.DMatrix(validation[0], label=validation[1], nthread=self.n_jobs), "valid")],
            early_stopping_rounds=self.params["early_stopping_rounds"], verbose_eval=False,
        )

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        rounds = getattr(self.booster_, "best_iteration", None)
        limit = (0, rounds + 1) if rounds is not None else (0, 0)
        return self.booster_.predict(xgb.DMatrix(X, nthread=self.n_jobs), iteration_range=limit)
