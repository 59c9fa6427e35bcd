"""MLflow tracking (stackfold.tracking): runs logged to a real `mlflow server` on localhost (SQLite backend) and
read back through the MLflow client; a rerun logged as reused in the default store beside the data; tuning trials
in a file store; a server killed mid-run, which never fails the run.

The server starts once for the module (it takes seconds) and is killed by the last test, so that test stays last.
"""

import ast
import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from machine import unavailable
from stackfold import cli
from stackfold.config import load_config
from stackfold.errors import ConfigError
from stackfold.run_folder import Level, RunFolder
from stackfold.tracking import Tracker, check_setting, open_tracker
from stackfold.tracking.records import model_batch, valid_key

PACKAGE = Path(__file__).resolve().parents[1] / "stackfold"
CONFIG = ('images = false\nn_jobs = 1\nmodels = ["prior", "complement_nb"]\nstackers = ["mean"]\n'
          "model_submissions = true\n")
MODELS = {"prior": Level.BASE, "complement_nb": Level.BASE, "mean": Level.STACK}
EXPERIMENT = "stackfold-rakuten"
STOPPED = re.compile(r"^MLflow tracking at (\S+) stopped: .+; the run goes on, its folder is complete$", re.M)


def _mlflow() -> None:
    if importlib.util.find_spec("mlflow") is None:
        unavailable("mlflow not installed (pip install 'stackfold[mlflow]')")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A real `mlflow server` on localhost, its runs in the SQLite file ``backend``; started, not yet waited for."""

    process: subprocess.Popen
    url: str
    backend: Path
    log: Path

    def wait(self, seconds: float = 300) -> str:
        """The server's URL once it answers (its own import and database set-up take a while)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"mlflow server exited {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2):
                    return self.url
            except OSError:
                time.sleep(0.5)
        pytest.fail(f"mlflow server not answering after {seconds} s: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """Kill the server and its worker (their own process group), as a crash would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _mlflow()
    root = tmp_path_factory.mktemp("server")
    port, backend, log = _free_port(), root / "mlflow.db", root / "server.log"
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}  # no job-runner processes: a quicker start
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{backend}",
             "--artifacts-destination", str(root / "artifacts"), "--host", "127.0.0.1", "--port", str(port),
             "--workers", "1"], stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    started = Server(process, f"http://127.0.0.1:{port}", backend, log)
    yield started
    started.kill()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """300 demo products and a config of three quick models (the data's parent: the default store's folder)."""
    root = tmp_path_factory.mktemp("tracked")
    cli.app(["demo-data", str(root / "data"), "--products", "300", "--image-size", "32"], standalone_mode=False)
    (root / "run.toml").write_text(CONFIG)
    (root / "default.toml").write_text(CONFIG + 'tracking = "mlflow"\n')
    (root / "fast.toml").write_text("max_rounds = [10, 40]\n")
    return root


@contextmanager
def _kept_environment() -> Iterator[None]:
    """The MLflow variables a tracker sets (HTTP knobs, the file store's opt-in) are undone after the block."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(autouse=True)
def environment():
    with _kept_environment():
        yield


@pytest.fixture(scope="module")
def tracked_run(server, workspace) -> Path:
    """The workspace's run of three models, tracked by the server, its report written."""
    out = workspace / "run"
    with _kept_environment():
        cli.app(["run", str(workspace / "data"), "--out", str(out), "--config", str(workspace / "run.toml"),
                 "--track", server.wait()], standalone_mode=False)
    return out


def _client(uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def _runs(client, run_folder: Path | None = None) -> tuple[list, dict]:
    """The parent runs of the stackfold experiment (of ``run_folder``, if given), oldest first, and the last one's
    nested runs by name."""
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags and (
        run_folder is None or r.data.tags["stackfold.run_folder"] == str(run_folder.resolve()))]
    nested = {r.info.run_name: r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[-1].info.run_id}
    return parents, nested


def _artifacts(client, run_id: str, path: str | None = None) -> set[str]:
    found = set()
    for item in client.list_artifacts(run_id, path):
        found |= _artifacts(client, run_id, item.path) if item.is_dir else {item.path}
    return found


def _stopped_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "MLflow tracking at" in line]


# --- settings and the pieces, no MLflow run ------------------------------------------------------


