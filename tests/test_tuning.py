"""`stackfold tune`: search spaces, the CV objective, resuming a killed study, parallel workers on PostgreSQL."""

import json
import multiprocessing
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState
from sqlalchemy.exc import SQLAlchemyError
from postgres import postgres_url  # noqa: F401  (fixture)

from stackfold import cli, studies
from stackfold.competition.metric import weighted_f1
from stackfold.config import load_config
from stackfold.ensembles import STACKERS, LGBMStacker
from stackfold.ensembles.objective import make_objective
from stackfold.ensembles.search_space import SPACES, Choice, Range, read_space, search_space
from stackfold.errors import ConfigError
from stackfold.run_folder import RunFolder
from stackfold.studies import driver_url, open_storage, open_study
from stackfold.tune import load_stack_data

STACKFOLD = Path(sys.executable).parent / "stackfold"
FAST_SPACE = "max_rounds = [10, 40]\n"
SLOW_SPACE = "max_rounds = {choices = [300]}\nearly_stopping_rounds = {choices = [300]}\n"


@dataclass(frozen=True)
class Workspace:
    data: Path
    config: Path
    run: Path


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Workspace:
    """A finished run on 300 demo products with three fast base models (made once per module)."""
    root = tmp_path_factory.mktemp("tuning")
    ws = Workspace(root / "data", root / "run.toml", root / "run")
    # one thread: LightGBM's OpenMP threads crawl when a busy machine deschedules one of them
    ws.config.write_text('images = false\nn_jobs = 1\nmodels = ["prior", "complement_nb", "logreg"]\n'
                         'stackers = ["lgbm"]\nmeta_features = ["confidence"]\n')
    cli.app(["demo-data", str(ws.data), "--products", "300", "--image-size", "32"], standalone_mode=False)
    cli.app(["run", str(ws.data), "--out", str(ws.run), "--config", str(ws.config)], standalone_mode=False)
    return ws


@pytest.fixture
def run_copy(finished_run: Workspace, tmp_path: Path) -> Path:
    """A private copy of the finished run, so each test starts without a study."""
    target = tmp_path / "run"
    shutil.copytree(finished_run.run, target)
    return target


def _space_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "space.toml"
    path.write_text(text)
    return path


def _sqlite(run: Path) -> str:
    return f"sqlite:///{(run / 'tuning' / 'lgbm.db').resolve()}"


def _finished(study: optuna.Study) -> dict[int, float | None]:
    return {t.number: t.value for t in study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))}


# --- search spaces --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SPACES))
def test_builtin_spaces_name_parameters_of_their_stacker(name):
    """Every built-in space belongs to a registered stacker (a renamed one fails here) and fits its parameters."""
    assert name in STACKERS, f"search space {name!r} names no stacker; stackers: {sorted(STACKERS)}"
    parameters = STACKERS[name].parameters
    for param, dim in SPACES[name].items():
        assert param in parameters
        if isinstance(dim, Range) and parameters[param].type is int:
            assert isinstance(dim.low, int) and isinstance(dim.high, int), param
        ends = dim.values if isinstance(dim, Choice) else (dim.low, dim.high)
        assert all(parameters[param].problem(v) is None for v in ends), param


def test_space_file_overrides_and_adds_dimensions(tmp_path):
    path = _space_file(tmp_path, 'max_rounds = [10, 40]\nlambda_l2 = [0.5, 8.0, "log"]\n'
                                 'bagging_fraction = {choices = [0.6, 1.0]}\n')
    space = search_space(LGBMStacker, path)
    assert space["max_rounds"] == Range(10, 40)
    assert space["lambda_l2"] == Range(0.5, 8.0, log=True)
    assert space["bagging_fraction"] == Choice((0.6, 1.0))
    assert space["max_bin"] == SPACES["lgbm"]["max_bin"]


