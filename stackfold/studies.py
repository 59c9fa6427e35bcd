"""Optuna studies of ``stackfold tune``: seeded sampling, RDB storage with heartbeats, several workers.

A study lives in an Optuna RDB storage: SQLite in the run folder by default, PostgreSQL for
several workers on one study. ``--trials N`` is the number of finished (complete or pruned)
trials the *study* should hold, so a resumed or parallel worker only runs the rest. Trials
left running by a killed worker are failed by Optuna's heartbeats and neither count nor block.
"""

import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
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
from sqlalchemy.engine import make_url

from stackfold.competition.metric import metric_info
from stackfold.errors import ConfigError
from stackfold.progress import console

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
HEARTBEAT_S = 5
"""Seconds between a running trial's heartbeats in the storage."""
GRACE_S = 20
"""A running trial without heartbeat for this long belongs to a dead worker and is failed."""
POLL_S = 1.0


class SurplusTrial(Exception):
    """A worker's trial is not needed: the study already holds the requested finished trials."""


def claim_trial(trial: Trial, n_trials: int) -> None:
    """Go on only if the earlier trials may still leave the study short of ``n_trials`` finished ones.

    Several workers ask for trials at once, so the last ones may overshoot the count: a trial
    whose earlier trials are already enough is surplus, and one whose earlier trials are enough
    only if the running ones finish waits for them (or for them to be failed as stale).
    """
    study = trial.study
    trial.set_user_attr("claimed", True)
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
        fail_unclaimed_trials(study, trial.number)


def fail_unclaimed_trials(study: optuna.Study, before: int) -> None:
    """Fail the running trials numbered below ``before`` whose worker died before it claimed them.

    A worker killed between creating a trial and its first heartbeat leaves a running trial
    that no heartbeat check can find stale; every live worker claims its trial (the user
    attribute ``claimed``) at once, so one unclaimed for ``GRACE_S`` seconds belongs to a dead worker.
    """
    now = datetime.now()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        unclaimed = not t.user_attrs.get("claimed") and t.datetime_start is not None
        if t.number < before and unclaimed and (now - t.datetime_start).total_seconds() > GRACE_S:
            try:
                study.tell(t.number, state=TrialState.FAIL)
            except (RuntimeError, ValueError):  # another worker failed it first
                continue


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


def display_url(url: str) -> str:
    """The storage URL with any password masked, for messages and the saved result."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError as e:
        raise ConfigError(f"--storage {url!r}: not a database URL; e.g. postgresql://user@host:5432/db") from e


def driver_url(url: str) -> str:
    """A bare ``postgresql://`` URL made to use psycopg 3 (our dependency), whatever SQLAlchemy's default driver."""
    return "postgresql+psycopg://" + url.removeprefix("postgresql://") if url.startswith("postgresql://") else url


def open_storage(url: str, attempts: int = 8) -> RDBStorage:
    """RDB storage with heartbeats, so a killed worker's trials turn FAIL instead of staying RUNNING.

    Workers starting together on an empty database race to create Optuna's tables (``CREATE TABLE``
    after the check is not atomic); the loser retries and finds them. PostgreSQL reports the lost
    race as an integrity or programming error, SQLite as an operational "already exists". While the
    winner is still creating its dozen tables (seconds on a busy disk) a retry may lose again, to a
    table created meanwhile: hence several attempts (a worker needed 3 on a loaded 2-core machine).
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
            if "already exists" in str(e.orig) and attempt < attempts - 1:
                time.sleep(0.5 * (attempt + 1))
                continue
            reason = str(e.orig).strip().splitlines()[0] if e.orig else str(e)
            raise ConfigError(f"--storage {shown}: cannot open the database ({reason})") from e
    raise AssertionError("unreachable")


def study_direction(metric: str) -> str:
    """Optuna's direction of a study of the challenge ``metric``: ``maximize``, or ``minimize`` (log loss)."""
    return "maximize" if metric_info(metric).higher_is_better else "minimize"


def open_study(storage: BaseStorage | None, name: str, seed: int, direction: str = "maximize") -> optuna.Study:
    """Create the study or load it to continue; ``storage=None`` keeps it in memory. ``direction``: the score's
    (:func:`study_direction`); a study kept in the storage that goes the other way is refused in one line."""
    study = optuna.create_study(
        storage=storage, study_name=name, direction=direction, load_if_exists=True,
        sampler=TrialSeededTPE(seed), pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1),
    )
    kept = study.direction.name.lower()
    if kept != direction:
        raise ConfigError(f"study {name!r} was made to {kept} its score, but this one is to {direction}; "
                          "pass --study NEW_NAME (or delete that study)")
    return study


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


def optimize(study: optuna.Study, objective: Callable[[Trial], float], n_trials: int, timeout: float | None,
             callbacks: Sequence[Callable[[optuna.Study, FrozenTrial], None]] = ()) -> None:
    """Run trials until the study holds ``n_trials`` finished ones (counting other workers'), or ``timeout``;
    ``callbacks`` see each trial this process ends (tracking)."""
    fail_stale_trials(study)
    done = len(finished_trials(study))
    if done >= n_trials:
        console.print(f"study {study.study_name!r} already holds {done} finished trials (--trials {n_trials})",
                      markup=False)
        return
    if done:
        console.print(f"study {study.study_name!r}: continuing with {done} of {n_trials} trials finished",
                      markup=False)
    study.optimize(
        objective, timeout=timeout, catch=(SurplusTrial,),
        callbacks=[MaxTrialsCallback(n_trials, states=FINISHED), print_trial, *callbacks],
    )
