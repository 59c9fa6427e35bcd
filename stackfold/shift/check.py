"""The shift check of a data set: per view, a classifier cross-validated to tell its test rows from its training
rows; their AUCs with bootstrap intervals, what separates, the most test-like training rows and validation weights.

:func:`shift_data` reads the data as ``stackfold run`` does and takes its views from a feature store: a run
folder's own (its cached views reused, the result saved there for the report) or a temporary one.
"""

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from time import perf_counter

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from stackfold.competition.challenges import get_spec
from stackfold.competition.load import Dataset, load_competition
from stackfold.config import RunConfig
from stackfold.core.blocks import Block
from stackfold.errors import DataError, RunFolderMismatchError
from stackfold.features.store import FeatureStore, ViewStates
from stackfold.locking import folder_lock
from stackfold.progress import Cost, console
from stackfold.run_folder import RunFolder
from stackfold.shift.auc import auc_interval
from stackfold.shift.classify import cross_validate, separators, side_folds
from stackfold.shift.result import (
    ALL_VIEWS, P_TEST, WEIGHT, Separator, ShiftResult, TestLike, ViewShift, effective_rows, odds_weights,
)
from stackfold.shift.views import SHIFT_VIEWS, ShiftSource, check_views, default_views

TOP = 10
"""Separators named per view (terms: this many toward each side)."""
TEST_LIKE = 20
"""Most test-like training rows listed."""
TITLE_CHARS = 120
STRENGTH = {"terms": "mean coefficient of the folds' logistic regressions over TF-IDF (positive: toward test)",
            "trees": "share of the LightGBM gain", "linear": "mean coefficient on the scaled feature"}
SHIFT_COST = Cost(240.0)
"""What the check of a default run's views takes at 84,916 rows, the run's views cached (``bench/shift.py``)."""


class StoreSource:
    """A :class:`~stackfold.shift.views.ShiftSource` over a feature store: its views, and a count view's terms as it
    learned them (kept in the store's view states)."""

    def __init__(self, store: FeatureStore):
        self.store, self.dataset = store, store.dataset

    def get(self, name: str) -> tuple[Block, Block]:
        return self.store.get(name)

    def terms(self, name: str) -> np.ndarray:
        self.store.get(name)
        return np.load(self.store.states.path(name, self.store.key(name)), allow_pickle=False)


def compare_sides(source: ShiftSource, views: Sequence[str], n_folds: int = 5, seed: int = 0, n_jobs: int = 1,
                top: int = TOP) -> ShiftResult:
    """Check each of ``views`` (names of :data:`~stackfold.shift.views.SHIFT_VIEWS`), then all of them together."""
    started = perf_counter()
    dataset = source.dataset
    n_train, n_test = len(dataset.train), len(dataset.test)
    folds = min(n_folds, n_train, n_test)
    if folds < 2:
        raise DataError(f"{dataset.root}: {n_train} training and {n_test} test rows; telling them apart by "
                        "cross-validation needs at least 2 of each")
    is_test = np.r_[np.zeros(n_train, dtype=bool), np.ones(n_test, dtype=bool)]
    fold_of = side_folds(is_test, folds, seed)
    checked, oof, skipped = [], {}, {}
    for name in views:
        start, view = perf_counter(), SHIFT_VIEWS[name]
        matrix = view.matrix(source)
        X = sp.vstack([matrix.train, matrix.test], format="csr") if sp.issparse(matrix.train) else \
            np.vstack([matrix.train, matrix.test])
        if X.shape[1] == 0:
            skipped[name] = "no feature to read (no term is in 2 texts, no text column, no photo)"
            continue
        fitted = cross_validate(view.model, X, is_test, fold_of, seed, n_jobs)
        oof[name] = fitted.oof
        checked.append(ViewShift(name, auc_interval(fitted.oof, is_test, seed),
                                 separators(view.model, fitted, X, is_test, matrix.names, top),
                                 STRENGTH[view.model], perf_counter() - start))
        console.print(f"shift: {name} AUC {checked[-1].auc.value:.3f} ({checked[-1].seconds:.1f} s)")
    if not checked:
        raise DataError(f"{dataset.root}: no shift view has a feature to read ({'; '.join(skipped.values())})")
    p_all = next(iter(oof.values()))
    if len(checked) > 1:
        combined, p_all = _combined(checked, oof, is_test, seed, perf_counter())
        checked.append(combined)
    p_train = p_all[:n_train]
    weights = odds_weights(p_train)
    rows = pd.DataFrame({**{f"p_{name}": p[:n_train] for name, p in oof.items()}, P_TEST: p_train, WEIGHT: weights},
                        index=dataset.train.index)
    return ShiftResult(dataset.fingerprint, n_train, n_test, folds, seed, tuple(checked), _test_like(dataset, p_train),
                       effective_rows(weights), perf_counter() - started, rows, skipped)