@pytest.mark.parametrize(("text", "match"), [
    ("depth = [2, 8]\n", r"'depth' is not a parameter of stacker 'lgbm'; known: learning_rate"),
    ("lambda_l2 = [5.0, 1.0]\n", r"lambda_l2 = \[5.0, 1.0\]: need low < high"),
    ('lambda_l2 = [0.0, 1.0, "log"]\n', r"need low < high and low > 0 for log"),
    ('lambda_l2 = [0.1, 1.0, "exp"]\n', r'the third item may only be "log"'),
    ("max_rounds = [10.5, 40]\n", r"max_rounds = \[10.5, 40\]: expected .* of integers"),
    ("max_bin = {choices = []}\n", r"max_bin = .*: expected \[low, high\]"),
    ("feature_fraction = 0.5\n", r"feature_fraction = 0.5: expected"),
    ("feature_fraction = [0.5, 1.5]\n", r"feature_fraction = \[0.5, 1.5\]: 1.5 must be at most 1"),
    ("max_bin = {choices = [1, 15]}\n", r"max_bin = .*: 1 must be at least 2"),
    ("learning_rate = [0.01, 0.1\n", r"not valid TOML"),
])
def test_bad_space_file_is_one_line_naming_file_and_key(tmp_path, text, match):
    path = _space_file(tmp_path, text)
    with pytest.raises(ConfigError, match=match) as info:
        read_space(path, LGBMStacker)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


# --- the command ----------------------------------------------------------------------------------


def test_tune_saves_best_params_and_a_rerun_adds_only_missing_trials(run_copy, tmp_path, run_cli):
    space = _space_file(tmp_path, FAST_SPACE)
    code, out, err = run_cli("tune", run_copy, "--stacker", "lgbm", "--trials", 3, "--space", space)
    assert code == 0, err
    saved = json.loads((run_copy / "tuning" / "lgbm.json").read_text())
    study = optuna.load_study(study_name="lgbm", storage=_sqlite(run_copy))
    assert saved["params"] == study.best_trial.params and saved["value"] == study.best_value
    assert saved["trials"] == 3 and saved["storage"] == _sqlite(run_copy) and saved["study"] == "lgbm"
    assert 0 < saved["default_value"] <= 1 and "CV weighted_f1" in out
    assert RunFolder(run_copy).tuned_params("lgbm") == saved["params"]
    LGBMStacker(classes=[0], **saved["params"])  # the next run accepts them

    code, _, err = run_cli("tune", run_copy, "--stacker", "lgbm", "--trials", 5, "--space", space)
    assert code == 0, err
    assert "continuing with 3 of 5" in err
    assert len(_finished(optuna.load_study(study_name="lgbm", storage=_sqlite(run_copy)))) == 5


@pytest.mark.parametrize(("args", "match"), [
    (["--stacker", "gbm"], r"unknown stacker 'gbm'"),
    (["--stacker", "lgbm", "--storage", "not a url"], r"--storage 'not a url': not a database URL"),
    (["--stacker", "lgbm", "--storage", "mysql://u@127.0.0.1:1/db"],
     r"--storage mysql://u@127.0.0.1:1/db: no database driver"),
    (["--stacker", "lgbm", "--storage", "postgresql+nodriver://u@h/db"],
     r"--storage postgresql\+nodriver://u@h/db: Can't load plugin"),
    (["--stacker", "lgbm", "--storage", "postgresql://u:secret@127.0.0.1:1/db"],
     r"--storage postgresql://u:\*\*\*@127.0.0.1:1/db: cannot open the database \(.*refused"),
])
def test_tune_user_errors_are_one_line(run_copy, run_cli, args, match):
    code, _, err = run_cli("tune", run_copy, *args)
    assert code == 1 and err.count("\n") == 1
    assert re.search(match, err), err


def test_tune_needs_a_finished_run(tmp_path, run_cli):
    code, _, err = run_cli("tune", tmp_path, "--stacker", "lgbm")
    assert code == 1 and "no run configuration" in err and "stackfold run DATA --out" in err


def test_tune_refuses_a_study_of_other_inputs(run_copy, tmp_path, run_cli):
    study = open_study(open_storage(f"sqlite:///{RunFolder(run_copy).study_storage('lgbm').resolve()}"), "lgbm", 0)
    study.set_user_attr("inputs", "other")
    code, _, err = run_cli("tune", run_copy, "--stacker", "lgbm", "--trials", 1)
    assert code == 1 and "other stacker inputs" in err and "--study NEW_NAME" in err


# --- objective ------------------------------------------------------------------------------------


