"""Out-of-fold cross-validation: the one loop every base model and stacker goes through.

For each fold the model is fitted on the other folds only, predicts its held-out rows
(OOF) and the test set. OOF is kept as a running sum and count, so a row no fold
covered stays NaN instead of silently becoming zero. Finished folds are checkpointed,
so an interrupted run resumes at the next fold. With ``top_k``, probabilities are kept as each
row's top k (:mod:`stackfold.core.topk`), predicted in row chunks: many classes, bounded memory.
"""

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from stackfold.competition.metric import classification_scores, log_loss, metric_info
from stackfold.core.blocks import take_rows
from stackfold.core.estimator import BaseModel, n_rows
from stackfold.core.topk import Probabilities, TopK, average, predict_top_k, predicted_positions
from stackfold.io import save_arrays_atomic
from stackfold.progress import console, progress_bar


@dataclass(frozen=True)
class CVResult:
    """OOF and test probabilities of one model, with its per-fold scores and timings."""

    name: str
    oof: Probabilities
    test: Probabilities
    scores: pd.DataFrame

    def summary(self) -> dict[str, float]:
        """Mean and spread of the fold scores, total fit and predict seconds; the mean fold log loss too when the
        folds were scored by it (a log-loss challenge's run, :func:`fold_scores`)."""
        probability_scores = {"log_loss": float(self.scores["log_loss"].mean())} if "log_loss" in self.scores else {}
        return {
            "wf1_mean": float(self.scores["wf1"].mean()),
            "wf1_std": float(self.scores["wf1"].std(ddof=0)),
            "accuracy": float(self.scores["accuracy"].mean()),
            "macro_f1": float(self.scores["macro_f1"].mean()),
            **probability_scores,
            "fit_s": float(self.scores["fit_s"].sum()),
            "predict_s": float(self.scores["predict_s"].sum()),
        }


class ModelKeeper(Protocol):
    """Where a result's fitted models are kept (:class:`stackfold.model_files.FittedModels`): fold ``k``'s, and
    ``-1`` for the refit on all rows."""

    def has(self, fold: int) -> bool: ...

    def save(self, fold: int, model: BaseModel) -> None: ...


def fold_checkpoint(checkpoint_dir: Path, fold: int) -> Path:
    """Where fold ``fold``'s result is kept once finished."""
    return checkpoint_dir / f"fold_{fold}.npz"


def refit_checkpoint(checkpoint_dir: Path) -> Path:
    """Where the refit on all rows (``refit=True``) is kept once finished."""
    return checkpoint_dir / "refit.npz"


def predict_rows(model: BaseModel, X: Any, top_k: int | None) -> tuple[Probabilities, float]:
    """``model``'s probabilities of ``X`` (``X=None``: no rows), dense or top ``top_k``, and the seconds taken."""
    n_classes = len(model.classes)
    if X is None:
        return (np.empty((0, n_classes)) if top_k is None else TopK.uncovered(0, top_k, n_classes)), 0.0
    if top_k is None:
        return model.predict_proba(X), model.predict_seconds_
    seconds = []

    def predict(rows: Any) -> Probabilities:
        proba = model.predict_proba(rows)
        seconds.append(model.predict_seconds_)
        return proba

    return predict_top_k(predict, X, n_rows(X), n_classes, top_k, take_rows), sum(seconds)


def fold_scores(y: np.ndarray, proba: Probabilities, classes: np.ndarray, metric: str = "weighted_f1"
                ) -> dict[str, float]:
    """A fold's scores of its held-out rows (true class codes ``y``, probabilities ``proba`` over ``classes``):
    weighted F1 (``wf1``), accuracy and macro F1 of the most probable classes, and, when the run's ``metric`` is
    log loss, the log loss of the probabilities (``log_loss``). Label-metric runs keep exactly the three."""
    scores = classification_scores(y, np.asarray(classes)[predicted_positions(proba)])
    if metric_info(metric).needs_probabilities:
        if isinstance(proba, TopK):
            raise ValueError(f"{metric} scores every class's probability, but the fold kept each row's top "
                             f"{proba.k}; run with dense probabilities (top_k = 0)")
        scores[metric_info(metric).fold_key] = log_loss(pd.Index(classes).get_indexer(y), proba)
    return scores


def fit_fold(
    model: BaseModel, X: Any, y: np.ndarray, X_test: Any | None, train: np.ndarray, valid: np.ndarray,
    top_k: int | None = None, metric: str = "weighted_f1",
) -> dict[str, Any]:
    """Fit ``model`` on rows ``train``; its probabilities of rows ``valid`` and of ``X_test``, scores
    (:func:`fold_scores` for the run's ``metric``) and seconds."""
    model.fit(take_rows(X, train), y[train])
    valid_proba, valid_seconds = predict_rows(model, take_rows(X, valid), top_k)
    test_proba, test_seconds = predict_rows(model, X_test, top_k)
    scores = fold_scores(y[valid], valid_proba, model.classes, metric)
    timings = {"fit_s": model.fit_seconds_, "predict_s": valid_seconds + test_seconds}
    return {"valid": valid_proba, "test": test_proba, **{k: np.array(v) for k, v in {**scores, **timings}.items()}}


