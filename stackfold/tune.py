"""``stackfold tune``: hyper-parameter search of a stacker over a finished run's OOF matrix.

The best parameters go to the run folder's tuning result, which the next ``stackfold run``
applies (see :func:`stackfold.core.params.resolve_params`). The study and its storage are
:mod:`stackfold.studies`'; the objective, over matrices only, is :mod:`stackfold.ensembles.objective`.
"""

import json
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import optuna
from optuna import Study
from optuna.trial import TrialState
from rich.markup import escape
from threadpoolctl import threadpool_limits

from stackfold.competition.challenges import get_spec
from stackfold.config import RunConfig, load_config
from stackfold.core.estimator import BaseModel
from stackfold.core.params import resolve_params
from stackfold.ensembles import get_stacker
from stackfold.ensembles.objective import StackData, cv_score, make_objective
from stackfold.ensembles.search_space import search_space
from stackfold.errors import ConfigError, RunFolderError
from stackfold.hashing import content_key
from stackfold.io import write_json_atomic
from stackfold.locking import folder_lock
from stackfold.progress import console, progress_bar
from stackfold.run_folder import Level, RunFolder
from stackfold.studies import (
    check_inputs, claim_trial, display_url, finished_trials, open_storage, open_study, optimize, quiet_optuna,
    study_direction,
)
from stackfold.tracking import Batch, Tracker, experiment_name, open_tracker
from stackfold.tracking.records import param_values

WATCH_S = 2.0


@dataclass(frozen=True)
class TuningResult:
    """The best trial of a study next to the untuned baseline, as saved to ``RUN/tuning/<stacker>.json``."""

    stacker: str
    study: str
    storage: str
    finished: int
    requested: int
    best_trial: int
    value: float
    params: dict[str, Any]
    default_value: float
    default_params: dict[str, Any]
    path: Path
    metric: str


def load_stack_data(run: RunFolder, config: RunConfig, meta: bool = False) -> StackData:
    """The run's OOF matrix of its base models (and its meta-features), with the saved labels and folds."""
    assignment = run.load_fold_assignment()
    X, _ = run.stack_inputs(list(config.base_models), meta=meta)
    if len(X) != len(assignment.labels):
        raise RunFolderError(
            f"{run.folds}: {len(assignment.labels)} rows but the OOF matrix has {len(X)}; "
            f"re-run `stackfold run DATA --out {run.root}`"
        )
    spec = get_spec(config.challenge)
    return StackData(X, assignment.labels, assignment.folds, spec.classes, config.seed, config.n_jobs, spec.metric)


def inputs_key(run: RunFolder, config: RunConfig, stacker: str, fixed: dict[str, Any]) -> str:
    """Content key of what a trial's score depends on besides its parameters."""
    model_keys = [run.manifest(Level.BASE, m)["key"] for m in config.base_models]
    return content_key(stacker, fixed, config.seed, model_keys, *uses_meta_features(config, get_stacker(stacker)))


def uses_meta_features(config: RunConfig, stacker_class: type[BaseModel]) -> tuple[str, ...]:
    """The meta-feature groups ``stacker_class`` reads in this run (none for the probability-only stackers)."""
    return tuple(config.meta_features) if stacker_class.reads_meta_features else ()


def baseline_score(
    path: Path, key: str, stacker_class: type[BaseModel], fixed: dict[str, Any], data: StackData
) -> float:
    """CV score without tuning (defaults and the config's [params]): cached in the result file per inputs key."""
    if path.is_file():
        saved = json.loads(path.read_text())
        if saved.get("inputs_key") == key and "default_value" in saved:
            return float(saved["default_value"])
    with console.status(f"  {stacker_class.name}: CV with default parameters"):
        return cv_score(stacker_class, fixed, data)


def tune_stacker(
    run_root: Path, stacker: str, n_trials: int, timeout: float | None = None, storage: str | None = None,
    study_name: str | None = None, space_file: Path | None = None, track: str | None = None,
) -> TuningResult:
    """Tune ``stacker`` on a finished run and save the best parameters for the next ``stackfold run``.

    Workers hold the run folder's lock shared: several may fill one study, no ``run`` rewrites the
    OOF matrix under them. ``track``: an MLflow tracking setting (:mod:`stackfold.tracking`; ``None``: the run's
    ``tracking``), which logs each trial this process finishes.
    """
    run = RunFolder(Path(run_root))
    config = load_config(run.require(run.config, "run configuration"))
    stacker_class = get_stacker(stacker)
    fixed = config.model_params(stacker)
    space = search_space(stacker_class, space_file)
    overlap = sorted(set(space) & set(fixed))
    if overlap:
        console.print(escape(f"{run.config} [params.{stacker}] fixes {', '.join(overlap)}: not searched"), style="dim")
    space = {k: v for k, v in space.items() if k not in fixed}
    url = storage or f"sqlite:///{run.study_storage(stacker).resolve()}"
    tracker = _tracker(run, config.tracking if track is None else track)
    with folder_lock(run.lock, "tune", shared=True), tracker:
        study_storage = open_storage(url)  # a bad --storage fails before minutes of loading
        data = load_stack_data(run, config, meta=bool(uses_meta_features(config, stacker_class)))
        key = inputs_key(run, config, stacker, fixed)
        _start_tracking(tracker, run, config, stacker, {"trials": n_trials, "timeout": timeout,
                                                        "study": study_name or stacker, "storage": display_url(url),
                                                        **{f"space.{k}": v for k, v in space.items()}})
        with quiet_optuna(), threadpool_limits(limits=config.n_jobs):
            study = open_study(study_storage, study_name or stacker, config.seed, study_direction(data.metric))
            check_inputs(study, key, "delete " + (url.removeprefix("sqlite:///") if storage is None else "that study"))
            claim = partial(claim_trial, n_trials=n_trials)
            optimize(study, make_objective(stacker_class, space, data, fixed, before=claim), n_trials, timeout,
                     callbacks=[tracker.trial_logger(data.metric)])
            result = _best(run, study, stacker_class, fixed, data, key, url, n_trials)
        save_result(result, key)
        tracker.finish(run.root, [result.path], _tracked_result(result))
    return result