def test_tuning_on_shuffled_labels_stays_at_chance(finished_run, tmp_path):
    """Chance is the better of predicting the majority class and guessing from the class prior (sum of p^2).

    The prior guess matters: a barely regularised stacker fitted on noise predicts varied classes,
    which scores ~sum p^2 without any leak, above the majority class's score.
    """
    run = RunFolder(finished_run.run)
    data = load_stack_data(run, load_config(run.config))
    shuffled = replace(data, y=np.random.default_rng(0).permutation(data.y))
    labels, counts = np.unique(shuffled.y, return_counts=True)
    majority = weighted_f1(shuffled.y, np.full_like(shuffled.y, labels[np.argmax(counts)]))
    chance = max(majority, float(np.sum((counts / counts.sum()) ** 2)))

    study = open_study(None, "shuffled", seed=0)
    space = search_space(LGBMStacker, _space_file(tmp_path, FAST_SPACE))
    study.optimize(make_objective(LGBMStacker, space, shuffled), n_trials=6)
    assert study.best_value <= chance + 0.02

    # the bound would catch a leak: the best trial's stacker fitted on every row it is scored on, boosting all its
    # rounds (with an inner split, shuffled labels stop it at the first round: it would predict the majority class)
    rounds = {"inner_valid_fraction": 0.0, "rounds_without_validation": study.best_params["max_rounds"]}
    leaky = LGBMStacker(data.classes, n_jobs=1, **{**study.best_params, **rounds})
    assert weighted_f1(shuffled.y, leaky.fit(shuffled.X, shuffled.y).predict(shuffled.X)) > chance + 0.02


# --- interruption and parallel workers ------------------------------------------------------------


