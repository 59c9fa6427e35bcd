"""The whole path of one run: raw files -> validated frames -> features -> folds -> OOF -> stackers -> submissions.

Each base model and stacker is keyed by a content hash of its inputs (data, feature view,
parameters, seed, folds); a re-run reuses every result whose key is unchanged, so adding
one model to a finished run trains only that model.
"""

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from stackfold.competition.folds import folds_digest, make_folds, save_folds
from stackfold.competition.load import Dataset, load_competition
from stackfold.competition.spec import get_spec
from stackfold.config import RunConfig
from stackfold.ensembles import get_stacker, stack_matrix
from stackfold.features.views import FeatureStore
from stackfold.hashing import content_key
from stackfold.io import write_text_atomic
from stackfold.leaderboard import leaderboard_frame, write_leaderboard
from stackfold.models import CVResult, cross_validate, get_model
from stackfold.models.base import BaseModel
from stackfold.progress import console
from stackfold.run_folder import RunFolder
from stackfold.submissions import register_submission, write_submission


@dataclass(frozen=True)
class RunSummary:
    """What a finished run produced."""

    leaderboard: pd.DataFrame
    best_model: str
    best_submission: Path


@dataclass(frozen=True)
class _Trained:
    result: CVResult
    level: str
    key: str


def prepare_folds(run: RunFolder, dataset: Dataset, config: RunConfig) -> np.ndarray:
    """Make the seeded stratified assignment and save it as ``folds.csv`` for every model to use."""
    folds = make_folds(dataset.y, config.folds, config.seed)
    save_folds(run.folds, dataset.train.index, folds)
    return folds


def _cross_validate_cached(
    run: RunFolder,
    level: str,
    model_class: type[BaseModel],
    key: str,
    config: RunConfig,
    dataset: Dataset,
    folds: np.ndarray,
    X: np.ndarray,
    X_test: np.ndarray,
    info: dict,
) -> _Trained:
    name = model_class.name
    cached = run.load_result(level, name, key)
    if cached is not None:
        console.print(f"[dim]{name}: unchanged, reusing saved OOF (key {key})[/dim]")
        return _Trained(cached, level, key)
    console.print(f"[bold]{name}[/bold]: {config.folds}-fold OOF")
    make_model = partial(
        model_class, classes=dataset.spec.classes, seed=config.seed, n_jobs=config.n_jobs,
        **config.model_params(name),
    )
    result = cross_validate(
        make_model, X, dataset.y, X_test, folds,
        checkpoint_dir=run.checkpoint_dir(level, name, key), refit=level == "stack",
    )
    info = {**info, "params": make_model().params, "seed": config.seed}
    run.save_result(level, result, key, list(dataset.spec.classes), dataset.train.index, dataset.test.index, info)
    return _Trained(result, level, key)


def _write_model_submission(run: RunFolder, dataset: Dataset, trained: _Trained, filename: str) -> Path:
    path = run.submissions / filename
    labels = np.asarray(dataset.spec.classes)[np.argmax(trained.result.test, axis=1)]
    write_submission(path, dataset.spec, dataset.test.index, labels)
    register_submission(
        run.submissions / "registry.csv", path, trained.result.name, trained.level,
        trained.result.summary()["wf1_mean"],
    )
    return path


def run_pipeline(data_dir: Path, out: Path, config: RunConfig) -> RunSummary:
    """Run every configured base model and stacker, write the leaderboard and submissions."""
    spec = get_spec(config.competition)
    dataset = load_competition(Path(data_dir), spec, images=config.images)
    run = RunFolder(Path(out))
    write_text_atomic(run.config, config.to_toml())
    with threadpool_limits(limits=config.n_jobs):
        folds = prepare_folds(run, dataset, config)
        fold_key = folds_digest(dataset.train.index, folds)
        store = FeatureStore(dataset, run.cache)
        trained = []
        for name in config.models:
            model_class = get_model(name)
            X, X_test = store.get(model_class.view)
            params = config.model_params(name)
            key = content_key("base", name, params, config.seed, store.key(model_class.view), fold_key, spec.classes)
            info = {"view": model_class.view, "view_key": store.key(model_class.view), "folds": fold_key}
            trained.append(_cross_validate_cached(run, "base", model_class, key, config, dataset, folds, X, X_test, info))
        base = [t.result for t in trained]
        stack_X, stack_test = stack_matrix(base, "oof"), stack_matrix(base, "test")
        base_keys = [t.key for t in trained]
        for name in config.stackers:
            stacker_class = get_stacker(name)
            params = config.model_params(name)
            key = content_key("stack", name, params, config.seed, base_keys, fold_key, spec.classes)
            info = {"inputs": [t.result.name for t in trained], "folds": fold_key}
            trained.append(
                _cross_validate_cached(run, "stack", stacker_class, key, config, dataset, folds, stack_X, stack_test, info)
            )
    rows = [{"model": t.result.name, "level": t.level, **t.result.summary()} for t in trained]
    board = leaderboard_frame(rows)
    write_leaderboard(run, board)
    stackers = [t for t in trained if t.level == "stack"] or trained
    best = max(stackers, key=lambda t: t.result.summary()["wf1_mean"])
    best_path = _write_model_submission(run, dataset, best, "best.csv")
    if config.model_submissions:
        for t in trained:
            _write_model_submission(run, dataset, t, f"{t.result.name}.csv")
    return RunSummary(board, best.result.name, best_path)
