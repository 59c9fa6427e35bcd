"""What a run's steps are expected to take, for its ETA and its time limit: each model's and stacker's
:class:`~stackfold.progress.Cost` at this data's rows and classes, the views a model needs that are not cached yet,
and the fixed steps (decision rules, leaderboard, SHAP pass, report).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from stackfold.core.estimator import COST_BASE_MODELS, BaseModel
from stackfold.features.store import FeatureStore
from stackfold.io import write_json_atomic
from stackfold.pipeline.budget import Budget
from stackfold.pipeline.context import RunContext
from stackfold.pipeline.speed import machine_speed
from stackfold.progress import Cost, console
from stackfold.run_folder import Level

REFERENCE_CLASSES = 27
"""Classes of the challenge the costs were measured on (Rakuten's product type codes)."""


@dataclass(frozen=True)
class Fixed:
    """A step every run of this configuration takes (``needs``: only if that stacker runs), at its reference cost."""

    name: str
    cost: Cost
    needs: str | None = None


def model_seconds(ctx: RunContext, model_class: type[BaseModel], level: Level, n_base: int) -> float:
    """Reference seconds of one model's CV in this run: its cost at the run's rows, folds and classes (a stacker's
    over ``n_base`` base models; it reads their probabilities of every class, so it grows with classes too)."""
    fold_scale = (ctx.config.folds - 1) / 4  # costs are of 5 folds, each fitted on 4/5 of the rows
    classes = ctx.dataset.spec.n_classes / REFERENCE_CLASSES
    scale = fold_scale * (n_base / COST_BASE_MODELS * classes if level == Level.STACK else 1.0)
    return model_class.cost.at(len(ctx.dataset.y), scale * classes ** model_class.cost.class_exponent)


class StepPrices:
    """Prices a selection of base models and stackers (:data:`stackfold.pipeline.budget.Expected`).

    ``classes``: candidate name -> (class, level), in the run's order; ``reused``: names whose results are saved
    (free); ``n_external``: models trained elsewhere, stacked beside the selection; ``fixed``: the run's fixed steps.
    """

    def __init__(self, ctx: RunContext, store: FeatureStore, classes: dict[str, tuple[type[BaseModel], Level]],
                 reused: set[str], n_external: int, fixed: Sequence[Fixed]):
        self.ctx, self.store, self.classes, self.reused = ctx, store, classes, reused
        self.n_external, self.fixed = n_external, fixed

    def __call__(self, selection: list[str]) -> dict[str, float]:
        chosen = [name for name in self.classes if name in selection]  # the run's order: views go to the first
        n_base = sum(self.classes[name][1] == Level.BASE for name in chosen) + self.n_external
        prices: dict[str, float] = {}
        views_priced: set[str] = set()
        for name in chosen:
            model_class, level = self.classes[name]
            if name in self.reused:
                prices[name] = 0.0
                continue
            views = [v for v in self.store.missing(model_class.views) if v not in views_priced]
            views_priced.update(views)
            prices[name] = model_seconds(self.ctx, model_class, level, n_base) + sum(
                self.store.expected_seconds(v) for v in views)
        rows = len(self.ctx.dataset.y)
        for step in self.fixed:
            if step.needs is None or step.needs in chosen:
                prices[step.name] = step.cost.at(rows)
        return prices


def make_budget(ctx: RunContext, prices: StepPrices, candidates: Sequence) -> Budget:
    """The run's time-limit plan over ``candidates`` (the base models' and stackers' plans): calibrated on this
    machine, printed, and saved as ``plan.json``."""
    speed = ctx.pace.speed = machine_speed(ctx.config.n_jobs)
    budget = Budget(ctx.config.time_limit, {p.name: str(p.level) for p in candidates}, prices, speed, ctx.pace,
                    prices.reused, external=prices.n_external > 0)
    for line in budget.describe():
        console.print(line, soft_wrap=True, highlight=False)
    save_plan(ctx, budget)
    return budget


def save_plan(ctx: RunContext, budget: Budget) -> None:
    """``plan.json``: the time limit's plan and, once the run ends, what it skipped."""
    write_json_atomic(ctx.run.plan, {**budget.record(), "preset": ctx.config.preset})