@pytest.mark.slow
def test_killed_tune_resumes_without_losing_finished_trials(run_copy, tmp_path, run_cli, monkeypatch):
    space = _space_file(tmp_path, SLOW_SPACE)
    args = ["tune", str(run_copy), "--stacker", "lgbm", "--trials", "6", "--space", str(space)]
    worker = subprocess.Popen([STACKFOLD, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_finished(run_copy, worker, at_least=2)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    study = optuna.load_study(study_name="lgbm", storage=_sqlite(run_copy))
    before = _finished(study)
    assert 2 <= len(before) < 6, "the worker finished before it was killed; slow the trials down"

    monkeypatch.setattr(studies, "HEARTBEAT_S", 1)
    monkeypatch.setattr(studies, "GRACE_S", 3)  # the killed worker's trial is stale after 3 s
    code, _, err = run_cli(*args)
    assert code == 0, err
    after = _finished(optuna.load_study(study_name="lgbm", storage=_sqlite(run_copy)))
    assert len(after) == 6 and before.items() <= after.items()
    states = {t.state for t in optuna.load_study(study_name="lgbm", storage=_sqlite(run_copy)).trials}
    assert TrialState.RUNNING not in states
    assert json.loads((run_copy / "tuning" / "lgbm.json").read_text())["trials"] == 6


def _wait_for_finished(run: Path, worker: subprocess.Popen, at_least: int, limit_s: float = 120) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        assert worker.poll() is None, worker.stderr.read().decode()
        try:
            if len(_finished(optuna.load_study(study_name="lgbm", storage=_sqlite(run)))) >= at_least:
                return
        except (KeyError, SQLAlchemyError):  # database or study not being created yet
            pass
        time.sleep(0.2)
    pytest.fail(f"no {at_least} finished trials within {limit_s} s")


@pytest.mark.slow
def test_two_workers_on_postgres_share_one_study(run_copy, tmp_path, postgres_url):  # noqa: F811
    space = _space_file(tmp_path, FAST_SPACE)
    command = [STACKFOLD, "tune", run_copy, "--stacker", "lgbm", "--trials", "8", "--storage", postgres_url,
               "--space", space]
    workers = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [w.communicate(timeout=300) for w in workers]
    for worker, (_, err) in zip(workers, outputs):
        assert worker.returncode == 0, err

    study = optuna.load_study(study_name="lgbm", storage=driver_url(postgres_url))
    finished = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert sorted(t.number for t in finished) == list(range(8))
    assert len({json.dumps(t.params, sort_keys=True) for t in finished}) == 8
    others = [t for t in study.trials if t.number >= 8]
    assert all(t.state == TrialState.FAIL and t.user_attrs.get("surplus") for t in others)
    saved = json.loads((run_copy / "tuning" / "lgbm.json").read_text())
    assert saved["params"] == study.best_trial.params and saved["trials"] == 8
    assert saved["storage"] == postgres_url


@pytest.mark.slow
def test_tuning_workers_on_a_dask_cluster_fill_one_postgres_study(run_copy, tmp_path, postgres_url,  # noqa: F811
                                                                    run_cli):
    """`--workers 2 --scheduler local:2`: two Optuna workers as Dask tasks (worker processes of a cluster started by
    the command, here run in this process); no trial lost or counted twice."""
    space = _space_file(tmp_path, FAST_SPACE)
    code, _, err = run_cli("tune", run_copy, "--stacker", "lgbm", "--trials", "8", "--storage", postgres_url,
                           "--space", space, "--workers", "2", "--scheduler", "local:2")
    assert code == 0, err
    assert "cluster: 2 tuning workers on local:2" in err
    study = optuna.load_study(study_name="lgbm", storage=driver_url(postgres_url))
    finished = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert sorted(t.number for t in finished) == list(range(8))
    assert all(t.state == TrialState.FAIL and t.user_attrs.get("surplus") for t in study.trials if t.number >= 8)
    saved = json.loads((run_copy / "tuning" / "lgbm.json").read_text())
    assert saved["params"] == study.best_trial.params and saved["trials"] == 8


@pytest.mark.parametrize(("args", "message"), [
    (["--workers", "2"], "several workers run on a cluster: add --scheduler"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:9"], "share the study through PostgreSQL"),
])
def test_tuning_workers_need_a_cluster_and_a_shared_study(run_copy, run_cli, args, message):
    code, _, err = run_cli("tune", run_copy, "--stacker", "lgbm", "--trials", "2", *args)
    assert code in (1, 2) and message in re.sub(r"[\s│╭╮╰╯─]+", " ", err) and "Traceback" not in err


def test_a_trial_left_running_before_its_first_heartbeat_is_failed_once_unclaimed_too_long(tmp_path, monkeypatch):
    """A worker killed between creating a trial and its first heartbeat: no heartbeat check finds it stale."""
    study = open_study(open_storage(f"sqlite:///{tmp_path / 'study.db'}"), "lgbm", 0)
    dead = study.ask()  # created, never claimed, no heartbeat: its worker died here
    live = study.ask()
    live.set_user_attr("claimed", True)
    monkeypatch.setattr(studies, "GRACE_S", 0)
    time.sleep(0.01)
    studies.fail_unclaimed_trials(study, before=5)
    states = {t.number: t.state for t in study.trials}
    assert states == {dead.number: TrialState.FAIL, live.number: TrialState.RUNNING}


RACERS = 4


def _open_after_every_check(url: str, barrier, attempts, slot: int) -> None:
    """Open the storage at ``url``, counting attempts in ``attempts[slot]``; the first attempt's CREATE TABLE waits
    until every racer has found the tables missing (SQLAlchemy's ``before_create`` event: after the check, before
    the first CREATE), so all race to create them."""
    from optuna.storages._rdb import models
    from sqlalchemy import event

    def hold(*_args, **_kwargs) -> None:
        if attempts[slot] == 1:
            barrier.wait(timeout=60)

    def counted(*args, **kwargs):
        attempts[slot] += 1
        return storage_class(*args, **kwargs)

    event.listen(models.BaseModel.metadata, "before_create", hold)
    storage_class, studies.RDBStorage = studies.RDBStorage, counted  # a forked process: its own module
    open_storage(url)


def test_workers_racing_to_create_a_sqlite_study_all_open_it(tmp_path):
    """SQLite reports the lost ``CREATE TABLE`` race as an operational "already exists": retried, not fatal."""
    context = multiprocessing.get_context("fork")
    url = f"sqlite:///{tmp_path / 'study.db'}"
    barrier, attempts = context.Barrier(RACERS), context.Array("i", RACERS)
    racers = [context.Process(target=_open_after_every_check, args=(url, barrier, attempts, slot))
              for slot in range(RACERS)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(120)
        if racer.is_alive():
            racer.kill()
    assert [racer.exitcode for racer in racers] == [0] * RACERS
    # all found the tables missing, so at most one created the first: the others lost the race and opened it again
    assert sum(n > 1 for n in attempts) >= RACERS - 1, list(attempts)
    assert optuna.get_all_study_summaries(url) == []
