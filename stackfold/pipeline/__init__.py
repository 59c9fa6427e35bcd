"""The whole path of one run: raw files -> validated frames -> features -> folds -> OOF -> stackers -> submissions.

The models are trained by :mod:`.training`; this module validates the data, holds the run
folder's lock, and publishes the leaderboard and the submissions. A re-run reuses every
result whose content key is unchanged, so adding one model to a finished run trains only that
model (and what stands on it).
"""

import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from rich.markup import escape
from threadpoolctl import threadpool_limits

from stackfold.competition.folds import folds_digest, make_folds, save_folds
from stackfold.competition.load import Dataset, load_competition
from stackfold.competition.metric import SUMMARY_COLUMN
from stackfold.competition.challenges import BUILT_IN, get_spec
from stackfold.competition.spec_file import spec_text
from stackfold.cluster_settings import DEFAULT_PARTITION_ROWS
from stackfold.config import RunConfig
from stackfold.core.topk import predicted_positions
from stackfold.errors import RunFolderMismatchError
from stackfold.features.store import FeatureStore, ViewStates
from stackfold.hashing import content_key
from stackfold.io import write_text_atomic
from stackfold.leaderboard import leaderboard_frame, row_losses, write_leaderboard
from stackfold.locking import folder_lock
from stackfold.pipeline.budget import Decision
from stackfold.pipeline.context import RunContext, Trained
from stackfold.pipeline.planning import Fixed, save_plan
from stackfold.pipeline.training import train_all
from stackfold.progress import Cost, Pace, Step, console
from stackfold.run_folder import RunFolder
from stackfold.submissions import SubmissionRecord, register_submission, write_submission
from stackfold.tracking import Tracker, experiment_name, open_tracker

if TYPE_CHECKING:
    from stackfold.cluster.runner import ClusterRunner


@dataclass(frozen=True)
class RunSummary:
    """What a finished run produced: the leaderboard, and the row submitted as ``best.csv`` with its score."""

    leaderboard: pd.DataFrame
    best_model: str
    best_submission: Path
    best_score: float
    metric: str
    left_out: tuple[Decision, ...] = ()
    """Models and stackers a time limit left out or skipped (:mod:`.budget`), with why."""


@dataclass(frozen=True)
class FinalStep:
    """Work done on the finished run folder before its lock is released, timed as a step of the run (the report)."""

    kind: str
    name: str
    cost: Cost
    action: Callable[[], None]
    needs: str | None = None
    """A stacker the step reads: the step is left out when a time limit left that stacker out."""


LEADERBOARD_COST = Cost(2.0)
"""The leaderboard (bootstrap intervals of every row) and the submissions, at 84,916 rows and 16 rows."""


class Timeline:
    """Receives the run's finished steps; rewrites ``timeline.csv`` after each with the run folder's size."""

    def __init__(self, run: RunFolder):
        self.run = run
        self.rows: list[dict] = []

    def __call__(self, step: Step) -> None:
        self.rows.append({**asdict(step), "disk_bytes": self.run.disk_bytes()})
        self.run.save_timeline(self.rows)


def prepare_folds(run: RunFolder, dataset: Dataset, config: RunConfig) -> np.ndarray:
    """Make the seeded stratified assignment and save it as ``folds.csv`` for every model to use."""
    folds = make_folds(dataset.y, config.folds, config.seed)
    save_folds(run.folds, dataset.train.index, folds, dataset.y)
    return folds


def _submit(ctx: RunContext, trained: Trained, name: str, config_key: str, when: datetime) -> Path:
    """Write ``submissions/<name>.csv`` from ``trained``'s test probabilities, kept in the history and registered."""
    path = ctx.run.submission(name)
    spec = ctx.dataset.spec
    labels = np.asarray(spec.classes)[predicted_positions(trained.result.test)]
    write_submission(path, spec, ctx.dataset.test.index, labels, proba=trained.result.test)
    cv_score = trained.result.summary()[SUMMARY_COLUMN[spec.metric]]
    record = SubmissionRecord(path, trained.result.name, trained.level, cv_score, ctx.dataset.fingerprint, config_key)
    register_submission(ctx.run.submission_registry, record,
                        ctx.run.history_submission(trained.result.name, cv_score, when), when)
    return path