@pytest.mark.parametrize(("text", "match"), [
    ('tracking = "nowhere"', r"run.toml: tracking = 'nowhere': give \"mlflow\" .* or a tracking URI"),
    ('tracking = "mlruns/here"', r"tracking = 'mlruns/here': give .*file:///path/mlruns"),
    ("tracking = true", r"tracking must be a string, got True"),
])
def test_a_bad_tracking_setting_is_one_line(tmp_path, text, match):
    (tmp_path / "run.toml").write_text(text + "\n")
    with pytest.raises(ConfigError, match=match) as info:
        load_config(tmp_path / "run.toml")
    assert "\n" not in str(info.value)


def test_a_bad_track_option_names_the_option(tmp_path):
    with pytest.raises(ConfigError, match=r"^--track 'nowhere': give"):
        load_config(None, {"tracking": "nowhere"})
    for good in ("", "mlflow", "http://127.0.0.1:5000", "sqlite:///x/mlflow.db", "file:///x/mlruns"):
        check_setting(good)


def test_tracking_without_mlflow_installed_fails_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    with pytest.raises(ConfigError, match=r"tracking = 'mlflow' needs MLflow: pip install 'stackfold\[mlflow\]'"):
        open_tracker("mlflow", tmp_path / "data")
    assert not open_tracker("", tmp_path).active  # off: no MLflow needed


def test_mlflow_is_imported_only_by_the_tracking_session_inside_its_functions():
    importers = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top_level = set(tree.body)
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "mlflow" or n.startswith("mlflow.") for n in names):
                importers.append((path.relative_to(PACKAGE).as_posix(), node in top_level))
    assert importers and {(file, top) for file, top in importers} == {("tracking/session.py", False)}


def test_records_make_valid_keys_and_log_no_fit_time_for_a_reused_result():
    assert valid_key("lgbm+class_scaling") == "lgbm_class_scaling" and valid_key("plugin:Model") == "plugin_Model"
    scores = pd.DataFrame([{"fold": 0, "wf1": 0.5, "fit_s": 2.0, "predict_s": 1.0},
                           {"fold": 1, "wf1": 0.7, "fit_s": 2.0, "predict_s": 1.0},
                           {"fold": -1, "wf1": float("nan"), "fit_s": 3.0, "predict_s": 0.5}])
    summary = {"wf1_mean": 0.6, "fit_s": 7.0, "predict_s": 2.5}
    fitted, reused = (model_batch(scores, summary, {"C": 1.0}, "k", "stack", r) for r in (False, True))
    assert ("fold_wf1", 0.5, 0) in fitted.metrics and ("fold_wf1", 0.7, 1) in fitted.metrics
    assert ("fit_s", 7.0, 0) in fitted.metrics and not any(k == "fit_s" for k, _, _ in reused.metrics)
    assert not any(k.startswith("fold_fit") or v != v for k, v, _ in fitted.metrics)  # no refit row, no NaN
    assert reused.tags == {"stackfold.key": "k", "stackfold.level": "stack", "stackfold.reused": "true"}


# --- real stores -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_run_logs_to_a_real_server(server, workspace, tracked_run):
    url, out = server.wait(), tracked_run
    client = _client(url)
    (parent,), nested = _runs(client)
    assert parent.info.status == "FINISHED" and parent.data.tags["stackfold.run_folder"] == str(out.resolve())
    params = parent.data.params
    assert params["config.models"] == "prior,complement_nb" and params["config.folds"] == "5"
    assert params["complement_nb.alpha"] == "0.1" and params["config.tracking"] == url
    assert parent.data.metrics["models_fitted"] == 3 and "models_reused" not in parent.data.metrics

    board = pd.read_csv(out / "leaderboard.csv").set_index("model")
    assert set(nested) == set(MODELS) and parent.data.tags["stackfold.best_model"] == board.index[0]
    folder = RunFolder(out)
    for name, level in MODELS.items():
        run, manifest = nested[name], folder.manifest(level, name)
        assert run.info.status == "FINISHED"
        assert run.data.tags["stackfold.key"] == manifest["key"] and run.data.tags["stackfold.reused"] == "false"
        history = client.get_metric_history(run.info.run_id, "fold_wf1")
        assert sorted((m.step, m.value) for m in history) == [(f["fold"], f["wf1"]) for f in manifest["folds"] if f["fold"] >= 0]
        metrics = run.data.metrics
        assert metrics["wf1_mean"] == pytest.approx(manifest["summary"]["wf1_mean"])
        assert metrics["fit_s"] == pytest.approx(manifest["summary"]["fit_s"])
        assert metrics["ci_low"] == pytest.approx(board.loc[name, "ci_low"], abs=1e-4)
        assert metrics["ci_high"] == pytest.approx(board.loc[name, "ci_high"], abs=1e-4)
    assert nested["complement_nb"].data.params["alpha"] == "0.1"

    logged = _artifacts(client, parent.info.run_id)
    assert logged == {"config.toml", "leaderboard.csv", "leaderboard.md", "report/index.html", "submissions/best.csv",
                      "submissions/registry.csv", *(f"submissions/{name}.csv" for name in MODELS)}
    copy = Path(client.download_artifacts(parent.info.run_id, "leaderboard.csv", str(workspace / "download")))
    assert copy.read_bytes() == (out / "leaderboard.csv").read_bytes()
    assert (server.backend.parent / "artifacts").is_dir()  # the server keeps them, nothing beside the data
    assert not (workspace / "mlartifacts").exists()