def _tracker(run: RunFolder, setting: str) -> Tracker:
    """The tuning's tracker; ``tracking = "mlflow"`` is the store beside the run's data folder (``origin.json``)."""
    origin = json.loads(run.origin.read_text(encoding="utf-8")) if run.origin.is_file() else {}
    return open_tracker(setting, Path(origin.get("data_dir", run.root)),
                        goes_on="tuning goes on, its result is saved in the run folder")


def _start_tracking(tracker: Tracker, run: RunFolder, config: RunConfig, stacker: str, params: dict[str, Any]) -> None:
    """The tuning's parent MLflow run ``tune <stacker>``: its trials, study, storage and search space."""
    challenge = get_spec(config.challenge).name
    tags = {"stackfold.command": "tune", "stackfold.run_folder": str(run.root.resolve()),
            "stackfold.challenge": challenge, "stackfold.stacker": stacker}
    tracker.start(experiment_name(challenge), f"tune {stacker}", {"stacker": stacker, **params}, tags)


def _tracked_result(result: TuningResult) -> Batch:
    """The best trial on the tuning's parent run: its score beside the untuned one, its parameters (``best.*``)."""
    metrics = ((f"best_{result.metric}", result.value, 0), (f"default_{result.metric}", result.default_value, 0),
               ("finished_trials", float(result.finished), 0))
    return Batch(metrics, param_values(result.params, "best."), {"stackfold.best_trial": str(result.best_trial)})


def _best(
    run: RunFolder, study: Study, stacker_class: type[BaseModel], fixed: dict[str, Any], data: StackData, key: str,
    url: str, n_trials: int,
) -> TuningResult:
    """The study's best trial beside the untuned baseline."""
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        raise ConfigError(f"study {study.study_name!r} has no complete trial yet; run again with a longer --timeout")
    best = study.best_trial
    path = run.tuning_result(stacker_class.name)
    default_value = baseline_score(path, key, stacker_class, fixed, data)
    return TuningResult(
        stacker_class.name, study.study_name, display_url(url), len(finished_trials(study)), n_trials, best.number,
        float(best.value), dict(best.params), default_value, resolve_params(stacker_class, configured=fixed), path,
        data.metric,
    )


def save_result(result: TuningResult, key: str) -> None:
    """Write ``RUN/tuning/<stacker>.json`` atomically: its ``params`` are what the next run applies."""
    write_json_atomic(result.path, {
        "params": result.params, "value": result.value, "trials": result.finished, "best_trial": result.best_trial,
        "study": result.study, "storage": result.storage, "default_value": result.default_value, "inputs_key": key,
    })


def tune_on_cluster(
    scheduler: str, workers: int, run_root: Path, stacker: str, n_trials: int, timeout: float | None = None,
    storage: str | None = None, study_name: str | None = None, space_file: Path | None = None,
    track: str | None = None,
) -> TuningResult:
    """``workers`` tuning workers as tasks of the Dask cluster at ``scheduler``, all filling one study.

    Every worker runs :func:`tune_stacker` on the shared run folder; trials are claimed in the
    shared storage, so none is lost or counted twice. The study must live where every worker
    writes: PostgreSQL, or the run's SQLite file when the workers are processes of this machine
    (``local:N``). The client then reads the finished study and saves the result. With tracking (``track``), each
    worker logs its own trials under a parent run of its own.
    """
    from stackfold.cluster.connect import check_workers_see, cluster_client, parse_local
    from stackfold.cluster.runner import task_result

    if parse_local(scheduler) is None and not (storage or "").startswith("postgresql"):
        raise ConfigError(f"--scheduler {scheduler}: tuning workers on other machines share the study through "
                          "PostgreSQL; pass --storage postgresql://user@host:5432/db (SQLite is for one machine)")
    run = RunFolder(Path(run_root).resolve())
    url = storage or f"sqlite:///{run.study_storage(stacker).resolve()}"
    with cluster_client(scheduler) as client:
        check_workers_see(client, run.require(run.config, "run configuration"), "the run folder's")
        futures = [client.submit(tune_stacker, run.root, stacker, n_trials, timeout, storage, study_name, space_file,
                                 track, pure=False, key=f"tune-{stacker}-worker-{k}") for k in range(workers)]
        console.print(f"cluster: {workers} tuning workers on {scheduler}, study in {display_url(url)}", markup=False)
        _watch(futures, url, study_name or stacker, n_trials)
        for k, future in enumerate(futures, start=1):
            task_result(future, f"tuning worker {k}")
    return tune_stacker(run.root, stacker, n_trials, timeout, storage, study_name, space_file, track="")


def _watch(futures: list, url: str, study_name: str, n_trials: int) -> None:
    """A bar of the study's finished trials until every worker has stopped (the study is polled every 2 s)."""
    with progress_bar(f"study {study_name!r}: finished trials", n_trials) as advance, quiet_optuna():
        shown = 0
        while not all(f.done() for f in futures):
            time.sleep(WATCH_S)
            try:
                finished = len(finished_trials(optuna.load_study(study_name=study_name, storage=url)))
            except KeyError:  # the workers have not created the study yet
                continue
            advance(min(finished, n_trials) - shown)
            shown = min(finished, n_trials)
