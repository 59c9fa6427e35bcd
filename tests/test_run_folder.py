"""A run folder that survives anything: one writer at a time, one origin, config.toml only on success,
the submitted row explicit, and every submission kept."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from machine import needs_root, unavailable
from stackfold import cli
from stackfold.errors import RunFolderLockedError
from stackfold.locking import folder_lock
from stackfold.run_folder import RunFolder

FAST = ("--no-images", "--models", "prior,tfidf_logreg", "--stackers", "mean", "--no-report")


@pytest.fixture(scope="module")
def made_run(rakuten_sample, tmp_path_factory) -> Path:
    """`stackfold run` of the real sample with FAST, made once: tests change copies of it."""
    out = tmp_path_factory.mktemp("made") / "run"
    cli.app(["run", str(rakuten_sample), "--out", str(out), *FAST], standalone_mode=False)
    return out


@pytest.fixture
def finished_run(made_run, tmp_path) -> Path:
    """A private copy of the finished run: the same files (times included) as a run made in this folder."""
    shutil.copytree(made_run, tmp_path / "run")
    return tmp_path / "run"


def test_the_submitted_row_is_the_top_row_of_all_rows_and_is_marked(finished_run, rakuten_sample, tmp_path, run_cli):
    board = pd.read_csv(finished_run / "leaderboard.csv", keep_default_na=False)
    assert board["submitted"].tolist() == [True] + [False] * (len(board) - 1)
    top = board.iloc[0]
    assert top["model"] == "tfidf_logreg" and top["level"] == "base"  # a base model beats the mean stack here
    registry = pd.read_csv(finished_run / "submissions" / "registry.csv", keep_default_na=False)
    assert registry["model"].tolist() == ["tfidf_logreg"]
    code, out, _ = run_cli("run", rakuten_sample, "--out", finished_run, *FAST)
    assert code == 0 and f"submitted: tfidf_logreg, the highest CV weighted_f1 ({top['wf1_mean']:.4f}) of 3 rows" in out


def test_every_distinct_submission_is_kept_and_registered(finished_run, rakuten_sample, run_cli):
    history = finished_run / "submissions" / "history"
    first = sorted(history.iterdir())
    assert len(first) == 1 and first[0].read_bytes() == (finished_run / "submissions" / "best.csv").read_bytes()
    assert run_cli("run", rakuten_sample, "--out", finished_run, *FAST)[0] == 0  # nothing changed: nothing added
    assert sorted(history.iterdir()) == first
    assert run_cli("run", rakuten_sample, "--out", finished_run, "--no-images", "--models", "prior",
                   "--stackers", "mean")[0] == 0
    kept = sorted(history.iterdir())
    assert len(kept) == 2 and first[0] in kept
    registry = pd.read_csv(finished_run / "submissions" / "registry.csv", keep_default_na=False)
    assert registry["history"].tolist() == [first[0].name, (set(kept) - set(first)).pop().name]
    assert registry["config_key"].nunique() == 2 and registry["data_key"].nunique() == 1
    latest = history / registry["history"].iloc[-1]
    assert latest.read_bytes() == (finished_run / "submissions" / "best.csv").read_bytes()


def test_other_folds_or_data_are_refused_then_force_starts_over(finished_run, rakuten_sample, sample_copy, run_cli):
    code, _, err = run_cli("run", rakuten_sample, "--out", finished_run, *FAST, "--folds", "3")
    assert code == 1 and "folds 5 -> 3" in err and "--force" in err and "Traceback" not in err
    test = pd.read_csv(sample_copy / "X_test_update.csv", index_col=0)
    test.iloc[0, 0] = f"{test.iloc[0, 0]} (autre)"
    test.to_csv(sample_copy / "X_test_update.csv")
    code, _, err = run_cli("run", sample_copy, "--out", finished_run, *FAST)
    assert code == 1 and "data '" in err and str(sample_copy) in err
    before = (finished_run / "models" / "tfidf_logreg" / "manifest.json").read_text()
    assert json.loads((finished_run / "origin.json").read_text())["folds"] == 5
    code, _, err = run_cli("run", rakuten_sample, "--out", finished_run, *FAST, "--folds", "3", "--force")
    assert code == 0, err
    assert json.loads((finished_run / "origin.json").read_text())["folds"] == 3
    assert (finished_run / "models" / "tfidf_logreg" / "manifest.json").read_text() != before
    assert len(list((finished_run / "submissions" / "history").iterdir())) == 2  # the history survives --force


def test_config_toml_is_written_only_when_the_run_succeeds(finished_run, rakuten_sample, tmp_path, run_cli):
    finished = (finished_run / "config.toml").read_text()
    config = tmp_path / "bad.toml"
    config.write_text('images = false\nmodels = ["sentence_logreg"]\nstackers = ["mean"]\n'
                      '[features.text]\ntoken_pattern = "[unclosed"\n')
    code, _, err = run_cli("run", rakuten_sample, "--out", finished_run, "--config", config, "--models", "logreg")
    assert code == 1 and "[features.text] token_pattern = '[unclosed'" in err  # the section name is not eaten
    assert (finished_run / "config.toml").read_text() == finished
    assert "token_pattern" in (finished_run / "config.running.toml").read_text()


def test_a_second_writer_is_refused_naming_the_holder(finished_run, rakuten_sample, run_cli):
    with folder_lock(RunFolder(finished_run).lock, "run"):
        code, _, err = run_cli("run", rakuten_sample, "--out", finished_run, *FAST)
        assert code == 1 and f"pid {os.getpid()}" in err and "stackfold run" in err
        code, _, err = run_cli("tune", finished_run, "--stacker", "lgbm", "--trials", "1")
        assert code == 1 and "is in use by" in err
    with folder_lock(RunFolder(finished_run).lock, "tune", shared=True):
        with folder_lock(RunFolder(finished_run).lock, "tune", shared=True):  # tune workers share the folder
            with pytest.raises(RunFolderLockedError, match="stackfold tune"):
                with folder_lock(RunFolder(finished_run).lock, "run"):
                    pass


def test_the_lock_of_a_killed_process_is_taken_over(finished_run, rakuten_sample, run_cli):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from stackfold.locking import folder_lock\n"
        f"with folder_lock(Path({str(finished_run / '.lock')!r}), 'run'):\n"
        "    print('held', flush=True); time.sleep(600)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert run_cli("run", rakuten_sample, "--out", finished_run, *FAST)[0] == 1
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    time.sleep(0.1)
    code, _, err = run_cli("run", rakuten_sample, "--out", finished_run, *FAST)
    assert code == 0, err


@pytest.mark.parametrize("make_out, match", [
    (lambda tmp: (tmp / "a_file").touch() or tmp / "a_file", r"a_file: a file, not a run folder"),
    (lambda tmp: (tmp / "f").touch() or tmp / "f" / "run", r"Not a directory: .*f.*a file stands where a folder"),
    (lambda tmp: tmp / "runs[v2]" / "exp[b]", None),
])
def test_out_paths_give_one_line_or_work_verbatim(make_out, match, rakuten_sample, tmp_path, run_cli):
    out = make_out(tmp_path)
    code, stdout, err = run_cli("run", rakuten_sample, "--out", out, *FAST)
    if match is None:
        assert code == 0 and f"-> {out / 'submissions' / 'best.csv'}" in stdout.replace("\n", "")
    else:
        assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert re.search(match, err), err


def test_check_data_prints_bracketed_paths_verbatim(tmp_path, run_cli):
    code, _, err = run_cli("check-data", tmp_path / "runs[v2]")
    assert code == 1 and "runs[v2]" in err


def test_check_data_on_a_cdiscount_folder_with_any_bson(cdiscount_sample, run_cli):
    code, out, err = run_cli("check-data", cdiscount_sample)
    assert code == 0, err
    assert "train_example.bson" in out and "products" in out


@pytest.mark.slow
def test_a_decision_rule_that_changes_nothing_says_so(rakuten_sample, tmp_path, run_cli):
    config = tmp_path / "run.toml"
    config.write_text('images = false\nmodels = ["prior"]\nstackers = ["mean"]\ndecisions = ["class_scaling"]\n'
                      'decide_on = "mean"\n')
    code, _, err = run_cli("run", rakuten_sample, "--out", tmp_path / "run", "--config", config)
    assert code == 0 and "mean+class_scaling: changes no OOF prediction of mean" in err


@pytest.fixture
def read_only_run(made_run, tmp_path):
    """A finished run on its own tmpfs, remounted read-only (root only; required under CI)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    needs_root("mounting a tmpfs")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "stackfold-ro", disk], capture_output=True)
    if mounted.returncode != 0:
        unavailable(f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}")
    try:
        shutil.copytree(made_run, disk / "run")
        subprocess.run(["mount", "-o", "remount,ro", disk], check=True)
        yield disk / "run"
    finally:
        subprocess.run(["umount", "--lazy", disk], check=True)


@pytest.mark.parametrize("command", [("tune", "--stacker", "lgbm", "--trials", "2"), ("run", *FAST)])
def test_a_read_only_run_folder_is_one_line(command, read_only_run, rakuten_sample, run_cli):
    args = (command[0], read_only_run, *command[1:]) if command[0] == "tune" else \
        (command[0], rakuten_sample, "--out", read_only_run, *command[1:])
    code, _, err = run_cli(*args)
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "Read-only file system" in err and "choose another folder" in err
