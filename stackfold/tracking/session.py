"""One command's MLflow runs (:class:`Tracker`): a parent run, and a nested run per model, stacker or trial.

MLflow is imported here only, when a tracked command starts. Tracking never fails the command: the first
error MLflow raises (a server gone away, a full disk, a refused value) stops the tracking for the rest of
the command, with one line saying so; the run folder is written as without tracking.
"""

import getpass
import logging
import re
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from stackfold.progress import console
from stackfold.tracking.records import Batch, leaderboard_batches, model_batch, param_values, trial_batch
from stackfold.tracking.store import Store, prepare_environment
from stackfold.version import __version__

BATCH = 100
"""Parameters, tags and metrics per request: MLflow takes at most 100 parameters and 100 tags in one batch."""
MAX_REASON = 500
"""Characters of MLflow's error kept in the one line (a proxy's error page would fill the screen)."""
QUIET_LOGGERS = ("mlflow", "alembic", "urllib3")
"""Their lines (database migrations, retries of a dead server) would bury the run's own; errors still show."""


def _shown(uri: str) -> str:
    """``uri`` with a password in it masked."""
    return re.sub(r"//([^/:@]+):[^/@]*@", r"//\1:***@", uri)


def _user() -> str:
    """The user name MLflow shows, ``unknown`` in a container whose user has no name."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@contextmanager
def _quiet() -> Iterator[None]:
    """MLflow's warnings and info lines silenced for one call, its loggers' levels restored after it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import mlflow  # noqa: F401  (its first import sets its loggers' levels: the ones to restore)

        levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
        try:
            yield
        finally:
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)