def save_checkpoint(path: Path, result: dict[str, Any]) -> None:
    """Save a fold's (or refit's) result, dense or top-k, atomically."""
    arrays = {}
    for name, value in result.items():
        arrays.update(value.arrays(name) if isinstance(value, TopK) else {name: value})
    save_arrays_atomic(path, **arrays)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A result saved by :func:`save_checkpoint`."""
    with np.load(path) as saved:
        result = dict(saved)
    for part in ("valid", "test"):
        if f"{part}_classes" in result:
            result[part] = TopK.from_arrays(result, part)
    return {k: v for k, v in result.items() if not k.startswith(("valid_", "test_"))}


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
    top_k: int | None = None,
    keep: ModelKeeper | None = None,
    metric: str = "weighted_f1",
) -> CVResult:
    """Fit ``make_model()`` once per fold and collect OOF and test probabilities under ``name``.

    Test probabilities average the fold models, or with ``refit=True`` come from one more
    model fitted on all rows (what stackers do); ``X_test=None`` predicts no test rows (a
    tuning trial). With ``checkpoint_dir``, each finished fold is saved there and reused by
    the next call. ``on_fold(k, scores)`` is called after each fold with its scores (a tuning
    trial prunes there); ``quiet`` prints no progress (else a bar over the folds with an ETA).
    ``top_k``: keep each row's top k classes (:class:`~stackfold.core.topk.TopK`) instead of dense rows.
    With ``keep``, each fitted model that makes test probabilities (each fold's, or with ``refit`` the refit's) is
    kept there before it is checkpointed, and a checkpointed fit whose model is not kept is fitted again (a run
    interrupted by an older stackfold). ``metric``: the challenge's, which a fold's scores include
    (:func:`fold_scores`: its log loss too on a log-loss challenge).
    """
    n_folds = int(folds.max()) + 1
    oof = _OOF(len(y), top_k)
    keep_folds = None if refit else keep  # with a refit, the fold models make no test probability: not kept
    tests: list[Probabilities] = []
    rows = []
    bar = progress_bar(f"  {name}: folds", n_folds) if not quiet else nullcontext(lambda n=1: None)
    with bar as advance:
        for fold in range(n_folds):
            train, valid = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
            path = fold_checkpoint(checkpoint_dir, fold) if checkpoint_dir else None
            if path is not None and path.is_file() and (keep_folds is None or keep_folds.has(fold)):
                result = load_checkpoint(path)
                console.print(f"  {name}: fold {fold + 1}/{n_folds} reused from checkpoint")
            else:
                result = fit_fold(model := make_model(), X, y, X_test, train, valid, top_k, metric)
                if keep_folds is not None:
                    keep_folds.save(fold, model)
                if path is not None:
                    save_checkpoint(path, result)
                if not quiet:
                    loss = f" log_loss {float(result['log_loss']):.4f}" if "log_loss" in result else ""
                    console.print(f"  {name}: fold {fold + 1}/{n_folds} wf1 {float(result['wf1']):.4f} "
                                  f"accuracy {float(result['accuracy']):.4f}{loss}")
            oof.add(valid, result["valid"])
            tests.append(result["test"])
            rows.append({"fold": fold, **{k: float(v) for k, v in result.items() if k not in ("valid", "test")}})
            advance()
            if on_fold is not None:
                on_fold(fold, rows[-1])
    if refit:
        test, timings = _refit(make_model, X, y, X_test, checkpoint_dir, name, top_k, keep)
        rows.append({"fold": -1, **timings})
    else:
        test = fold_average(tests, top_k)
    return CVResult(name, oof.result(), test, pd.DataFrame(rows))


def fold_average(tests: list[Probabilities], top_k: int | None) -> Probabilities:
    """The fold models' test probabilities averaged, summed in fold order (what ``stackfold predict`` repeats)."""
    if top_k is not None:
        return average(tests, top_k)
    total = tests[0]
    for test in tests[1:]:
        total = total + test
    return total / len(tests)


class _OOF:
    """OOF probabilities as a running sum and count (a row no fold covered stays NaN); top-k rows are placed,
    each row being held out by exactly one fold."""

    def __init__(self, n_rows: int, top_k: int | None):
        self.n_rows, self.top_k = n_rows, top_k
        self.total: Probabilities | None = None
        self.count = np.zeros(n_rows)

    def add(self, rows: np.ndarray, proba: Probabilities) -> None:
        if self.total is None:
            self.total = (np.zeros((self.n_rows, proba.shape[1])) if self.top_k is None
                          else TopK.uncovered(self.n_rows, self.top_k, proba.n_classes))
        if isinstance(self.total, TopK):
            if self.count[rows].any():
                raise ValueError("top-k OOF: a row held out by two folds; folds must partition the rows")
            self.total.put(rows, proba)
        else:
            self.total[rows] += proba
        self.count[rows] += 1

    def result(self) -> Probabilities:
        if isinstance(self.total, TopK):
            return self.total
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.total / self.count[:, None]


def refit(model: BaseModel, X: Any, y: np.ndarray, X_test: Any, top_k: int | None = None) -> dict[str, Any]:
    """Fit ``model`` on all rows: its test probabilities and seconds."""
    model.fit(X, y)
    test, seconds = predict_rows(model, X_test, top_k)
    return {"test": test, "fit_s": np.array(model.fit_seconds_), "predict_s": np.array(seconds)}


def _refit(make_model: Callable[[], BaseModel], X: Any, y: np.ndarray, X_test: Any, checkpoint_dir: Path | None,
           name: str, top_k: int | None, keep: ModelKeeper | None) -> tuple[Probabilities, dict[str, float]]:
    """The refit's test probabilities and seconds, from its checkpoint when one is kept."""
    path = refit_checkpoint(checkpoint_dir) if checkpoint_dir else None
    if path is not None and path.is_file() and (keep is None or keep.has(-1)):
        result = load_checkpoint(path)
        console.print(f"  {name}: refit reused from checkpoint")
    else:
        with console.status(f"  {name}: refitting on all rows"):
            result = refit(model := make_model(), X, y, X_test, top_k)
        if keep is not None:
            keep.save(-1, model)
        if path is not None:
            save_checkpoint(path, result)
    return result["test"], {"fit_s": float(result["fit_s"]), "predict_s": float(result["predict_s"])}
