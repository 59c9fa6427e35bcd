"""What a shift check found: per view, the AUC of telling test rows from train rows and what separates them;
the training rows' test-likeness and the validation weights it gives. Saved as JSON plus a Parquet file.
"""

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

ALL_VIEWS = "all views"
"""The name of the combined check: a logistic regression over every view's out-of-fold test-probability."""
P_TEST, WEIGHT = "p_test", "weight"
"""Columns of :attr:`ShiftResult.rows`: the combined out-of-fold test-probability, the validation weight."""


@dataclass(frozen=True)
class Auc:
    """An AUC of telling test rows from train rows, with its 95% bootstrap interval (0.5: no better than chance)."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Separator:
    """A feature or term that tells the sides apart: the side it points to (``"test"`` or ``"train"``: where it is
    more frequent or higher), its strength, and its value on each side (a term: the share of rows holding it; a
    feature: its mean)."""

    feature: str
    side: str
    strength: float
    train: float
    test: float


@dataclass(frozen=True)
class ViewShift:
    """The check of one view: its AUC, what separates most (empty where the features have no names: a network's
    dimensions), what ``strength`` measures there, and the seconds it took."""

    view: str
    auc: Auc
    separators: tuple[Separator, ...]
    strength: str
    seconds: float


@dataclass(frozen=True)
class TestLike:
    """A training row among the most test-like: its id, its out-of-fold test-probability, its title (if any)."""

    id: str
    p_test: float
    title: str


@dataclass(frozen=True)
class ShiftResult:
    """A whole check. ``views``: one per view checked, then :data:`ALL_VIEWS` when there are several; ``rows``:
    each training row (indexed by its id) with each view's out-of-fold test-probability (``p_<view>``), the
    combined one (:data:`P_TEST`) and its validation weight (:data:`WEIGHT`: the odds ``p / (1 - p)``, scaled to
    a mean of 1); ``skipped``: views not checked, and why."""

    data: str
    n_train: int
    n_test: int
    folds: int
    seed: int
    views: tuple[ViewShift, ...]
    test_like: tuple[TestLike, ...]
    effective_rows: float
    """The weights' effective sample size, ``sum(w)^2 / sum(w^2)``: how many rows a weighted score rests on."""
    seconds: float
    rows: pd.DataFrame
    skipped: dict[str, str]

    @property
    def overall(self) -> ViewShift:
        """The combined check (the only view's, when one was checked)."""
        return self.views[-1]

    def summary(self) -> dict[str, Any]:
        """Everything but ``rows``, as JSON values."""
        return {key: value for key, value in asdict(self).items() if key != "rows"}

    @classmethod
    def from_saved(cls, summary: dict[str, Any], rows: pd.DataFrame) -> "ShiftResult":
        """The result :meth:`summary` and ``rows`` were saved from."""
        views = tuple(ViewShift(v["view"], Auc(**v["auc"]), tuple(Separator(**s) for s in v["separators"]),
                                v["strength"], v["seconds"]) for v in summary["views"])
        test_like = tuple(TestLike(**row) for row in summary["test_like"])
        return cls(**{**summary, "views": views, "test_like": test_like, "rows": rows})


def odds_weights(p_test: np.ndarray, clip: float = 1e-3) -> np.ndarray:
    """Validation weights of training rows from their test-probabilities: the odds ``p / (1 - p)`` (proportional
    to how much likelier the row's features are among test rows than among training rows), ``p`` clipped to
    ``[clip, 1 - clip]``, scaled to a mean of 1. Without a shift every row gets about 1."""
    p = np.clip(np.asarray(p_test, dtype=np.float64), clip, 1 - clip)
    odds = p / (1 - p)
    return odds / odds.mean()


def effective_rows(weights: np.ndarray) -> float:
    """Kish's effective sample size of ``weights``."""
    return float(weights.sum() ** 2 / np.square(weights).sum())