class Tracker:
    """A command's MLflow runs in ``store`` (``None``: tracking off, every method returns at once).

    ``start`` opens the parent run; ``model`` and ``trial`` add nested runs; ``leaderboard`` adds the intervals;
    ``finish`` logs the artifacts. Used as a context manager, it ends the runs: ``FINISHED``, or ``FAILED``
    (``KILLED`` on Ctrl-C) when the command raised. ``goes_on`` ends the line printed when tracking stops.
    """

    def __init__(self, store: Store | None, goes_on: str = "the run goes on, its folder is complete"):
        self.store, self.goes_on = store, goes_on
        self.stopped: str | None = None
        """Why tracking stopped (MLflow's error), ``None`` while it goes on."""
        self.counts: Counter[str] = Counter()
        self._client: Any = None
        self._experiment = ""
        self._parent = ""
        self._children: dict[str, str] = {}

    @property
    def active(self) -> bool:
        return bool(self._parent) and self.stopped is None

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Whatever MLflow raises in the block stops the tracking (one line), never the command."""
        try:
            with _quiet():
                yield
        except Exception as e:  # any fault of MLflow's (or a server's) must leave the command running
            reason = " ".join(str(e).split())[:MAX_REASON] or type(e).__name__
            self.stopped = reason
            console.print(f"MLflow tracking at {_shown(self.store.uri)} stopped: {reason}; {self.goes_on}",
                          markup=False, soft_wrap=True)

    def start(self, experiment: str, name: str, params: Mapping[str, Any], tags: Mapping[str, str]) -> None:
        """Open the parent run ``name`` in ``experiment`` (created if new), with ``params`` and ``tags``."""
        if self.store is None or self.stopped is not None:
            return
        with self._guard():
            prepare_environment(self.store)
            from mlflow import MlflowClient

            self._client = MlflowClient(tracking_uri=self.store.uri)
            self._experiment = _experiment_id(self._client, experiment, self.store.artifact_location)
            system = {"mlflow.source.name": f"stackfold {tags.get('stackfold.command', '')}".strip(),
                      "mlflow.source.type": "LOCAL", "mlflow.user": _user(),
                      "stackfold.version": __version__}
            run = self._client.create_run(self._experiment, run_name=name, tags={**system, **tags})
            self._parent = run.info.run_id
            self._log(self._parent, Batch(params=param_values(params)))
            console.print(f"MLflow: run {name!r} in experiment {experiment!r} at {_shown(self.store.uri)}",
                          markup=False, soft_wrap=True)

    def model(self, name: str, level: str, key: str, reused: bool, scores: pd.DataFrame,
              summary: Mapping[str, float], params: Mapping[str, Any]) -> None:
        """A model's or stacker's result, fitted in this run or ``reused`` from the folder: its nested run, and
        its resolved parameters on the parent run (``<name>.<parameter>``)."""
        if not self.active:
            return
        with self._guard():
            child = self._nested(name)
            self._log(child, model_batch(scores, summary, params, key, level, reused))
            self._log(self._parent, Batch(params=param_values(params, f"{name}.")))
            self.counts["reused" if reused else "fitted"] += 1

    def leaderboard(self, board: pd.DataFrame, rank_by: str) -> None:
        """Each row's bootstrap interval on its nested run; the top row's score and name on the parent run."""
        if not self.active:
            return
        with self._guard():
            for model, batch in leaderboard_batches(board).items():
                if model in self._children:
                    self._log(self._children[model], batch)
            top = board.iloc[0]
            metrics = {f"best_{rank_by}": float(top[rank_by]), **{f"models_{k}": n for k, n in self.counts.items()}}
            self._log(self._parent, Batch(tuple((k, float(v), 0) for k, v in metrics.items()),
                                          tags={"stackfold.best_model": str(top["model"])}))

    def trial_logger(self, metric: str) -> Callable[[Any, Any], None]:
        """An Optuna callback: each trial this process finishes (complete or pruned) as a nested run."""
        def log_trial(study: Any, trial: Any) -> None:
            if not self.active or trial.state.name not in ("COMPLETE", "PRUNED"):
                return
            seconds = trial.duration.total_seconds() if trial.duration is not None else None
            with self._guard():
                child = self._nested(f"trial {trial.number}")
                self._log(child, trial_batch(trial.number, trial.state.name, trial.value, trial.params,
                                             trial.intermediate_values, seconds, metric))
                self._client.set_terminated(self._children.pop(f"trial {trial.number}"), "FINISHED")
        return log_trial

    def finish(self, root: Path, files: Iterable[Path], result: Batch | None = None) -> None:
        """``result`` on the parent run, then ``files`` as its artifacts, each at its path under ``root``."""
        if not self.active:
            return
        with self._guard():
            self._log(self._parent, result or Batch())
            for path in files:
                folder = Path(path).relative_to(root).parent.as_posix()
                self._client.log_artifact(self._parent, str(path), None if folder == "." else folder)

    def _nested(self, name: str) -> str:
        run = self._client.create_run(self._experiment, run_name=name, tags={"mlflow.parentRunId": self._parent})
        self._children[name] = run.info.run_id
        return run.info.run_id

    def _log(self, run_id: str, batch: Batch) -> None:
        from mlflow.entities import Metric, Param, RunTag

        now = int(time.time() * 1000)
        metrics = [Metric(key, value, now, step) for key, value, step in batch.metrics]
        params = [Param(key, value) for key, value in batch.params.items()]
        tags = [RunTag(key, value) for key, value in batch.tags.items()]
        for at in range(0, max(len(metrics), len(params), len(tags)), BATCH):
            self._client.log_batch(run_id, metrics[at:at + BATCH], params[at:at + BATCH], tags[at:at + BATCH])

    def __enter__(self) -> "Tracker":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: Any) -> None:
        """End the nested runs, then the parent: ``FINISHED``, ``KILLED`` (Ctrl-C) or ``FAILED``."""
        if not self.active:
            return
        status = "FINISHED" if kind is None else "KILLED" if issubclass(kind, KeyboardInterrupt) else "FAILED"
        with self._guard():
            for run_id in [*self._children.values(), self._parent]:
                self._client.set_terminated(run_id, status)


def _experiment_id(client: Any, name: str, artifact_location: str | None) -> str:
    """The experiment ``name``'s id, creating it (its artifacts at ``artifact_location``) if new; another process
    creating it at the same moment is no error."""
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    try:
        return client.create_experiment(name, artifact_location=artifact_location)
    except MlflowException:
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return found.experiment_id