def _combined(checked: list[ViewShift], oof: dict[str, np.ndarray], is_test: np.ndarray, seed: int,
              start: float) -> tuple[ViewShift, np.ndarray]:
    """All views together: each view's out-of-fold test-logit, scaled, weighted by how well it separates (its Gini,
    ``2 AUC - 1``; a view at or below 0.5 weighs 0), summed; then mapped to a probability by a logistic regression of
    the side on that one score. Nothing is fitted across folds: a second cross-validated fit over out-of-fold
    scores would score below chance without a shift (as each view can, a little), and a free weight would flip that
    into a shift. The map is monotone, so the AUC is the score's. Its separators are the views weighed."""
    gini = {view.view: max(0.0, 2 * view.auc.value - 1) for view in checked}
    score = np.zeros(len(is_test))
    for name, p in oof.items():
        clipped = np.clip(p, 1e-6, 1 - 1e-6)
        logit = np.log(clipped / (1 - clipped))
        score += gini[name] * (logit - logit.mean()) / (logit.std() or 1.0)
    p_test = (LogisticRegression().fit(score[:, None], is_test).predict_proba(score[:, None])[:, 1]
              if score.any() else np.full(len(is_test), is_test.mean()))
    found = tuple(Separator(name, "test", gini[name], float(np.mean(p[~is_test])), float(np.mean(p[is_test])))
                  for name, p in sorted(oof.items(), key=lambda item: -gini[item[0]]) if gini[name] > 0)
    shift = ViewShift(ALL_VIEWS, auc_interval(p_test, is_test, seed), found,
                      "the view's weight, its Gini 2 AUC - 1 (a view at or below 0.5 weighs 0)", perf_counter() - start)
    return shift, p_test


def _test_like(dataset: Dataset, p_train: np.ndarray) -> tuple[TestLike, ...]:
    """The training rows of highest test-probability, with their titles (the first text column)."""
    column = dataset.spec.title_column or next(iter(dataset.spec.text_columns), "")
    titles = dataset.train[column].fillna("").astype(str) if column else pd.Series("", index=dataset.train.index)
    top = np.argsort(-p_train, kind="stable")[:TEST_LIKE]
    return tuple(TestLike(str(dataset.train.index[i]), float(p_train[i]), titles.iloc[i][:TITLE_CHARS]) for i in top)


def model_views(config: RunConfig) -> set[str]:
    """The feature views the run's models read."""
    return {view for name in config.models for view in config.model_class(name).views}


def shift_data(data: Path, config: RunConfig, out: Path | None = None, views: Sequence[str] = (),
               lock: bool = True) -> ShiftResult:
    """Check ``data`` read as ``stackfold run`` reads it with ``config``: ``views`` (default the config's
    ``shift_views``, else :func:`~stackfold.shift.views.default_views`). ``out``: a run folder of the same data
    (or none yet), whose cached views are reused and where the result is saved, holding its lock (``lock=False``:
    the caller holds it, a run); else a temporary cache."""
    spec = get_spec(config.challenge, Path(data))
    text = bool(spec.text_columns)
    chosen = tuple(views or config.shift_views) or default_views(model_views(config), config.images, text)
    check_views(chosen, config.images, text, "--views" if views else "shift_views")
    run = RunFolder(Path(out)) if out is not None else None
    if run is not None:
        run.check_folder()
    dataset = load_competition(Path(data), spec, images=config.images, on_bad_image=config.on_bad_image,
                               index_file=run.bson_index if run else None)
    held = folder_lock(run.lock, "shift") if run is not None and lock else nullcontext()
    with held, _cache(run) as (cache, states), threadpool_limits(limits=config.n_jobs):
        if run is not None:
            _check_same_data(run, dataset)
        store = FeatureStore(dataset, cache, config.features, config.on_bad_image, config.n_jobs,
                             states=ViewStates(states))
        result = compare_sides(StoreSource(store), chosen, config.folds, config.seed, config.n_jobs)
        if run is not None:
            run.save_shift(result)
    return result


def _check_same_data(run: RunFolder, dataset: Dataset) -> None:
    saved = run.origin_data()
    if saved is not None and saved != dataset.fingerprint:
        raise RunFolderMismatchError(f"{run.root} holds a run of other data ({saved} -> {dataset.fingerprint}); "
                                     "check the same data, or choose another --out")


@contextmanager
def _cache(run: RunFolder | None) -> Iterator[tuple[Path, Path]]:
    """The feature cache and view-state folders: the run folder's, or temporary ones deleted afterwards."""
    if run is not None:
        yield run.cache, run.view_states
        return
    with tempfile.TemporaryDirectory(prefix="stackfold-shift-") as folder:
        yield Path(folder) / "cache", Path(folder) / "views"