def _publish(ctx: RunContext, trained: list[Trained], left_out: tuple[Decision, ...]) -> RunSummary:
    """The leaderboard, ``best.csv`` from its top row (the submitted-row rule: the best CV score in the metric's
    direction), and any per-model submissions."""
    metric = ctx.dataset.spec.metric
    rank_by = SUMMARY_COLUMN[metric]
    rows = [{"model": t.result.name, "level": t.level, **t.result.summary(), "blank_images": t.blank_images,
             "leak_suspect": t.leak_suspect} for t in trained]
    predictions = {t.result.name: predicted_positions(t.result.oof) for t in trained}
    y = pd.Index(ctx.dataset.spec.classes).get_indexer(ctx.dataset.y)
    losses = row_losses(metric, {t.result.name: t.result.oof for t in trained}, y)  # None for a label metric
    board = leaderboard_frame(rows, predictions, y, ctx.dataset.spec.n_classes, metric, rank_by, ctx.config.seed,
                              losses=losses)
    best = next(t for t in trained if t.result.name == board["model"].iloc[0])
    notes = [f"not run ({d.decision}, time limit): {d.level} {d.name}: {d.reason}" for d in left_out]
    write_leaderboard(board, ctx.run.leaderboard, ctx.run.leaderboard_markdown, notes)
    config_key, when = content_key(ctx.config.to_toml()), datetime.now(UTC)
    best_path = _submit(ctx, best, "best", config_key, when)
    if ctx.config.model_submissions:
        for t in trained:
            _submit(ctx, t, t.result.name, config_key, when)
    return RunSummary(board, best.result.name, best_path, float(board[rank_by].iloc[0]), metric, left_out)


def _claim(run: RunFolder, dataset: Dataset, data_dir: Path, config: RunConfig, force: bool) -> None:
    """Make sure the folder holds nothing of another run (``force``: delete it), then record this run's origin."""
    origin = {"competition": dataset.spec.name, "data": dataset.fingerprint, "folds": config.folds,
              "seed": config.seed}
    try:
        run.check_origin(origin, data_dir)
    except RunFolderMismatchError:
        if not force:
            raise
        console.print(f"--force: deleting the results of the other run in {escape(str(run.root))}")
        run.clear_results()
    run.save_origin(origin, data_dir)


def _cluster(config: RunConfig, data_dir: Path) -> AbstractContextManager["ClusterRunner | None"]:
    """The runner of the configured Dask cluster, or ``None``: then Dask is never imported."""
    if config.scheduler is None:
        return nullcontext(None)
    from stackfold.cluster import open_runner

    return open_runner(config.scheduler, data_dir, config.n_jobs,
                       config.cluster.get("partition_rows", DEFAULT_PARTITION_ROWS), config.cluster.get("resources"))


def _start_tracking(tracker: Tracker, run: RunFolder, data_dir: Path, config: RunConfig, challenge: str) -> None:
    """The run's parent MLflow run: the configuration's keys as parameters (its tables: the config.toml artifact)."""
    params = {f"config.{f.name}": getattr(config, f.name) for f in fields(config)
              if not isinstance(getattr(config, f.name), dict)}
    tags = {"stackfold.command": "run", "stackfold.run_folder": str(run.root.resolve()),
            "stackfold.data": str(data_dir.resolve()), "stackfold.challenge": challenge}
    tracker.start(experiment_name(challenge), run.root.name, params, tags)


def _run_files(run: RunFolder, config: RunConfig, trained: list[Trained], finish: Sequence[FinalStep]) -> list[Path]:
    """What a finished run logs as artifacts: its configuration, leaderboard, submissions and report."""
    models = [run.submission(t.result.name) for t in trained] if config.model_submissions else []
    report = [run.report] if any(step.kind == "report" for step in finish) else []
    return [run.config, run.leaderboard, run.leaderboard_markdown, run.submission("best"), *models,
            run.submission_registry, *report]


