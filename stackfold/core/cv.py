"""Out-of-fold cross-validation: the one loop every base model and stacker goes through.

For each fold the model is fitted on the other folds only, predicts its held-out rows
(OOF) and the test set. OOF is kept as a running sum and count, so a row no fold
covered stays NaN instead of silently becoming zero. Finished folds are checkpointed,
so an interrupted run resumes at the next fold.
"""

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stackfold.competition.metric import classification_scores
from stackfold.core.blocks import take_rows
from stackfold.core.estimator import BaseModel
from stackfold.io import save_arrays_atomic
from stackfold.progress import console, progress_bar


@dataclass(frozen=True)
class CVResult:
    """OOF and test probabilities of one model, with its per-fold scores and timings."""

    name: str
    oof: np.ndarray
    test: np.ndarray
    scores: pd.DataFrame

    def summary(self) -> dict[str, float]:
        """Mean and spread of the fold scores, total fit and predict seconds."""
        return {
            "wf1_mean": float(self.scores["wf1"].mean()),
            "wf1_std": float(self.scores["wf1"].std(ddof=0)),
            "accuracy": float(self.scores["accuracy"].mean()),
            "macro_f1": float(self.scores["macro_f1"].mean()),
            "fit_s": float(self.scores["fit_s"].sum()),
            "predict_s": float(self.scores["predict_s"].sum()),
        }


def predicted_classes(proba: np.ndarray) -> np.ndarray:
    """Class index of each row's highest probability; -1 for a row no fold covered (NaN).

    ``argmax`` returns the position of a NaN when a row holds one, so one lookup finds those rows.
    """
    best = np.argmax(proba, axis=1)
    return np.where(np.isnan(proba[np.arange(len(proba)), best]), -1, best)


def fold_checkpoint(checkpoint_dir: Path, fold: int) -> Path:
    """Where fold ``fold``'s result is kept once finished."""
    return checkpoint_dir / f"fold_{fold}.npz"


def refit_checkpoint(checkpoint_dir: Path) -> Path:
    """Where the refit on all rows (``refit=True``) is kept once finished."""
    return checkpoint_dir / "refit.npz"


def fit_fold(
    model: BaseModel, X: Any, y: np.ndarray, X_test: Any | None, train: np.ndarray, valid: np.ndarray
) -> dict[str, np.ndarray]:
    """Fit ``model`` on rows ``train``; its probabilities of rows ``valid`` and of ``X_test``, scores and seconds."""
    model.fit(take_rows(X, train), y[train])
    valid_proba = model.predict_proba(take_rows(X, valid))
    predict_seconds = model.predict_seconds_
    test_proba = model.predict_proba(X_test) if X_test is not None else np.empty((0, valid_proba.shape[1]))
    predicted = model.classes[np.argmax(valid_proba, axis=1)]
    scores = classification_scores(y[valid], predicted)
    timings = {"fit_s": model.fit_seconds_, "predict_s": predict_seconds + model.predict_seconds_}
    return {"valid": valid_proba, "test": test_proba, **{k: np.array(v) for k, v in {**scores, **timings}.items()}}


def cross_validate(
    make_model: Callable[[], BaseModel],
    X: Any,
    y: np.ndarray,
    X_test: Any | None,
    folds: np.ndarray,
    *,
    name: str,
    checkpoint_dir: Path | None = None,
    refit: bool = False,
    on_fold: Callable[[int, dict[str, float]], None] | None = None,
    quiet: bool = False,
) -> CVResult:
    """Fit ``make_model()`` once per fold and collect OOF and test probabilities under ``name``.

    Test probabilities average the fold models, or with ``refit=True`` come from one more
    model fitted on all rows (what stackers do); ``X_test=None`` predicts no test rows (a
    tuning trial). With ``checkpoint_dir``, each finished fold is saved there and reused by
    the next call. ``on_fold(k, scores)`` is called after each fold with its scores (a tuning
    trial prunes there); ``quiet`` prints no progress (else a bar over the folds with an ETA).
    """
    n_folds = int(folds.max()) + 1
    oof_sum = oof_count = test_sum = None
    rows = []
    bar = progress_bar(f"  {name}: folds", n_folds) if not quiet else nullcontext(lambda n=1: None)
    with bar as advance:
        for fold in range(n_folds):
            train, valid = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
            path = fold_checkpoint(checkpoint_dir, fold) if checkpoint_dir else None
            if path is not None and path.is_file():
                with np.load(path) as saved:
                    result = dict(saved)
                console.print(f"  {name}: fold {fold + 1}/{n_folds} reused from checkpoint")
            else:
                result = fit_fold(make_model(), X, y, X_test, train, valid)
                if path is not None:
                    save_arrays_atomic(path, **result)
                if not quiet:
                    console.print(f"  {name}: fold {fold + 1}/{n_folds} wf1 {float(result['wf1']):.4f} "
                                  f"accuracy {float(result['accuracy']):.4f}")
            if oof_sum is None:
                n_classes = result["valid"].shape[1]
                oof_sum, oof_count = np.zeros((len(y), n_classes)), np.zeros(len(y))
                test_sum = np.zeros((len(result["test"]), n_classes))
            oof_sum[valid] += result["valid"]
            oof_count[valid] += 1
            test_sum += result["test"]
            rows.append({"fold": fold, **{k: float(v) for k, v in result.items() if v.ndim == 0}})
            advance()
            if on_fold is not None:
                on_fold(fold, rows[-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        oof = oof_sum / oof_count[:, None]
    test = test_sum / n_folds
    if refit:
        test, timings = _refit(make_model, X, y, X_test, checkpoint_dir, name)
        rows.append({"fold": -1, **timings})
    scores = pd.DataFrame(rows)
    return CVResult(name, oof, test, scores)


def refit(model: BaseModel, X: Any, y: np.ndarray, X_test: Any) -> dict[str, np.ndarray]:
    """Fit ``model`` on all rows: its test probabilities and seconds."""
    model.fit(X, y)
    test = model.predict_proba(X_test)
    return {"test": test, "fit_s": np.array(model.fit_seconds_), "predict_s": np.array(model.predict_seconds_)}


def _refit(make_model: Callable[[], BaseModel], X: Any, y: np.ndarray, X_test: Any, checkpoint_dir: Path | None,
           name: str) -> tuple[np.ndarray, dict[str, float]]:
    """The refit's test probabilities and seconds, from its checkpoint when one is kept."""
    path = refit_checkpoint(checkpoint_dir) if checkpoint_dir else None
    if path is not None and path.is_file():
        with np.load(path) as saved:
            result = dict(saved)
        console.print(f"  {name}: refit reused from checkpoint")
    else:
        with console.status(f"  {name}: refitting on all rows"):
            result = refit(make_model(), X, y, X_test)
        if path is not None:
            save_arrays_atomic(path, **result)
    return result["test"], {"fit_s": float(result["fit_s"]), "predict_s": float(result["predict_s"])}
