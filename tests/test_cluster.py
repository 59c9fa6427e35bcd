"""Runs on a Dask cluster: the same bytes as a local run, a killed worker, a lost scheduler, blind workers.

Every test here starts Dask worker processes (a ``LocalCluster``); they are marked slow.
"""

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from machine import needs_root
from stackfold import cli
from stackfold.config import load_config, with_scheduler
from stackfold.pipeline import run_pipeline

pytestmark = pytest.mark.slow
STACKFOLD = Path(sys.executable).parent / "stackfold"
CONFIG = ('n_jobs = 1\nmodels = ["prior", "tfidf_logreg", "color_forest"]\nstackers = ["lgbm", "mean"]\n'
          'decisions = []\n[params.color_forest]\nn_estimators = 60\n[params.lgbm]\nmax_rounds = 30\n'
          '[cluster]\npartition_rows = 256\n')
"""Text and image models, a stacker with a refit; colour features in partitions of 256 rows (2 of the 400 training
rows)."""
CLUSTER_SCRIPT = """
import logging, sys, time
from distributed import LocalCluster
if __name__ == "__main__":
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, silence_logs=logging.CRITICAL, dashboard_address=":0")
    print(cluster.scheduler_address, flush=True)
    time.sleep(600)
"""


@pytest.fixture(scope="module")
def twin(tmp_path_factory) -> tuple[Path, Path]:
    """400 synthetic products with small images, and the run configuration."""
    root = tmp_path_factory.mktemp("cluster")
    cli.app(["demo-data", str(root / "data"), "--products", "400", "--image-size", "32"], standalone_mode=False)
    (root / "run.toml").write_text(CONFIG)
    return root / "data", root / "run.toml"


@pytest.fixture(scope="module")
def local_run(twin, tmp_path_factory) -> Path:
    """The reference: the same run without a cluster."""
    out = tmp_path_factory.mktemp("local") / "run"
    run_pipeline(twin[0], out, load_config(twin[1]))
    return out


def outputs(run: Path) -> dict[str, bytes]:
    """Every file a cluster run must reproduce: OOF and test parquets, feature arrays and the text view (both
    computed in partitions on a cluster), best.csv, the leaderboard."""
    files = {p.relative_to(run).as_posix(): p.read_bytes()
             for p in [*run.glob("*/*/*.parquet"), *run.glob("cache/color-*/*.npy"),
                       *run.glob("cache/text-*/*.parquet"), run / "submissions" / "best.csv"]}
    board = pd.read_csv(run / "leaderboard.csv", keep_default_na=False).drop(columns=["fit_s", "predict_s"])
    files["leaderboard"] = board.to_csv(index=False).encode()
    return files


def assert_same_outputs(run: Path, reference: Path) -> None:
    expected, got = outputs(reference), outputs(run)
    assert sorted(got) == sorted(expected) and len(expected) > 10
    assert [name for name in expected if got[name] != expected[name]] == []


def test_a_run_on_a_local_cluster_gives_the_bytes_of_a_local_run(twin, local_run, tmp_path, run_cli):
    code, out, err = run_cli("run", twin[0], "--out", tmp_path / "run", "--config", twin[1], "--no-report",
                             "--scheduler", "local:2")
    assert code == 0, err
    assert "cluster: local:2, 2 workers" in err and "image feature rows, 2 partitions" in err
    assert "view rows, 2 partitions" in err
    assert_same_outputs(tmp_path / "run", local_run)
    # the fitted models came back from the workers: they predict the test set again, best.csv
    code, _, err = run_cli("predict", tmp_path / "run", twin[0], "--out", tmp_path / "again.csv")
    assert code == 0, err
    assert (tmp_path / "again.csv").read_bytes() == (tmp_path / "run" / "submissions" / "best.csv").read_bytes()


def test_a_worker_killed_mid_task_reruns_it_elsewhere_and_the_run_ends_with_the_same_bytes(twin, local_run, tmp_path):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, silence_logs=logging.CRITICAL,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        config = with_scheduler(load_config(twin[1]), cluster.scheduler_address)
        failure: list[BaseException] = []
        runner = threading.Thread(target=lambda: _capture(failure, run_pipeline, twin[0], tmp_path / "run", config))
        runner.start()
        victim = _kill_a_worker_running(client, "color_forest-fold", timeout_s=240)
        runner.join(timeout=600)
    assert victim is not None, "no color_forest fold ever ran"
    assert not runner.is_alive() and failure == []
    assert_same_outputs(tmp_path / "run", local_run)


def _capture(failure: list[BaseException], function, *args) -> None:
    try:
        function(*args)
    except BaseException as e:  # the test thread reports it
        failure.append(e)


