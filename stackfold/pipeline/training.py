"""Training a run's models level by level: base models, then stackers over their OOF matrix, then decision rules.

Each model is keyed by a content hash of its inputs (code version, data, feature view,
parameters, seed, folds); a model whose key is unchanged is reused, not trained. Models of one
level do not depend on each other: on a cluster their missing folds all run as tasks first.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from stackfold import __version__
from stackfold.competition.load import Dataset
from stackfold.config import RunConfig
from stackfold.core.cv import CVResult, cross_validate
from stackfold.core.estimator import BaseModel
from stackfold.core.params import resolve_params
from stackfold.core.stack import stack_matrix
from stackfold.ensembles import get_decision, get_stacker
from stackfold.features.meta import META_FEATURES, meta_features
from stackfold.features.store import FeatureStore
from stackfold.hashing import content_key
from stackfold.models import get_model
from stackfold.progress import Pace, console
from stackfold.run_folder import Level, RunFolder

if TYPE_CHECKING:
    from stackfold.cluster.runner import ClusterRunner


@dataclass(frozen=True)
class Trained:
    """A model's CV result with its level (``base`` or ``stack``) and content key."""

    result: CVResult
    level: Level
    key: str
    blank_images: int = 0


@dataclass(frozen=True)
class RunContext:
    run: RunFolder
    config: RunConfig
    dataset: Dataset
    folds: np.ndarray
    fold_key: str
    pace: Pace
    cluster: "ClusterRunner | None" = None

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


@dataclass(frozen=True)
class _Plan:
    """One model to train: its class, level, content key, how to get its inputs, what its manifest records.

    ``inputs`` gives the train and test inputs and ``count_blanks`` the images among them
    replaced by blank ones; both are called only when the model must be fitted, so a reused
    result never loads (or rebuilds) its features.
    """

    level: Level
    model_class: type[BaseModel]
    key: str
    inputs: Callable[[], tuple[Any, Any]]
    info: dict
    name: str
    count_blanks: Callable[[], int] = lambda: 0


def _plan(level: Level, model_class: type[BaseModel], key: str, inputs: Callable[[], tuple[Any, Any]], info: dict,
          name: str | None = None, count_blanks: Callable[[], int] = lambda: 0) -> _Plan:
    return _Plan(level, model_class, key, inputs, info, name or model_class.name, count_blanks)


def _train_level(ctx: RunContext, plans: list[_Plan]) -> list[Trained]:
    """Train models that do not depend on each other; on a cluster their missing folds first run there as tasks."""
    if ctx.cluster is not None:
        from stackfold.cluster.runner import FoldJob

        ctx.cluster.run_folds([
            FoldJob(p.name, ctx.make_model(p.model_class), p.inputs, ctx.dataset.y, ctx.folds,
                    ctx.run.checkpoint_dir(p.level, p.name, p.key), refit=p.level == Level.STACK)
            for p in plans if ctx.run.load_result(p.level, p.name, p.key) is None
        ])
    return [_train(ctx, p) for p in plans]


def _train(ctx: RunContext, plan: _Plan) -> Trained:
    """Cross-validate one model (its folds resumed from checkpoints), or reuse its result when its key is unchanged."""
    name, level, key = plan.name, plan.level, plan.key
    cached = ctx.run.load_result(level, name, key)
    if cached is not None:
        console.print(f"[dim]{name}: unchanged, reusing saved OOF (key {key})[/dim]")
        ctx.pace.skipped()
        return Trained(cached, level, key, ctx.run.manifest(level, name).get("blank_images", 0))
    console.print(f"[bold]{name}[/bold]: {ctx.config.folds}-fold OOF ({ctx.pace.status()})")
    started = time.perf_counter()
    make_model = ctx.make_model(plan.model_class)
    X, X_test = plan.inputs()
    blanks = plan.count_blanks()
    result = cross_validate(
        make_model, X, ctx.dataset.y, X_test, ctx.folds,
        checkpoint_dir=ctx.run.checkpoint_dir(level, name, key), refit=level == Level.STACK, name=name,
    )
    info = {**plan.info, "blank_images": blanks, "params": ctx.params(plan.model_class), "seed": ctx.config.seed,
            "folds_key": ctx.fold_key}
    ctx.run.save_result(
        level, result, key, list(ctx.dataset.spec.classes), ctx.dataset.train.index, ctx.dataset.test.index, info
    )
    ctx.pace.finished(time.perf_counter() - started)
    return Trained(result, level, key, blanks)


def _returning(inputs: tuple[Any, Any]) -> Callable[[], tuple[Any, Any]]:
    return lambda: inputs


def _count_blanks(store: FeatureStore, views: tuple[str, ...]) -> int:
    return sum(store.blank_images(v) for v in views)


def _add_meta_features(
    ctx: RunContext, store: FeatureStore, base: list[Trained], stack: tuple[np.ndarray, np.ndarray]
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


def _decide(ctx: RunContext, stackers: list[Trained], stack_X: np.ndarray, stack_test: np.ndarray) -> list[Trained]:
    """Apply each decision rule to the ``decide_on`` stacker; rows are named ``<stacker>+<rule>``."""
    target = next((t for t in stackers if t.result.name == ctx.config.decide_on), None)
    if target is None:
        return []
    X = np.hstack([target.result.oof.astype(np.float32), stack_X])
    X_test = np.hstack([target.result.test.astype(np.float32), stack_test])
    plans = []
    for name in ctx.config.decisions:
        rule = get_decision(name)
        info = {"inputs": [target.result.name], "decision": name}
        plans.append(_plan(Level.STACK, rule, ctx.key(Level.STACK, rule, [target.key]), lambda: (X, X_test), info,
                           name=f"{target.result.name}+{name}"))
    decided = _train_level(ctx, plans)
    for row in decided:
        if np.array_equal(row.result.oof.argmax(axis=1), target.result.oof.argmax(axis=1)):
            console.print(f"{row.result.name}: changes no OOF prediction of {target.result.name}; the rule has "
                          "nothing to add", soft_wrap=True)
    return decided


def train_all(ctx: RunContext, store: FeatureStore) -> list[Trained]:
    """Every configured base model, then the stackers over their OOF matrix, then the decision rules."""
    plans = []
    for name in ctx.config.models:
        model_class = get_model(name)
        view_keys = {view: store.key(view) for view in model_class.views}
        key = ctx.key(Level.BASE, model_class, view_keys)
        plans.append(_plan(Level.BASE, model_class, key, partial(store.views, model_class.views), {"views": view_keys},
                           count_blanks=partial(_count_blanks, store, model_class.views)))
    base = _train_level(ctx, plans)
    stack = (stack_matrix([t.result for t in base], "oof"), stack_matrix([t.result for t in base], "test"))
    with_meta, meta_key = _add_meta_features(ctx, store, base, stack)
    plans = []
    for name in ctx.config.stackers:
        stacker_class = get_stacker(name)
        uses_meta = stacker_class.reads_meta_features and meta_key is not None
        key = ctx.key(Level.STACK, stacker_class, [t.key for t in base] + ([meta_key] if uses_meta else []))
        meta = list(ctx.config.meta_features) if uses_meta else []
        info = {"inputs": [t.result.name for t in base], "meta_features": meta}
        inputs = with_meta if uses_meta else stack
        plans.append(_plan(Level.STACK, stacker_class, key, _returning(inputs), info))
    stackers = _train_level(ctx, plans)
    return base + stackers + _decide(ctx, stackers, *stack)
