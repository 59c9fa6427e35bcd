"""The tuning objective: a stacker's CV score over an OOF matrix with the run's saved folds.

A trial's score comes from the one :func:`~stackfold.core.cv.cross_validate` every model goes
through, on the folds every base model used, so a trial never scores rows its stacker was
fitted on. The running mean after each fold is reported to the study's pruner. The score is the
challenge's metric, whichever way it is better (log loss: lower); the study is told which
(:func:`stackfold.studies.study_direction`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import optuna
from optuna.trial import Trial

from stackfold.competition.metric import FOLD_SCORE
from stackfold.core.cv import cross_validate
from stackfold.core.estimator import BaseModel
from stackfold.ensembles.search_space import Dimension, suggest


@dataclass(frozen=True)
class StackData:
    """What a stacker's CV needs: OOF matrix, labels (class codes), saved folds and the run's settings."""

    X: np.ndarray
    y: np.ndarray
    folds: np.ndarray
    classes: tuple[int, ...]
    seed: int
    n_jobs: int
    metric: str = "weighted_f1"


def cv_score(
    stacker_class: type[BaseModel], params: dict[str, Any], data: StackData,
    on_fold: Callable[[int, float], None] | None = None,
) -> float:
    """Mean challenge metric (``data.metric``) over the saved folds; fold k's stacker is fitted on the other folds only.

    ``on_fold(k, running_mean)`` is called after each fold (for pruning).
    """
    scores: list[float] = []

    def record(fold: int, fold_scores: dict[str, float]) -> None:
        scores.append(fold_scores[FOLD_SCORE[data.metric]])
        if on_fold is not None:
            on_fold(fold, float(np.mean(scores)))

    make_model = partial(stacker_class, data.classes, seed=data.seed, n_jobs=data.n_jobs, **params)
    cross_validate(make_model, data.X, data.y, None, data.folds, name=stacker_class.name, on_fold=record, quiet=True,
                   metric=data.metric)
    return float(np.mean(scores))


def make_objective(
    stacker_class: type[BaseModel], space: dict[str, Dimension], data: StackData,
    fixed: dict[str, Any] | None = None, before: Callable[[Trial], None] | None = None,
) -> Callable[[Trial], float]:
    """Optuna objective: CV score of ``fixed`` params updated by the trial's suggestions.

    ``before(trial)`` runs first: a worker's check that the study still needs the trial.
    """

    def objective(trial: Trial) -> float:
        if before is not None:
            before(trial)
        params = {**(fixed or {}), **suggest(trial, space, stacker_class.parameters)}
        return cv_score(stacker_class, params, data, partial(_report, trial))

    return objective


def _report(trial: Trial, fold: int, running_mean: float) -> None:
    trial.report(running_mean, step=fold)
    if trial.should_prune():
        raise optuna.TrialPruned(f"after fold {fold + 1}: score {running_mean:.4f}")
