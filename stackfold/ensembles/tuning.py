"""Hyper-parameter search of a stacker with Optuna: CV weighted F1 over a finished run's OOF matrix.

The objective is the stacker's CV score on the run's OOF matrix with the run's *saved* folds,
the folds every base model used, so a trial never scores rows its stacker was fitted on.
The running mean after each fold is reported to a median pruner, so poor trials stop early.

A study lives in an Optuna RDB storage: SQLite in the run folder by default
(``RUN/tuning/<stacker>.db``), PostgreSQL for several workers on one study. ``--trials N``
is the number of finished (complete or pruned) trials the *study* should hold, so a resumed or
parallel worker only runs the rest. Trials left running by a killed worker are failed by
Optuna's heartbeats and neither count nor block. The best parameters go to
``RUN/tuning/<stacker>.json``, which the next ``stackfold run`` applies.
"""

import json
import time
import tomllib
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import sqlalchemy.exc
from optuna.distributions import BaseDistribution
from optuna.exceptions import ExperimentalWarning
from optuna.samplers import BaseSampler, TPESampler
from optuna.storages import BaseStorage, RDBStorage
from optuna.study import MaxTrialsCallback
from optuna.trial import FrozenTrial, Trial, TrialState
from rich.table import Table
from sqlalchemy.engine import make_url
from threadpoolctl import threadpool_limits

from stackfold.competition.metric import METRICS
from stackfold.competition.spec import get_spec
from stackfold.config import RunConfig, load_config
from stackfold.ensembles import get_stacker
from stackfold.errors import ConfigError, RunFolderError
from stackfold.hashing import content_key
from stackfold.io import write_json_atomic
from stackfold.models.base import BaseModel
from stackfold.progress import console
from stackfold.run_folder import RunFolder

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
HEARTBEAT_S = 5
"""Seconds between a running trial's heartbeats in the storage."""
GRACE_S = 20
"""A running trial without heartbeat for this long belongs to a dead worker and is failed."""
POLL_S = 1.0


@dataclass(frozen=True)
class Range:
    """Numbers from ``low`` to ``high`` (integers for integer parameters), log-uniform if ``log``."""

    low: float
    high: float
    log: bool = False


@dataclass(frozen=True)
class Choice:
    """One of a few values."""

    values: tuple[Any, ...]


Dimension = Range | Choice

LGBM_SPACE: dict[str, Dimension] = {
    # the learning rate is searched together with the round cap; early stopping on the inner split stays on
    "learning_rate": Range(0.02, 0.3, log=True),
    "max_rounds": Range(100, 1000, log=True),
    "num_leaves": Range(7, 63, log=True),
    "min_sum_hessian_in_leaf": Range(0.01, 30.0, log=True),
    "lambda_l2": Range(0.1, 50.0, log=True),
    "feature_fraction": Range(0.3, 1.0),
    "max_bin": Choice((15, 31, 63)),
}
"""Search space of the LightGBM stacker: rate and rounds, fewer bins, column subsampling, leaves, regularisation."""

XGB_SPACE: dict[str, Dimension] = {
    "learning_rate": Range(0.02, 0.3, log=True),
    "max_rounds": Range(100, 1000, log=True),
    "max_depth": Range(2, 8),
    "min_child_weight": Range(0.1, 30.0, log=True),
    "reg_lambda": Range(0.1, 50.0, log=True),
    "colsample_bytree": Range(0.3, 1.0),
    "max_bin": Choice((16, 32, 64)),
}
"""Search space of the XGBoost stacker, the same ideas under XGBoost's parameter names."""

SPACES: dict[str, dict[str, Dimension]] = {"lgbm": LGBM_SPACE, "xgb": XGB_SPACE}



@dataclass(frozen=True)
class StackData:
    """What a stacker's CV needs: OOF matrix, labels (class codes), saved folds and the run's settings."""

    X: np.ndarray
    y: np.ndarray
    folds: np.ndarray
    classes: tuple[int, ...]
    seed: int
    n_jobs: int
    metric: str = "weighted_f1"


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


class SurplusTrial(Exception):
    """A worker's trial is not needed: the study already holds the requested finished trials."""


# --- search space ---------------------------------------------------------------------------------


def search_space(stacker_class: type[BaseModel], space_file: Path | None = None) -> dict[str, Dimension]:
    """The built-in space of a stacker, with the keys of ``space_file`` replacing or adding dimensions."""
    if stacker_class.name not in SPACES:
        raise ConfigError(f"no search space for stacker {stacker_class.name!r}; tunable: {', '.join(SPACES)}")
    overrides = read_space(space_file, stacker_class) if space_file is not None else {}
    return {**SPACES[stacker_class.name], **overrides}


