"""The whole path of one run: raw files -> validated frames -> features -> folds -> OOF -> stackers -> submissions.

Each base model and stacker is keyed by a content hash of its inputs (code version, data,
feature view, parameters, seed, folds); a re-run reuses every result whose key is
unchanged, so adding one model to a finished run trains only that model.
"""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.markup import escape
from threadpoolctl import threadpool_limits

from stackfold import __version__
from stackfold.competition.folds import folds_digest, make_folds, save_folds
from stackfold.competition.load import Dataset, load_competition
from stackfold.competition.metric import SUMMARY_COLUMN
from stackfold.competition.spec import get_spec
from stackfold.config import RunConfig
from stackfold.core.cv import CVResult, cross_validate
from stackfold.core.estimator import BaseModel
from stackfold.core.params import resolve_params
from stackfold.core.stack import stack_matrix
from stackfold.ensembles import get_decision, get_stacker
from stackfold.errors import RunFolderMismatchError
from stackfold.features.meta import META_FEATURES, meta_features
from stackfold.features.store import FeatureStore
from stackfold.hashing import content_key
from stackfold.io import write_text_atomic
from stackfold.leaderboard import leaderboard_frame, write_leaderboard
from stackfold.locking import folder_lock
from stackfold.models import get_model
from stackfold.progress import Pace, console
from stackfold.run_folder import Level, RunFolder
from stackfold.submissions import SubmissionRecord, register_submission, write_submission


@dataclass(frozen=True)
class RunSummary:
    """What a finished run produced: the leaderboard, and the row submitted as ``best.csv`` with its score."""

    leaderboard: pd.DataFrame
    best_model: str
    best_submission: Path
    best_score: float
    metric: str


@dataclass(frozen=True)
class Trained:
    """A model's CV result with its level (``base`` or ``stack``) and content key."""

    result: CVResult
    level: Level
    key: str
    blank_images: int = 0


@dataclass(frozen=True)
class _Context:
    run: RunFolder
    config: RunConfig
    dataset: Dataset
    folds: np.ndarray
    fold_key: str
    pace: Pace

    def make_model(self, model_class: type[BaseModel]) -> partial[BaseModel]:
        """Factory of fresh, unfitted instances with this run's classes, seed, threads and parameters.

        Parameters: :meth:`params`.
        """
        return partial(
            model_class, classes=self.dataset.spec.classes, seed=self.config.seed, n_jobs=self.config.n_jobs,
            **self.params(model_class),
        )

    def params(self, model_class: type[BaseModel]) -> dict[str, Any]:
        """The parameters ``model_class`` runs with in this run: defaults < tuned < configured."""
        name = model_class.name
        return resolve_params(model_class, self.run.tuned_params(name), self.config.model_params(name))

    def key(self, level: Level, model_class: type[BaseModel], inputs: Any) -> str:
        """Content key of a model's result: code version, effective parameters, seed, inputs, folds, classes."""
        params = self.params(model_class)
        return content_key(__version__, level, model_class.name, params, self.config.seed, inputs, self.fold_key,
                           self.dataset.spec.classes)


def prepare_folds(run: RunFolder, dataset: Dataset, config: RunConfig) -> np.ndarray:
    """Make the seeded stratified assignment and save it as ``folds.csv`` for every model to use."""
    folds = make_folds(dataset.y, config.folds, config.seed)
    save_folds(run.folds, dataset.train.index, folds, dataset.y)
    return folds


