"""``stackfold explain``: how much each base model contributes to a run's LightGBM stacker, as shares of mean |SHAP|.

LightGBM's ``pred_contrib`` gives exact TreeSHAP values per row, class and stack column;
summing |SHAP| over a model's ``{model}__{class}`` columns (and its confidence meta-features)
tells how much the stacker leans on that model (row meta-features count as ``meta``), overall
and for each class (as in late-fusion analyses of Rakuten models).
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from stackfold.competition.challenges import get_spec
from stackfold.config import load_config
from stackfold.core.params import resolve_params
from stackfold.core.stack import column_groups
from stackfold.ensembles.lgbm import LGBMStacker
from stackfold.progress import Cost
from stackfold.run_folder import Level, RunFolder


def model_contributions(
    stacker: LGBMStacker, X: np.ndarray, groups: Sequence[str]
) -> tuple[pd.Series, pd.DataFrame]:
    """Share of mean |SHAP| per column group, overall and per class (rows: class codes, columns: groups).

    ``groups[j]`` names the base model (or ``meta``) column ``j`` of ``X`` belongs to, see
    :func:`stackfold.core.stack.column_groups`. A class whose trees never split (too few rows,
    e.g. one) has no |SHAP| to share: its shares are all 0, so its row sums to 0, not 1 (and
    likewise the overall shares of a stacker that never split at all).
    """
    n_classes = len(stacker.classes)
    n_features = X.shape[1]
    contrib = stacker.booster_.predict(X, pred_contrib=True, num_iteration=stacker.booster_.best_iteration or None)
    per_output = np.abs(contrib.reshape(len(X), n_classes, n_features + 1)[:, :, :n_features]).mean(axis=0)
    names = list(dict.fromkeys(groups))
    by_group = np.zeros((n_classes, len(names)))  # (output class, group)
    np.add.at(by_group.T, [names.index(g) for g in groups], per_output.T)
    overall = pd.Series(_shares(by_group.sum(axis=0, keepdims=True))[0], index=names, name="share")
    per_class = pd.DataFrame(_shares(by_group), index=list(stacker.classes), columns=names)
    return overall.sort_values(ascending=False), per_class


def _shares(mass: np.ndarray) -> np.ndarray:
    """Each row of ``mass`` divided by its sum; a row summing to 0 stays 0."""
    totals = mass.sum(axis=1, keepdims=True)
    return np.divide(mass, totals, out=np.zeros_like(mass), where=totals > 0)


EXPLAIN_COST = Cost(72.0, exponent=0.7)
"""What :func:`explain_run` takes on the reference machine at 84,916 rows (a refit of the lgbm stacker)."""


def explain_run(run: Path, rows: int = 5000, reuse: bool = False) -> tuple[pd.Series, pd.DataFrame, int]:
    """Explain ``rows`` OOF rows by a run's LightGBM stacker refitted on all OOF rows (tuned and configured
    parameters): the refit the run saved with its result when there is one, else fitted here.

    The shares are saved to the run folder (``explain/shares.json``, with the key of the run's lgbm result and the
    rows explained) for the report. ``reuse``: shares already saved for the same lgbm result and rows are returned
    as they are (a rerun whose lgbm stacker did not change: no SHAP pass).
    """
    folder = RunFolder(Path(run))
    config = load_config(folder.require(folder.config, "configuration"))
    key = folder.manifest(Level.STACK, LGBMStacker.name).get("key")
    classes = get_spec(config.challenge).classes
    assignment = folder.load_fold_assignment()
    sample_rows = min(rows, len(assignment.labels))
    meta = bool(config.meta_features)
    meta_columns = list(folder.load_meta()[0].columns) if meta else []
    groups = column_groups(config.base_models, classes, meta_columns)
    saved = folder.load_explained(key, sample_rows, classes) if reuse else None
    if saved is not None:  # in the order model_contributions gives
        overall, per_class = saved
        names = list(dict.fromkeys(groups))
        return (overall.sort_values(ascending=False),
                per_class.reindex(index=[c for c in classes if c in per_class.index], columns=names), sample_rows)
    X, _ = folder.stack_inputs(list(config.base_models), meta=meta)
    fitted = folder.fitted(Level.STACK, LGBMStacker.name, key) if key else None
    if fitted is not None and fitted.has(-1):  # the run's own refit on every OOF row: the same model
        stacker = fitted.load(-1, config.n_jobs)
    else:
        params = resolve_params(LGBMStacker, folder.tuned_params(LGBMStacker.name),
                                config.model_params(LGBMStacker.name))
        stacker = LGBMStacker(classes, seed=config.seed, n_jobs=config.n_jobs, **params)
        stacker.fit(X, assignment.labels)
    sample = np.random.default_rng(config.seed).permutation(len(X))[:rows]
    overall, per_class = model_contributions(stacker, X[sample], groups)
    folder.save_shares(overall, per_class, key, len(sample))
    return overall, per_class, len(sample)