def read_space(path: Path, stacker_class: type[BaseModel]) -> dict[str, Dimension]:
    """Parse a ``--space`` TOML file strictly: every key a parameter of the stacker, every value a dimension."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: search space file not found (--space)") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from e
    return {key: _dimension(path, stacker_class, key, value) for key, value in raw.items()}


def _dimension(path: Path, stacker_class: type[BaseModel], key: str, value: Any) -> Dimension:
    defaults = stacker_class.defaults
    if key not in defaults:
        raise ConfigError(
            f"{path}: {key!r} is not a parameter of stacker {stacker_class.name!r}; known: {', '.join(defaults)}"
        )
    integer = isinstance(defaults[key], int)
    kind = int if integer else (int, float)
    if isinstance(value, dict) and list(value) == ["choices"]:
        choices = value["choices"]
        if isinstance(choices, list) and choices and all(_is_a(c, kind) for c in choices):
            return Choice(tuple(choices))
    elif isinstance(value, list) and len(value) in (2, 3) and all(_is_a(v, kind) for v in value[:2]):
        low, high, *log = value
        if log not in ([], ["log"]):
            raise ConfigError(f'{path}: {key} = {value!r}: the third item may only be "log"')
        if not low < high or (log and low <= 0):
            raise ConfigError(f"{path}: {key} = {value!r}: need low < high{' and low > 0 for log' if log else ''}")
        return Range(low, high, log=bool(log))
    number = "integers" if integer else "numbers"
    raise ConfigError(
        f'{path}: {key} = {value!r}: expected [low, high], [low, high, "log"] or {{choices = [...]}} of {number}'
    )


def _is_a(value: Any, kind: type | tuple[type, ...]) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)


def suggest(trial: Trial, space: dict[str, Dimension], defaults: dict[str, Any]) -> dict[str, Any]:
    """One value per dimension of ``space``; integer parameters (integer defaults) get integers."""
    params = {}
    for name, dim in space.items():
        if isinstance(dim, Choice):
            params[name] = trial.suggest_categorical(name, list(dim.values))
        elif isinstance(defaults[name], int):
            params[name] = trial.suggest_int(name, int(dim.low), int(dim.high), log=dim.log)
        else:
            params[name] = trial.suggest_float(name, float(dim.low), float(dim.high), log=dim.log)
    return params


# --- objective ------------------------------------------------------------------------------------


def load_stack_data(run: RunFolder, config: RunConfig, meta: bool = False) -> StackData:
    """The run's OOF matrix of its base models (and its meta-features), with the saved labels and folds."""
    assignment = run.load_fold_assignment()
    X, _ = run.stack_inputs(list(config.models), meta=meta)
    if len(X) != len(assignment.labels):
        raise RunFolderError(
            f"{run.folds}: {len(assignment.labels)} rows but the OOF matrix has {len(X)}; "
            f"re-run `stackfold run DATA --out {run.root}`"
        )
    spec = get_spec(config.competition)
    return StackData(X, assignment.labels, assignment.folds, spec.classes, config.seed, config.n_jobs, spec.metric)


def cv_score(
    stacker_class: type[BaseModel], params: dict[str, Any], data: StackData,
    on_fold: Callable[[int, float], None] | None = None,
) -> float:
    """Mean challenge metric over the saved folds; fold k's stacker is fitted on the other folds only.

    ``on_fold(k, running_mean)`` is called after each fold (for pruning).
    """
    scores = []
    for k in range(int(data.folds.max()) + 1):
        train, valid = data.folds != k, data.folds == k
        model = stacker_class(data.classes, seed=data.seed, n_jobs=data.n_jobs, **params)
        model.fit(data.X[train], data.y[train])
        scores.append(METRICS[data.metric](data.y[valid], model.predict(data.X[valid])))
        if on_fold is not None:
            on_fold(k, float(np.mean(scores)))
    return float(np.mean(scores))


def make_objective(
    stacker_class: type[BaseModel], space: dict[str, Dimension], data: StackData,
    fixed: dict[str, Any] | None = None, n_trials: int | None = None,
) -> Callable[[Trial], float]:
    """Optuna objective: CV weighted F1 of ``fixed`` params updated by the trial's suggestions.

    With ``n_trials``, a trial the study no longer needs (another worker filled the count)
    raises :class:`SurplusTrial` before any fitting.
    """

    def objective(trial: Trial) -> float:
        if n_trials is not None:
            _claim(trial, n_trials)
        params = {**(fixed or {}), **suggest(trial, space, stacker_class.defaults)}
        return cv_score(stacker_class, params, data, partial(_report, trial))

    return objective


def _report(trial: Trial, fold: int, running_mean: float) -> None:
    trial.report(running_mean, step=fold)
    if trial.should_prune():
        raise optuna.TrialPruned(f"after fold {fold + 1}: score {running_mean:.4f}")


