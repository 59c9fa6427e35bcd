"""MLflow tracking of ``stackfold run`` and ``stackfold tune``, optional (the extra ``stackfold[mlflow]``).

Switched on by ``tracking`` in the run's configuration (``"mlflow"``: a SQLite store beside the data folder; or
any tracking URI) or ``--track URI``. MLflow is imported only by :mod:`.session`, when a tracked command
starts; :mod:`.store` resolves where the runs go, :mod:`.records` what they hold (docs/tracking.md).
"""

import os
from pathlib import Path

from stackfold.tracking.records import Batch
from stackfold.tracking.session import Tracker
from stackfold.tracking.store import DEFAULT_STORE, check_setting, require_mlflow, resolve_store

__all__ = ["DEFAULT_STORE", "NO_TRACKING", "Batch", "Tracker", "check_setting", "experiment_name", "open_tracker"]

NO_TRACKING = Tracker(None)
"""Tracking off: every call returns at once."""


def open_tracker(setting: str, data_dir: Path, goes_on: str = "the run goes on, its folder is complete") -> Tracker:
    """The tracker of a ``tracking`` setting (empty: off); tracking without MLflow installed is a one-line error
    before any work. Nothing is sent before :meth:`Tracker.start`."""
    if not setting:
        return NO_TRACKING
    require_mlflow(setting)
    return Tracker(resolve_store(setting, data_dir), goes_on)


def experiment_name(challenge: str) -> str:
    """The MLflow experiment of a challenge's runs: ``stackfold-<challenge>``, or MLflow's own
    ``MLFLOW_EXPERIMENT_NAME`` when set."""
    return os.environ.get("MLFLOW_EXPERIMENT_NAME") or f"stackfold-{challenge}"