def _train(
    ctx: _Context, level: Level, model_class: type[BaseModel], key: str, inputs: Callable[[], tuple[Any, Any]],
    info: dict, name: str | None = None, count_blanks: Callable[[], int] = lambda: 0,
) -> Trained:
    """Cross-validate one model (saved as ``name``, default its own), or reuse its result when ``key`` is unchanged.

    ``inputs`` gives the train and test inputs and ``count_blanks`` the images among them
    replaced by blank ones; both are called only when the model must be fitted, so a reused
    result never loads (or rebuilds) its features.
    """
    name = name or model_class.name
    cached = ctx.run.load_result(level, name, key)
    if cached is not None:
        console.print(f"[dim]{name}: unchanged, reusing saved OOF (key {key})[/dim]")
        ctx.pace.skipped()
        return Trained(cached, level, key, ctx.run.manifest(level, name).get("blank_images", 0))
    console.print(f"[bold]{name}[/bold]: {ctx.config.folds}-fold OOF ({ctx.pace.status()})")
    started = time.perf_counter()
    make_model = ctx.make_model(model_class)
    X, X_test = inputs()
    blanks = count_blanks()
    result = cross_validate(
        make_model, X, ctx.dataset.y, X_test, ctx.folds,
        checkpoint_dir=ctx.run.checkpoint_dir(level, name, key), refit=level == Level.STACK, name=name,
    )
    info = {**info, "blank_images": blanks, "params": ctx.params(model_class), "seed": ctx.config.seed,
            "folds_key": ctx.fold_key}
    ctx.run.save_result(
        level, result, key, list(ctx.dataset.spec.classes), ctx.dataset.train.index, ctx.dataset.test.index, info
    )
    ctx.pace.finished(time.perf_counter() - started)
    return Trained(result, level, key, blanks)


def _count_blanks(store: FeatureStore, views: tuple[str, ...]) -> int:
    return sum(store.blank_images(v) for v in views)


def _add_meta_features(
    ctx: _Context, store: FeatureStore, base: list[Trained], stack: tuple[np.ndarray, np.ndarray]
) -> tuple[tuple[np.ndarray, np.ndarray], str | None]:
    """The stack matrices with the configured meta-features appended (saved under ``RUN/meta``), and their key."""
    groups = ctx.config.meta_features
    if not groups:
        return stack, None
    views = sorted({v for g in groups for v in META_FEATURES[g]})
    key = content_key(__version__, list(groups), [t.key for t in base], {v: store.key(v) for v in views})
    train, test = meta_features(groups, stack, [t.result.name for t in base], ctx.dataset.spec.n_classes, store.get)
    train.index, test.index = ctx.dataset.train.index, ctx.dataset.test.index
    ctx.run.save_meta(train, test)
    return (np.hstack([stack[0], train.to_numpy(np.float32)]), np.hstack([stack[1], test.to_numpy(np.float32)])), key


def _decide(ctx: _Context, stackers: list[Trained], stack_X: np.ndarray, stack_test: np.ndarray) -> list[Trained]:
    """Apply each decision rule to the ``decide_on`` stacker; rows are named ``<stacker>+<rule>``."""
    target = next((t for t in stackers if t.result.name == ctx.config.decide_on), None)
    if target is None:
        return []
    X = np.hstack([target.result.oof.astype(np.float32), stack_X])
    X_test = np.hstack([target.result.test.astype(np.float32), stack_test])
    decided = []
    for name in ctx.config.decisions:
        rule = get_decision(name)
        row_name = f"{target.result.name}+{name}"
        key = ctx.key(Level.STACK, rule, [target.key])
        info = {"inputs": [target.result.name], "decision": name}
        decided.append(_train(ctx, Level.STACK, rule, key, lambda: (X, X_test), info, name=row_name))
        if np.array_equal(decided[-1].result.oof.argmax(axis=1), target.result.oof.argmax(axis=1)):
            console.print(f"{row_name}: changes no OOF prediction of {target.result.name}; the rule has nothing to add",
                          soft_wrap=True)
    return decided


def _submit(ctx: _Context, trained: Trained, name: str, config_key: str, when: datetime) -> Path:
    """Write ``submissions/<name>.csv`` from ``trained``'s test probabilities, kept in the history and registered."""
    path = ctx.run.submission(name)
    spec = ctx.dataset.spec
    labels = np.asarray(spec.classes)[np.argmax(trained.result.test, axis=1)]
    write_submission(path, spec, ctx.dataset.test.index, labels)
    cv_score = trained.result.summary()[SUMMARY_COLUMN[spec.metric]]
    record = SubmissionRecord(path, trained.result.name, trained.level, cv_score, ctx.dataset.fingerprint, config_key)
    register_submission(ctx.run.submission_registry, record,
                        ctx.run.history_submission(trained.result.name, cv_score, when), when)
    return path