def _kill_a_worker_running(client, key_part: str, timeout_s: float) -> int | None:
    """SIGKILL the process of the first worker seen running a task whose key holds ``key_part``; its pid."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for worker, keys in client.processing().items():
            if any(key_part in str(key) for key in keys):
                pid = client.run(os.getpid, workers=[worker])[worker]
                os.kill(pid, signal.SIGKILL)
                return pid
        time.sleep(0.02)
    return None


def test_a_lost_scheduler_is_one_line_and_a_local_rerun_resumes_from_the_finished_folds(twin, local_run, tmp_path,
                                                                                        run_cli):
    script = tmp_path / "cluster.py"
    script.write_text(CLUSTER_SCRIPT)
    cluster = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        address = cluster.stdout.readline().strip()
        out = tmp_path / "run"
        run = subprocess.Popen([str(STACKFOLD), "run", str(twin[0]), "--out", str(out), "--config", str(twin[1]),
                                "--no-report", "--scheduler", address], stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 300
        while not list(out.glob("models/*/checkpoints-*/fold_*.npz")) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        os.killpg(cluster.pid, signal.SIGKILL)
    _, err = run.communicate(timeout=300)
    assert run.returncode == 1 and "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: lost the Dask cluster") and "run the same command again" in last

    code, _, err = run_cli("run", twin[0], "--out", out, "--config", twin[1], "--no-report")  # in this process
    assert code == 0, err
    assert "reused from checkpoint" in err
    assert_same_outputs(out, local_run)


def test_an_unreachable_scheduler_is_one_line(twin, tmp_path, run_cli, monkeypatch):
    monkeypatch.setattr("stackfold.cluster.connect.CONNECT_TIMEOUT_S", 2)
    code, _, err = run_cli("run", twin[0], "--out", tmp_path / "run", "--config", twin[1], "--no-report",
                           "--scheduler", "tcp://127.0.0.1:9")
    assert code == 1 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("error: scheduler 'tcp://127.0.0.1:9': no Dask scheduler answers")


def test_a_worker_that_cannot_see_the_data_is_refused_in_one_line(twin, tmp_path, run_cli):
    needs_root("hiding a folder from one worker (a tmpfs over it)")
    from distributed import LocalCluster

    with LocalCluster(n_workers=0, silence_logs=logging.CRITICAL, dashboard_address=":0") as cluster:
        hidden = twin[0].parent  # a worker in its own mount namespace, with a tmpfs over the data's folder
        worker = subprocess.Popen(["unshare", "--mount", "sh", "-c", f'mount -t tmpfs none "{hidden}" && exec '
                                   f'"{sys.executable}" -m distributed.cli.dask_worker {cluster.scheduler_address} '
                                   "--nthreads 1 --no-dashboard"], stderr=subprocess.DEVNULL)
        try:
            _wait_for_workers(cluster, 1)
            code, _, err = run_cli("run", twin[0], "--out", tmp_path / "run", "--config", twin[1], "--no-report",
                                   "--scheduler", cluster.scheduler_address)
        finally:
            worker.kill()
            worker.wait()
    assert code == 1 and "Traceback" not in err
    assert f"cannot see the data folder {twin[0].resolve()} (1 of 1 workers)" in err


def _wait_for_workers(cluster, n: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while len(cluster.scheduler_info["workers"]) < n:
        assert time.monotonic() < deadline, "the worker never joined"
        time.sleep(0.1)


def test_a_run_without_a_scheduler_never_imports_dask(twin, tmp_path):
    code = (f"import sys\nfrom stackfold.config import load_config\nfrom stackfold.pipeline import run_pipeline\n"
            f"run_pipeline({str(twin[0])!r}, {str(tmp_path / 'run')!r}, "
            f"load_config(None, {{'models': ['prior'], 'stackers': ['mean'], 'images': False}}))\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_sentence_vectors_encoded_in_partitions_equal_a_local_encoding(tmp_path):
    from stackfold.cluster.connect import cluster_client
    from stackfold.cluster.runner import ClusterRunner
    from stackfold.features.image_cache import ResumableArray
    from stackfold.features.sentence import N_FEATURES, SentenceEncoder, encode_texts

    texts = [f"produit numéro {i} pour la maison et le jardin" if i % 3 else f"toy car {i}" for i in range(40)]
    local = encode_texts(texts, SentenceEncoder(1), tmp_path / "local.npy", 8, "local")
    array = ResumableArray(tmp_path / "cluster.npy", (len(texts), N_FEATURES), "float32")
    array.write(0, np.asarray(local[:8]))  # a resumed extraction: the first batch is done already
    with cluster_client("local:2") as client:
        ClusterRunner(client, n_jobs=1, partition_rows=16).sentence_rows(texts, array, batch_size=8)
    assert np.array_equal(array.result(), local)


def test_a_scheduler_lost_while_sending_inputs_is_one_line():
    from stackfold.cluster.runner import ClusterRunner
    from stackfold.errors import ClusterError

    class SchedulerGone:
        def scatter(self, *args, **kwargs):
            raise OSError("in <TCP (closed) ConnectionPool.scatter local=tcp://127.0.0.1:1 remote=tcp://127.0.0.1:2>")

    with pytest.raises(ClusterError, match=r"^lost the Dask cluster while sending the image table \(OSError: .*\); "
                                           "run the same command again: finished folds are kept"):
        ClusterRunner(SchedulerGone(), n_jobs=1, partition_rows=256).image_rows([], None, None, "error", heavy=False)