def run_pipeline(data_dir: Path, out: Path, config: RunConfig, force: bool = False,
                 finish: Sequence[FinalStep] = ()) -> RunSummary:
    """Run every configured base model and stacker, write the leaderboard and submissions, then ``finish``.

    The data are validated before the run folder is touched; the folder is then locked against
    other writers, and ``config.toml`` is written only once the run has succeeded. With
    ``[cluster] scheduler``, fits and slow feature views run on that Dask cluster
    (:mod:`stackfold.cluster`); the results are the same bytes. Every step (view built, model
    trained, leaderboard, each of ``finish``) is timed in ``timeline.csv``.
    """
    run = RunFolder(Path(out))
    run.check_folder()
    tracker = open_tracker(config.tracking, Path(data_dir))
    pace = Pace()
    with pace.step("data", "check"):
        spec = get_spec(config.challenge, Path(data_dir))
        dataset = load_competition(Path(data_dir), spec, images=config.images,
                                   on_bad_image=config.on_bad_image, index_file=run.bson_index)
    with folder_lock(run.lock, "run"), tracker:
        run.remove_dead_temp_files()  # no other writer holds the folder: any temporary file is a dead one's
        _claim(run, dataset, Path(data_dir), config, force)
        if config.challenge not in BUILT_IN:  # the run keeps the spec it read; its config names that copy
            write_text_atomic(run.challenge, spec_text(spec))
            config = replace(config, challenge=run.challenge.name)
        write_text_atomic(run.running_config, config.to_toml())
        _start_tracking(tracker, run, Path(data_dir), config, dataset.spec.name)
        pace.record_to(Timeline(run))
        n_rows = len(dataset.train)
        pace.plan("leaderboard", "leaderboard", LEADERBOARD_COST.at(n_rows))
        for step in finish:
            pace.plan(step.kind, step.name, step.cost.at(n_rows))
        fixed = [Fixed("leaderboard", LEADERBOARD_COST)] + [Fixed(f"{s.kind} {s.name}", s.cost, s.needs)
                                                              for s in finish]
        run.plan.unlink(missing_ok=True)  # an earlier time-limited run's
        with threadpool_limits(limits=config.n_jobs), _cluster(config, Path(data_dir)) as cluster:
            folds = prepare_folds(run, dataset, config)
            ctx = RunContext(run, config, dataset, folds, folds_digest(dataset.train.index, folds), pace, cluster,
                             tracker)
            store = FeatureStore(dataset, run.cache, config.features, config.on_bad_image, config.n_jobs,
                                 extraction=cluster, pace=pace, states=ViewStates(run.view_states))
            trained, budget = train_all(ctx, store, fixed)
        left_out = tuple(budget.left_out()) if budget is not None else ()
        if budget is not None:  # the configuration of what ran: predict, tune and the report read it
            save_plan(ctx, budget)
            names = {t.result.name for t in trained}
            config = replace(config, models=tuple(m for m in config.models if m in names),
                             stackers=tuple(s for s in config.stackers if s in names))
            write_text_atomic(run.running_config, config.to_toml())
            ctx = replace(ctx, config=config)
        console.print(f"leaderboard and submissions ({pace.status()})")
        with pace.step("leaderboard", "leaderboard"):
            summary = _publish(ctx, trained, left_out)
        tracker.leaderboard(summary.leaderboard, SUMMARY_COLUMN[summary.metric])
        os.replace(run.running_config, run.config)
        with threadpool_limits(limits=config.n_jobs):
            for step in finish:
                if step.needs is not None and step.needs not in config.stackers:
                    pace.skip(step.kind, step.name)
                    continue
                console.print(f"{step.kind} ({pace.status()})")
                with pace.step(step.kind, step.name):
                    step.action()
        tracker.finish(run.root, _run_files(run, config, trained, finish))
    return summary
