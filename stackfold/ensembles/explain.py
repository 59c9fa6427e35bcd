"""How much each base model contributes to the LightGBM stacker: shares of mean |SHAP|.

LightGBM's ``pred_contrib`` gives exact TreeSHAP values per row, class and stack column;
summing |SHAP| over a model's ``{model}__{class}`` columns tells how much the stacker leans
on that model, overall and for each class (as in late-fusion analyses of Rakuten models).
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from stackfold.competition.spec import get_spec
from stackfold.config import load_config
from stackfold.ensembles.lgbm import LGBMStacker
from stackfold.run_folder import RunFolder


def model_contributions(
    stacker: LGBMStacker, X: np.ndarray, models: Sequence[str]
) -> tuple[pd.Series, pd.DataFrame]:
    """Share of mean |SHAP| per base model, overall and per class (rows: class codes, columns: models).

    ``X`` is a stack matrix whose columns are ``len(models)`` blocks of ``n_classes``.
    """
    n_classes = len(stacker.classes)
    n_features = X.shape[1]
    contrib = stacker.booster_.predict(X, pred_contrib=True, num_iteration=stacker.booster_.best_iteration or None)
    per_output = np.abs(contrib.reshape(len(X), n_classes, n_features + 1)[:, :, :n_features]).mean(axis=0)
    by_model = per_output.reshape(n_classes, len(models), n_classes).sum(axis=2)  # (output class, model)
    overall = pd.Series(by_model.sum(axis=0) / by_model.sum(), index=list(models), name="share")
    per_class = pd.DataFrame(by_model / by_model.sum(axis=1, keepdims=True), index=list(stacker.classes),
                             columns=list(models))
    return overall.sort_values(ascending=False), per_class


def explain_run(run: Path, rows: int = 5000) -> tuple[pd.Series, pd.DataFrame, int]:
    """Refit a run's LightGBM stacker (tuned and configured parameters) on all OOF rows and explain ``rows`` of them."""
    folder = RunFolder(Path(run))
    config = load_config(folder.require(folder.config, "configuration"))
    assignment = folder.load_fold_assignment()
    X, _ = folder.stack_inputs(list(config.models))
    params = {**folder.tuned_params(LGBMStacker.name), **config.model_params(LGBMStacker.name)}
    stacker = LGBMStacker(get_spec(config.competition).classes, seed=config.seed, n_jobs=config.n_jobs, **params)
    stacker.fit(X, assignment.labels)
    sample = np.random.default_rng(config.seed).permutation(len(X))[:rows]
    overall, per_class = model_contributions(stacker, X[sample], config.models)
    return overall, per_class, len(sample)