def _claim(trial: Trial, n_trials: int) -> None:
    """Go on only if the earlier trials may still leave the study short of ``n_trials`` finished ones.

    Several workers ask for trials at once, so the last ones may overshoot the count: a trial
    whose earlier trials are already enough is surplus, and one whose earlier trials are enough
    only if the running ones finish waits for them (or for them to be failed as stale).
    """
    study = trial.study
    while True:
        earlier = [t for t in study.get_trials(deepcopy=False, states=(*FINISHED, TrialState.RUNNING))
                   if t.number < trial.number]
        finished = sum(t.state in FINISHED for t in earlier)
        if finished >= n_trials:
            trial.set_user_attr("surplus", True)
            study.stop()
            raise SurplusTrial(f"the study already holds {finished} finished trials")
        if len(earlier) < n_trials:
            return
        time.sleep(POLL_S)
        fail_stale_trials(study)


# --- study and storage ----------------------------------------------------------------------------


class TrialSeededTPE(BaseSampler):
    """TPE whose random state for trial k is seeded by ``(seed, k)``.

    One seeded TPESampler per process would repeat its first draws in every worker and after
    every resume; seeding by trial number keeps draws distinct there and a single worker reproducible.
    """

    def __init__(self, seed: int):
        self.seed = seed
        self._tpe = TPESampler(seed=seed)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._tpe = TPESampler(seed=int(np.random.SeedSequence([self.seed, trial.number]).generate_state(1)[0]))
        self._tpe.before_trial(study, trial)

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return self._tpe.infer_relative_search_space(study, trial)

    def sample_relative(
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return self._tpe.sample_relative(study, trial, search_space)

    def sample_independent(
        self, study: optuna.Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        return self._tpe.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(
        self, study: optuna.Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None
    ) -> None:
        self._tpe.after_trial(study, trial, state, values)


def default_storage_url(run: RunFolder, stacker: str) -> str:
    """``sqlite:///RUN/tuning/<stacker>.db`` (absolute), creating the folder."""
    run.tuning.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(run.tuning / f'{stacker}.db').resolve()}"


def display_url(url: str) -> str:
    """The storage URL with any password masked, for messages and the saved result."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError as e:
        raise ConfigError(f"--storage {url!r}: not a database URL; e.g. postgresql://user@host:5432/db") from e


def driver_url(url: str) -> str:
    """A bare ``postgresql://`` URL made to use psycopg 3 (our dependency), whatever SQLAlchemy's default driver."""
    return "postgresql+psycopg://" + url.removeprefix("postgresql://") if url.startswith("postgresql://") else url


def open_storage(url: str, attempts: int = 3) -> RDBStorage:
    """RDB storage with heartbeats, so a killed worker's trials turn FAIL instead of staying RUNNING.

    Workers starting together on an empty PostgreSQL database race to create Optuna's tables
    (``CREATE TABLE`` is not atomic there); the loser retries and finds them.
    """
    shown = display_url(url)
    engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    for attempt in range(attempts):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)
                return RDBStorage(driver_url(url), engine_kwargs=engine_kwargs, heartbeat_interval=HEARTBEAT_S,
                                  grace_period=GRACE_S)
        except ImportError as e:
            raise ConfigError(f"--storage {shown}: no database driver for it ({e.__cause__ or e}); "
                              "for PostgreSQL: pip install 'psycopg[binary]'") from e
        except sqlalchemy.exc.ArgumentError as e:
            raise ConfigError(f"--storage {shown}: {e}") from e
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
        except sqlalchemy.exc.OperationalError as e:
            reason = str(e.orig).strip().splitlines()[0] if e.orig else str(e)
            raise ConfigError(f"--storage {shown}: cannot open the database ({reason})") from e
    raise AssertionError("unreachable")


def open_study(storage: BaseStorage | None, name: str, seed: int) -> optuna.Study:
    """Create the study or load it to continue; ``storage=None`` keeps it in memory."""
    return optuna.create_study(
        storage=storage, study_name=name, direction="maximize", load_if_exists=True,
        sampler=TrialSeededTPE(seed), pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1),
    )


def fail_stale_trials(study: optuna.Study) -> None:
    """Mark trials whose worker stopped sending heartbeats as FAIL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def finished_trials(study: optuna.Study) -> list[FrozenTrial]:
    """Complete and pruned trials: the ones ``--trials`` counts."""
    return study.get_trials(deepcopy=False, states=FINISHED)


def check_inputs(study: optuna.Study, key: str, hint: str) -> None:
    """Tag a new study with its inputs' key; refuse to continue one tuned on other inputs."""
    saved = study.user_attrs.get("inputs")
    if saved is None:
        study.set_user_attr("inputs", key)
    elif saved != key:
        raise ConfigError(
            f"study {study.study_name!r} was tuned on other stacker inputs (base models, folds, seed or "
            f"[params]); pass --study NEW_NAME or {hint}"
        )


