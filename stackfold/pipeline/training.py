"""Training a run's models level by level: base models, then stackers over their OOF matrix, then decision rules.

Each model is keyed by a content hash of its inputs (code version, data, feature view,
parameters, seed, folds); a model whose key is unchanged is reused, not trained. Models of one
level do not depend on each other: on a cluster their missing folds all run as tasks first.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np

from stackfold.version import __version__
from stackfold.core.cv import cross_validate
from stackfold.core.estimator import BaseModel
from stackfold.core.stack import stack_matrix
from stackfold.core.topk import TopKStack
from stackfold.ensembles import get_decision, get_stacker
from stackfold.features.meta import META_FEATURES, meta_features
from stackfold.features.store import FeatureStore
from stackfold.hashing import content_key
from stackfold.pipeline.context import RunContext, Trained
from stackfold.pipeline.budget import Budget
from stackfold.pipeline.external_models import external_key, train_external
from stackfold.pipeline.planning import Fixed, StepPrices, make_budget, model_seconds
from stackfold.progress import console
from stackfold.run_folder import Level


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


def _train_level(ctx: RunContext, plans: list[_Plan], admit: Callable[[str], bool] = lambda name: True
                 ) -> list[Trained]:
    """Train models that do not depend on each other, each if ``admit`` lets it (a time limit); on a cluster their
    missing folds first run there as tasks (admitted all at once)."""
    if ctx.cluster is not None:
        plans = [p for p in plans if admit(p.name)]
        from stackfold.cluster.runner import FoldJob

        ctx.cluster.run_folds([
            FoldJob(p.name, ctx.make_model(p.model_class), p.inputs, ctx.dataset.y, ctx.folds,
                    ctx.run.checkpoint_dir(p.level, p.name, p.key), refit=p.level == Level.STACK,
                    top_k=ctx.config.top_k, keep=ctx.run.fitted(p.level, p.name, p.key),
                    metric=ctx.dataset.spec.metric)
            for p in plans if ctx.run.load_result(p.level, p.name, p.key, with_models=True) is None
        ])
        return [_track(ctx, _train(ctx, p), ctx.params(p.model_class)) for p in plans]
    return [_track(ctx, _train(ctx, p), ctx.params(p.model_class)) for p in plans if admit(p.name)]


def _track(ctx: RunContext, trained: Trained, params: dict[str, Any]) -> Trained:
    """Log a result, fitted or reused, with its resolved ``params`` to the run's MLflow tracking (if on)."""
    result = trained.result
    ctx.tracker.model(result.name, trained.level, trained.key, trained.reused, result.scores, result.summary(), params)
    return trained


def _train(ctx: RunContext, plan: _Plan) -> Trained:
    """Cross-validate one model (its folds resumed from checkpoints), or reuse its result when its key is unchanged.

    The views it reads are built (and timed as steps of their own) before its own step starts.
    """
    name, level, key = plan.name, plan.level, plan.key
    cached = ctx.run.load_result(level, name, key, with_models=True)
    if cached is not None:
        console.print(f"[dim]{name}: unchanged, reusing saved OOF (key {key})[/dim]")
        ctx.pace.skip(level, name)
        return Trained(cached, level, key, ctx.run.manifest(level, name).get("blank_images", 0), reused=True)
    X, X_test = plan.inputs()
    blanks = plan.count_blanks()
    console.print(f"[bold]{name}[/bold]: {ctx.config.folds}-fold OOF ({ctx.pace.status()})")
    with ctx.pace.step(level, name):
        result = cross_validate(
            ctx.make_model(plan.model_class), X, ctx.dataset.y, X_test, ctx.folds,
            checkpoint_dir=ctx.run.checkpoint_dir(level, name, key), refit=level == Level.STACK, name=name,
            top_k=ctx.config.top_k, keep=ctx.run.fitted(level, name, key), metric=ctx.dataset.spec.metric,
        )
        info = {**plan.info, "blank_images": blanks, "params": ctx.params(plan.model_class), "seed": ctx.config.seed,
                "folds_key": ctx.fold_key, "fitted_models": True}
        ctx.run.save_result(
            level, result, key, list(ctx.dataset.spec.classes), ctx.dataset.train.index, ctx.dataset.test.index, info
        )
    return Trained(result, level, key, blanks)


