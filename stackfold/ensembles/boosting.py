"""What the boosted stackers share: the boosting-loop parameters and early stopping on an inner split."""

from abc import abstractmethod
from typing import Any

import numpy as np

from stackfold.core.estimator import BaseModel
from stackfold.core.params import count, fraction
from stackfold.core.splits import inner_split

ROUND_DEFAULTS = {
    "max_rounds": count(400),
    "early_stopping_rounds": count(25),
    "inner_valid_fraction": fraction(0.1),
    "rounds_without_validation": count(100),
}
"""Parameters of the boosting loop, not of the booster."""


class BoostedStacker(BaseModel):
    """A gradient-boosting stacker whose rounds are chosen on an inner split of the training rows only.

    Subclasses list their booster's parameters in ``defaults`` (plus ``ROUND_DEFAULTS``) and
    implement ``_train``; with no validation rows (tiny data) they boost a fixed number of rounds.
    Trees use meta-features (model confidence, text length, language, colour) when the run has them.

    Parameters:
        max_rounds: boosting rounds at most; early stopping on the inner split usually ends sooner.
        early_stopping_rounds: rounds without a lower validation loss before boosting stops, keeping the best round.
        inner_valid_fraction: the share of the training rows held out, stratified, to choose the rounds on.
        rounds_without_validation: the rounds boosted when the training rows are too few to hold any out.
    """

    reads_meta_features = True

    def _tree_params(self) -> dict[str, Any]:
        return {k: v for k, v in self.params.items() if k not in ROUND_DEFAULTS}

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        train, valid = inner_split(y, self.params["inner_valid_fraction"], self.seed)
        validation = (X[valid], y[valid]) if len(valid) else None
        self.booster_ = self._train(X[train], y[train], validation)

    @abstractmethod
    def _train(self, X: np.ndarray, y: np.ndarray, validation: tuple[np.ndarray, np.ndarray] | None) -> Any:
        """A booster fitted on ``(X, y)``, early-stopped on ``validation`` when there is one."""