@contextmanager
def quiet_optuna() -> Iterator[None]:
    """Only Optuna's errors: progress is printed per trial by :func:`print_trial`."""
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


def print_trial(study: optuna.Study, trial: FrozenTrial) -> None:
    """One progress line per finished trial (surplus trials of a parallel worker are silent)."""
    if trial.state == TrialState.COMPLETE:
        console.print(f"  trial {trial.number}: {trial.value:.4f} (best {study.best_value:.4f})")
    elif trial.state == TrialState.PRUNED:
        console.print(f"  trial {trial.number}: pruned after fold {(trial.last_step or 0) + 1}")


def optimize(study: optuna.Study, objective: Callable[[Trial], float], n_trials: int, timeout: float | None) -> None:
    """Run trials until the study holds ``n_trials`` finished ones (counting other workers'), or ``timeout``."""
    fail_stale_trials(study)
    done = len(finished_trials(study))
    if done >= n_trials:
        console.print(f"study {study.study_name!r} already holds {done} finished trials (--trials {n_trials})")
        return
    if done:
        console.print(f"study {study.study_name!r}: continuing with {done} of {n_trials} trials finished")
    study.optimize(
        objective, timeout=timeout, catch=(SurplusTrial,),
        callbacks=[MaxTrialsCallback(n_trials, states=FINISHED), print_trial],
    )


# --- the command ----------------------------------------------------------------------------------


def inputs_key(run: RunFolder, config: RunConfig, stacker: str, fixed: dict[str, Any]) -> str:
    """Content key of what a trial's score depends on besides its parameters."""
    model_keys = [json.loads((run.model_dir("base", m) / "manifest.json").read_text())["key"] for m in config.models]
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
    study_name: str | None = None, space_file: Path | None = None,
) -> TuningResult:
    """Tune ``stacker`` on a finished run and save the best parameters for the next ``stackfold run``."""
    run = RunFolder(Path(run_root))
    config = load_config(run.require(run.config, "run configuration"))
    stacker_class = get_stacker(stacker)
    fixed = config.model_params(stacker)
    space = search_space(stacker_class, space_file)
    overlap = sorted(set(space) & set(fixed))
    if overlap:
        console.print(f"[dim]{run.config} [params.{stacker}] fixes {', '.join(overlap)}: not searched[/dim]")
    space = {k: v for k, v in space.items() if k not in fixed}
    data = load_stack_data(run, config, meta=bool(uses_meta_features(config, stacker_class)))
    key = inputs_key(run, config, stacker, fixed)
    url = storage or default_storage_url(run, stacker)
    name = study_name or stacker
    with quiet_optuna(), threadpool_limits(limits=config.n_jobs):
        study = open_study(open_storage(url), name, config.seed)
        check_inputs(study, key, "delete " + (url.removeprefix("sqlite:///") if storage is None else "that study"))
        optimize(study, make_objective(stacker_class, space, data, fixed, n_trials), n_trials, timeout)
        if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            raise ConfigError(f"study {name!r} has no complete trial yet; run again with a longer --timeout")
        best = study.best_trial
        path = run.tuning / f"{stacker}.json"
        default_value = baseline_score(path, key, stacker_class, fixed, data)
        result = TuningResult(
            stacker, name, display_url(url), len(finished_trials(study)), n_trials, best.number, float(best.value),
            dict(best.params), default_value, {**stacker_class.defaults, **fixed}, path,
        )
    save_result(result, key)
    return result


def save_result(result: TuningResult, key: str) -> None:
    """Write ``RUN/tuning/<stacker>.json`` atomically: its ``params`` are what the next run applies."""
    write_json_atomic(result.path, {
        "params": result.params, "value": result.value, "trials": result.finished, "best_trial": result.best_trial,
        "study": result.study, "storage": result.storage, "default_value": result.default_value, "inputs_key": key,
    })


def tuning_table(result: TuningResult) -> Table:
    """Best trial next to the untuned baseline: CV score, then every tuned parameter."""
    table = Table(title=f"{result.stacker}: best of {result.finished} trials (trial {result.best_trial}, "
                        f"study {result.study!r})")
    for column in ("", "default", "tuned"):
        table.add_column(column, justify="left" if not column else "right")
    table.add_row("CV weighted F1", f"{result.default_value:.4f}", f"{result.value:.4f}")
    for name, value in result.params.items():
        table.add_row(name, _format_param(result.default_params.get(name)), _format_param(value))
    return table


def _format_param(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