def _count_blanks(store: FeatureStore, views: tuple[str, ...]) -> int:
    return sum(store.blank_images(v) for v in views)


def _meta_key(ctx: RunContext, store: FeatureStore, base_keys: list[str]) -> str | None:
    """Content key of the configured meta-features over the base models of ``base_keys`` (``None``: none
    configured)."""
    groups = ctx.config.meta_features
    if not groups:
        return None
    views = sorted({v for g in groups for v in META_FEATURES[g]})
    return content_key(__version__, list(groups), base_keys, {v: store.key(v) for v in views})


def _add_meta_features(
    ctx: RunContext, store: FeatureStore, base: list[Trained], stack: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """The stack matrices with the configured meta-features appended (saved under ``RUN/meta``)."""
    train, test = meta_features(ctx.config.meta_features, stack, [t.result.name for t in base],
                                ctx.dataset.spec.n_classes, store.get)
    train.index, test.index = ctx.dataset.train.index, ctx.dataset.test.index
    ctx.run.save_meta(train, test)
    return np.hstack([stack[0], train.to_numpy(np.float32)]), np.hstack([stack[1], test.to_numpy(np.float32)])


class _StackInputs:
    """The stack matrices of the trained base models, with and without meta-features, made when first asked for."""

    def __init__(self, ctx: RunContext, store: FeatureStore):
        self.ctx, self.store = ctx, store
        self.base: list[Trained] = []
        self._plain: tuple[np.ndarray, np.ndarray] | None = None
        self._with_meta: tuple[np.ndarray, np.ndarray] | None = None

    def plain(self) -> tuple[np.ndarray, np.ndarray] | tuple[TopKStack, TopKStack]:
        if self._plain is None:
            results = [t.result for t in self.base]
            self._plain = ((TopKStack(tuple(r.oof for r in results)), TopKStack(tuple(r.test for r in results)))
                           if self.ctx.config.top_k is not None
                           else (stack_matrix(results, "oof"), stack_matrix(results, "test")))
        return self._plain

    def with_meta(self) -> tuple[np.ndarray, np.ndarray]:
        if self._with_meta is None:
            self._with_meta = _add_meta_features(self.ctx, self.store, self.base, self.plain())
        return self._with_meta


def _decide(ctx: RunContext, stackers: list[Trained], plans: list[_Plan], inputs: _StackInputs) -> list[Trained]:
    """Apply each decision rule to the ``decide_on`` stacker; rows are named ``<stacker>+<rule>``."""
    target = next((t for t in stackers if t.result.name == ctx.config.decide_on), None)
    if target is None:
        return []

    def decision_inputs() -> tuple[np.ndarray, np.ndarray]:
        stack_X, stack_test = inputs.plain()
        return (np.hstack([target.result.oof.astype(np.float32), stack_X]),
                np.hstack([target.result.test.astype(np.float32), stack_test]))

    decided = _train_level(ctx, [replace(p, inputs=decision_inputs) for p in plans])
    for row, plan in zip(decided, plans):
        if plan.model_class.keeps_labels:  # a calibration: it changes probabilities, never a label
            continue
        if np.array_equal(row.result.oof.argmax(axis=1), target.result.oof.argmax(axis=1)):
            console.print(f"{row.result.name}: changes no OOF prediction of {target.result.name}; the rule has "
                          "nothing to add", soft_wrap=True)
    return decided


def _plan_pace(ctx: RunContext, prices: StepPrices, plans: list[_Plan]) -> None:
    """Tell the run's pace every step this run will do and what each takes on the reference machine:
    the models whose results are not saved, and the views they need that are not in the cache."""
    n_base = sum(p.level == Level.BASE for p in plans) + prices.n_external
    views: list[str] = []
    for p in plans:
        if p.name in prices.reused:
            continue
        views += [v for v in prices.store.missing(p.model_class.views) if v not in views]
        ctx.pace.plan(p.level, p.name, model_seconds(ctx, p.model_class, p.level, n_base))
    for view in views:
        ctx.pace.plan("view", view, prices.store.expected_seconds(view))


def _base_plans(ctx: RunContext, store: FeatureStore) -> list[_Plan]:
    plans = []
    for name in ctx.config.models:
        model_class = ctx.config.model_class(name)
        view_keys = {view: store.key(view) for view in model_class.views}
        key = ctx.key(Level.BASE, model_class, view_keys)
        plans.append(_plan(Level.BASE, model_class, key, partial(store.views, model_class.views),
                           {"views": view_keys}, count_blanks=partial(_count_blanks, store, model_class.views)))
    return plans


def _stack_plans(ctx: RunContext, store: FeatureStore, inputs: _StackInputs, base_keys: list[str],
                 base_names: list[str]) -> tuple[list[_Plan], list[_Plan]]:
    """The stackers over the base models of ``base_keys`` (named ``base_names``), and the decision rules."""
    meta_key = _meta_key(ctx, store, base_keys)
    stack_plans = []
    for name in ctx.config.stackers:
        stacker_class = get_stacker(name)
        uses_meta = stacker_class.reads_meta_features and meta_key is not None
        key = ctx.key(Level.STACK, stacker_class, base_keys + ([meta_key] if uses_meta else []))
        info = {"inputs": base_names, "meta_features": list(ctx.config.meta_features) if uses_meta else []}
        stack_plans.append(_plan(Level.STACK, stacker_class, key, inputs.with_meta if uses_meta else inputs.plain,
                                 info))
    target = next((p for p in stack_plans if p.name == ctx.config.decide_on), None)
    decision_plans = []
    for name in ctx.config.decisions if target is not None else ():
        rule = get_decision(name)
        decision_plans.append(_plan(Level.STACK, rule, ctx.key(Level.STACK, rule, [target.key]), inputs.plain,
                                    {"inputs": [target.name], "decision": name}, name=f"{target.name}+{name}"))
    return stack_plans, decision_plans


def train_all(ctx: RunContext, store: FeatureStore, fixed: Sequence[Fixed] = ()) -> tuple[list[Trained], Budget | None]:
    """Every configured base model, then the stackers over their OOF matrix, then the decision rules; with a time
    limit, those that fit it (the budget says which were left out). ``fixed``: the run's other steps, priced in the
    plan."""
    base_plans = _base_plans(ctx, store)
    external = {name: external_key(ctx, name) for name in ctx.config.external}
    inputs = _StackInputs(ctx, store)
    stack_plans, decision_plans = _stack_plans(ctx, store, inputs, [p.key for p in base_plans] + list(external.values()),
                                               list(ctx.config.base_models))
    plans = base_plans + stack_plans + decision_plans
    prices = StepPrices(ctx, store, {p.name: (p.model_class, p.level) for p in plans},
                        {p.name for p in plans if ctx.run.has_result(p.level, p.name, p.key)}, len(external), fixed)
    _plan_pace(ctx, prices, plans)
    budget = None if ctx.config.time_limit is None else make_budget(ctx, prices, base_plans + stack_plans)
    admit = (lambda name: True) if budget is None else budget.admit
    built_in = _train_level(ctx, base_plans, admit)
    inputs.base = built_in + [_track(ctx, train_external(ctx, name, key, built_in), {})
                              for name, key in external.items()]
    if len(built_in) < len(base_plans):  # the stackers read fewer models than planned
        kept = [p for p in base_plans if p.name in {t.result.name for t in built_in}]
        stack_plans, decision_plans = _stack_plans(ctx, store, inputs, [p.key for p in kept] + list(external.values()),
                                                   [p.name for p in kept] + list(external))
    stackers = _train_level(ctx, stack_plans, admit)
    return inputs.base + stackers + _decide(ctx, stackers, decision_plans, inputs), budget