def _train_all(ctx: _Context, store: FeatureStore) -> list[Trained]:
    """Every configured base model, then the stackers over their OOF matrix, then the decision rules."""
    trained = []
    for name in ctx.config.models:
        model_class = get_model(name)
        view_keys = {view: store.key(view) for view in model_class.views}
        key = ctx.key(Level.BASE, model_class, view_keys)
        inputs = partial(store.views, model_class.views)
        count_blanks = partial(_count_blanks, store, model_class.views)
        trained.append(_train(ctx, Level.BASE, model_class, key, inputs, {"views": view_keys}, count_blanks=count_blanks))
    base = list(trained)
    stack = (stack_matrix([t.result for t in base], "oof"), stack_matrix([t.result for t in base], "test"))
    with_meta, meta_key = _add_meta_features(ctx, store, base, stack)
    for name in ctx.config.stackers:
        stacker_class = get_stacker(name)
        uses_meta = stacker_class.reads_meta_features and meta_key is not None
        key = ctx.key(Level.STACK, stacker_class, [t.key for t in base] + ([meta_key] if uses_meta else []))
        meta = list(ctx.config.meta_features) if uses_meta else []
        info = {"inputs": [t.result.name for t in base], "meta_features": meta}
        inputs = with_meta if uses_meta else stack
        trained.append(_train(ctx, Level.STACK, stacker_class, key, lambda: inputs, info))
    trained.extend(_decide(ctx, [t for t in trained if t.level == Level.STACK], *stack))
    return trained


def _publish(ctx: _Context, trained: list[Trained]) -> RunSummary:
    """The leaderboard, ``best.csv`` from its top row (the submitted-row rule), and any per-model submissions."""
    metric = ctx.dataset.spec.metric
    rank_by = SUMMARY_COLUMN[metric]
    rows = [{"model": t.result.name, "level": t.level, **t.result.summary(), "blank_images": t.blank_images}
            for t in trained]
    board = leaderboard_frame(rows, rank_by)
    best = next(t for t in trained if t.result.name == board["model"].iloc[0])
    write_leaderboard(board, ctx.run.leaderboard, ctx.run.leaderboard_markdown)
    config_key, when = content_key(ctx.config.to_toml()), datetime.now(timezone.utc)
    best_path = _submit(ctx, best, "best", config_key, when)
    if ctx.config.model_submissions:
        for t in trained:
            _submit(ctx, t, t.result.name, config_key, when)
    return RunSummary(board, best.result.name, best_path, float(board[rank_by].iloc[0]), metric)


def _claim(run: RunFolder, dataset: Dataset, data_dir: Path, config: RunConfig, force: bool) -> None:
    """Make sure the folder holds nothing of another run (``force``: delete it), then record this run's origin."""
    origin = {"competition": config.competition, "data": dataset.fingerprint, "folds": config.folds,
              "seed": config.seed}
    try:
        run.check_origin(origin, data_dir)
    except RunFolderMismatchError:
        if not force:
            raise
        console.print(f"--force: deleting the results of the other run in {escape(str(run.root))}")
        run.clear_results()
    run.save_origin(origin, data_dir)


def run_pipeline(data_dir: Path, out: Path, config: RunConfig, force: bool = False) -> RunSummary:
    """Run every configured base model and stacker, write the leaderboard and submissions.

    The data are validated before the run folder is touched; the folder is then locked against
    other writers, and ``config.toml`` is written only once the run has succeeded.
    """
    run = RunFolder(Path(out))
    run.check_folder()
    dataset = load_competition(Path(data_dir), get_spec(config.competition), images=config.images,
                               on_bad_image=config.on_bad_image, index_file=run.bson_index)
    with folder_lock(run.lock, "run"):
        run.remove_dead_temp_files()  # no other writer holds the folder: any temporary file is a dead one's
        _claim(run, dataset, Path(data_dir), config, force)
        write_text_atomic(run.running_config, config.to_toml())
        with threadpool_limits(limits=config.n_jobs):
            folds = prepare_folds(run, dataset, config)
            pace = Pace(len(config.models) + len(config.stackers) + len(config.decisions))
            ctx = _Context(run, config, dataset, folds, folds_digest(dataset.train.index, folds), pace)
            store = FeatureStore(dataset, run.cache, config.features, config.on_bad_image, config.n_jobs)
            trained = _train_all(ctx, store)
        summary = _publish(ctx, trained)
        os.replace(run.running_config, run.config)
    return summary