@pytest.mark.slow
def test_a_rerun_logs_its_results_as_reused_in_the_default_store(server, workspace, tracked_run, run_cli):
    code, _, err = run_cli("run", workspace / "data", "--out", tracked_run, "--config", workspace / "default.toml",
                           "--no-report")
    assert code == 0, err
    uri = f"sqlite:///{workspace / 'mlflow.db'}"  # "mlflow": SQLite beside the data folder
    assert f"MLflow: run 'run' in experiment '{EXPERIMENT}' at {uri}" in err and not _stopped_lines(err)
    client = _client(uri)
    (parent,), nested = _runs(client)
    assert parent.data.metrics["models_reused"] == 3 and "models_fitted" not in parent.data.metrics
    assert {name: run.data.tags["stackfold.reused"] for name, run in nested.items()} == dict.fromkeys(MODELS, "true")
    assert all("fit_s" not in run.data.metrics and "wf1_mean" in run.data.metrics for run in nested.values())
    assert "report/index.html" not in _artifacts(client, parent.info.run_id)  # --no-report: no report of this run
    assert any((workspace / "mlartifacts").rglob("leaderboard.csv"))
    assert len(_runs(_client(server.wait()))[0]) == 1  # the server got nothing of it


@pytest.mark.slow
def test_tune_logs_each_trial_to_a_file_store(workspace, tracked_run, run_cli):
    store = workspace / "mlruns"
    code, _, err = run_cli("tune", tracked_run, "--stacker", "lgbm", "--trials", 3,
                           "--space", workspace / "fast.toml", "--track", store.as_uri())
    assert code == 0, err
    client = _client(store.as_uri())
    (parent,), trials = _runs(client)
    saved = json.loads((tracked_run / "tuning" / "lgbm.json").read_text())
    assert parent.info.run_name == "tune lgbm" and parent.info.status == "FINISHED"
    assert parent.data.metrics["best_weighted_f1"] == pytest.approx(saved["value"])
    assert {k.removeprefix("best."): v for k, v in parent.data.params.items() if k.startswith("best.")} == {
        k: str(v) for k, v in saved["params"].items()}
    assert sorted(trials) == ["trial 0", "trial 1", "trial 2"]
    for run in trials.values():
        assert run.data.tags["stackfold.state"] in ("COMPLETE", "PRUNED") and "max_rounds" in run.data.params
    best = trials[f"trial {saved['best_trial']}"]
    assert best.data.metrics["weighted_f1"] == pytest.approx(saved["value"])
    assert _artifacts(client, parent.info.run_id) == {"tuning/lgbm.json"}


@pytest.mark.slow
def test_a_server_killed_mid_run_never_fails_the_run(server, workspace, run_cli, monkeypatch):
    """Last of the module: it kills the server."""
    url, retries = server.wait(), os.environ.get("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    logged = Tracker.model

    def model_then_kill(self, *args, **kwargs):
        logged(self, *args, **kwargs)
        server.kill()  # after the first model's nested run

    monkeypatch.setattr(Tracker, "model", model_then_kill)
    out = workspace / "killed"
    code, _, err = run_cli("run", workspace / "data", "--out", out, "--config", workspace / "run.toml",
                           "--track", url, "--no-report")
    assert code == 0, err
    assert len(_stopped_lines(err)) == 1 and STOPPED.search(err).group(1) == url, err
    assert "Traceback" not in err and "Retrying" not in err
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == retries  # a dead server costs seconds, not minutes
    folder = RunFolder(out)
    assert folder.config.is_file() and folder.submission("best").is_file()
    assert set(pd.read_csv(folder.leaderboard)["model"]) == set(MODELS)
    assert all(folder.manifest(level, name) for name, level in MODELS.items())

    parents, nested = _runs(_client(f"sqlite:///{server.backend}"), out)  # what the server saved before it died
    assert len(parents) == 1 and parents[0].info.status == "RUNNING" and set(nested) == {"prior"}
