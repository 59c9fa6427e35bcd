"""Where a command's MLflow runs go: the tracking URI a ``tracking`` setting names, where its artifacts go, and
the environment MLflow reads (no MLflow import here: checking a setting stays quick)."""

import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path

from stackfold.errors import ConfigError

DEFAULT_STORE = "mlflow"
"""The ``tracking`` setting of the default store: SQLite beside the data folder (MLflow's embedded default)."""
STORE_FILE = "mlflow.db"
ARTIFACT_FOLDER = "mlartifacts"
"""Beside a SQLite store: MLflow would put its artifacts in ``./mlruns`` of whatever folder the command ran in."""
HTTP_KNOBS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
              "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
"""A server that went away costs seconds (two retries, 1 s then 2 s apart; 10 s per request), not MLflow's default
of 7 retries over minutes of backoff, 120 s each. Set only where the environment sets none."""
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class Store:
    """A tracking URI, and where a new experiment there keeps its artifacts (``None``: MLflow's or the server's
    choice)."""

    uri: str
    artifact_location: str | None = None


def check_setting(setting: str, option: str = "tracking =") -> None:
    """``tracking`` (or ``option``): empty (off), ``"mlflow"`` (the default store) or a tracking URI; one line
    otherwise."""
    if setting and setting != DEFAULT_STORE and not _SCHEME.match(setting):
        raise ConfigError(f"{option} {setting!r}: give \"mlflow\" (a SQLite store beside the data folder) or a "
                          "tracking URI: http://host:5000, sqlite:///path/mlflow.db, file:///path/mlruns")


def resolve_store(setting: str, data_dir: Path) -> Store:
    """The store of a ``tracking`` setting: ``"mlflow"`` is ``DATA/../mlflow.db``, its artifacts in
    ``DATA/../mlartifacts``; a SQLite URI keeps its artifacts beside its file too."""
    check_setting(setting)
    if setting == DEFAULT_STORE:
        folder = Path(data_dir).resolve().parent
        return Store(f"sqlite:///{folder / STORE_FILE}", (folder / ARTIFACT_FOLDER).as_uri())
    if setting.startswith("sqlite:///"):
        database = Path(setting.removeprefix("sqlite:///"))
        return Store(setting, (database.resolve().parent / ARTIFACT_FOLDER).as_uri())
    return Store(setting)


def require_mlflow(setting: str) -> None:
    """Before any work: tracking without MLflow installed is a one-line error naming the extra that brings it."""
    if importlib.util.find_spec("mlflow") is None:
        raise ConfigError(f"tracking = {setting!r} needs MLflow: pip install 'stackfold[mlflow]' "
                          "(or leave tracking out)")


def prepare_environment(store: Store) -> None:
    """MLflow's HTTP knobs (:data:`HTTP_KNOBS`) where unset, and, for a file store the user named, MLflow 3's
    opt-in (``MLFLOW_ALLOW_FILE_STORE``): MLflow keeps that store in maintenance mode and refuses it otherwise."""
    for name, value in HTTP_KNOBS.items():
        os.environ.setdefault(name, value)
    if store.uri.startswith("file:"):
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
