"""LightGBM stacker on the concatenated OOF probabilities of the base models.

Probability features are nearly separable, which makes LightGBM's defaults overfit and
diverge; the defaults here are regularised (``min_sum_hessian_in_leaf``, ``lambda_l2``,
few bins, small leaves) and the number of rounds is chosen by early stopping on an
inner split of the training rows, never on the rows being scored.
"""

from typing import Any

import lightgbm as lgb
import numpy as np

from stackfold.core.params import Param, count, fraction, positive
from stackfold.ensembles.boosting import ROUND_DEFAULTS, BoostedStacker
from stackfold.progress import Cost


class LGBMStacker(BoostedStacker):
    """Multiclass gradient boosting over the stack matrix ``{model}__{class}``.

    Parameters:
        learning_rate: shrinkage of each round's trees.
        num_leaves: leaves a tree has at most.
        min_data_in_leaf: rows a leaf holds at least.
        min_sum_hessian_in_leaf: the summed hessian a leaf needs at least: it stops leaves that only fit near-certain
            rows (probability features are nearly separable).
        lambda_l2: L2 regularisation of the leaf values.
        feature_fraction: the share of the stack's columns each tree draws from.
        bagging_fraction: the share of the rows each round trains on (a new draw every round).
        max_bin: histogram bins per column (63: fewer than LightGBM's 255, faster, no loss on the stack).
    """

    name = "lgbm"
    cost = Cost(330.0, class_exponent=1.0)
    parameters = {
        "learning_rate": positive(0.08),
        "num_leaves": count(15, low=2),
        "min_data_in_leaf": count(20, low=0),
        "min_sum_hessian_in_leaf": Param(1.0, low=0),
        "lambda_l2": Param(5.0, low=0),
        "feature_fraction": Param(0.7, above=0, high=1),
        "bagging_fraction": fraction(0.8),
        "max_bin": count(63, low=2),
        **ROUND_DEFAULTS,
    }

    def _booster_params(self) -> dict[str, Any]:
        return {
            **self._tree_params(),
            "objective": "multiclass",
            "num_class": len(self.classes),
            "bagging_freq": 1,
            "num_threads": self.n_jobs,
            "seed": self.seed,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
        }

    def _train(self, X: np.ndarray, y: np.ndarray, validation: tuple[np.ndarray, np.ndarray] | None) -> lgb.Booster:
        params = self._booster_params()
        if int(params["bagging_fraction"] * len(y)) < 1:  # a bag of no row (one training row), which LightGBM refuses
            params["bagging_fraction"] = 1.0
        train_set = lgb.Dataset(X, y, params={"max_bin": params["max_bin"]})
        if validation is None:
            return lgb.train(params, train_set, num_boost_round=self.params["rounds_without_validation"])
        return lgb.train(
            params,
            train_set,
            num_boost_round=self.params["max_rounds"],
            valid_sets=[lgb.Dataset(*validation, reference=train_set)],
            callbacks=[lgb.early_stopping(self.params["early_stopping_rounds"], verbose=False)],
        )

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.booster_.predict(X, num_iteration=self.booster_.best_iteration or None)
