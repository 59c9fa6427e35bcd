"""The Python API (`stackfold.run`, `open_run`, `demo_data`, `tune_stacker`, `explain_stacker`, `compare`, the
errors) and the quickstart notebook, run by a real kernel."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

import stackfold
from stackfold.competition.challenges import rakuten
from stackfold.errors import RunFolderError

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"


def test_the_public_names_are_pinned_and_each_shows_an_example():
    errors = ["ClusterError", "ConfigError", "DataError", "RunFolderError", "RunFolderLockedError",
              "RunFolderMismatchError", "StackfoldError", "SubmissionError"]
    functions = ["check_shift", "compare", "demo_data", "explain_stacker", "open_run", "run", "tune_stacker"]
    assert stackfold.__all__ == sorted(["Run", "__version__", *errors, *functions])
    for name in functions:
        assert ">>> " in getattr(stackfold, name).__doc__, name
    for method in [m for m in vars(stackfold.Run) if not m.startswith("_")]:
        assert ">>> " in getattr(stackfold.Run, method).__doc__, method


def test_every_user_error_is_exported_under_the_package_root():
    for name in stackfold.__all__:
        if name.endswith("Error"):
            assert issubclass(getattr(stackfold, name), stackfold.StackfoldError)
            assert getattr(stackfold, name) is getattr(stackfold.errors, name)
    assert stackfold.RunFolderError is RunFolderError
    with pytest.raises(stackfold.StackfoldError):
        stackfold.open_run("no/such/run")


def test_the_api_functions_refuse_bad_arguments_before_any_work(tmp_path):
    with pytest.raises(stackfold.ConfigError, match="pass scheduler="):
        stackfold.tune_stacker(tmp_path, "lgbm", workers=2)
    with pytest.raises(stackfold.ConfigError, match="at least two run folders, got 1"):
        stackfold.compare([tmp_path])
    assert list(tmp_path.iterdir()) == []


def test_import_stackfold_loads_no_heavy_library():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, stackfold; print(sorted({'tensorflow', 'sklearn', 'pandas', 'optuna', 'matplotlib'} & set(sys.modules)))"],
        capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


@pytest.mark.slow
def test_run_returns_a_run_whose_results_and_predictions_are_the_clis(tmp_path):
    data = stackfold.demo_data(tmp_path / "data", products=200, seed=1)
    run = stackfold.run(data, tmp_path / "run", images=False, models=["prior", "tfidf_logreg"], stackers=["mean"],
                        decisions=[], report=False)
    assert run.summary.best_model == run.leaderboard()["model"].iloc[0]
    assert set(run.leaderboard()["model"]) == {"prior", "tfidf_logreg", "mean"}
    oof = run.oof("tfidf_logreg")
    train = pd.read_csv(data / "X_train_update.csv", index_col=0)
    assert list(oof.columns) == list(rakuten().classes) and oof.index.equals(train.index)
    assert np.allclose(oof.sum(axis=1), 1.0)
    assert run.test_proba("mean").shape[1] == len(rakuten().classes)

    again = stackfold.open_run(tmp_path / "run")
    again.predict(data).write(tmp_path / "sub.csv")
    assert (tmp_path / "sub.csv").read_bytes() == (tmp_path / "run" / "submissions" / "best.csv").read_bytes()
    assert again.report() == tmp_path / "run" / "report" / "index.html" and again.report().is_file()
    with pytest.raises(RunFolderError, match="no row 'nope'; choose one of"):
        again.oof("nope")


def test_open_run_on_a_folder_without_a_finished_run_is_one_line(tmp_path):
    with pytest.raises(RunFolderError, match=r"no finished run \(config.toml\) in .*; run `stackfold run DATA"):
        stackfold.open_run(tmp_path)


def test_the_notebook_is_committed_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    cells = [c for c in notebook.cells if c.cell_type == "code"]
    assert cells and all(c.outputs == [] and c.execution_count is None for c in cells)


@pytest.mark.slow
def test_the_quickstart_notebook_runs_in_a_jupyter_kernel(default_twin_run, tmp_path, monkeypatch):
    """Every cell, unchanged, on the twin of the default run (tests/conftest.py), starting from a copy of that run:
    the notebook's text-only run reuses its text models (trained and checked there) and trains its own stackers."""
    from nbclient import NotebookClient

    shutil.copytree(default_twin_run.run, tmp_path / "run")
    monkeypatch.setenv("STACKFOLD_SAMPLE", str(default_twin_run.data))
    monkeypatch.setenv("STACKFOLD_QUICKSTART_OUT", str(tmp_path / "run"))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": tmp_path}}).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    printed = re.sub(r"\x1b\[[0-9;]*m", "", "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "")
                                                     for o in outputs))  # rich prints display data in a kernel
    assert "text_nn: unchanged" in printed and "sentence_nn: unchanged" in printed  # else it trains them again
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the leaderboard's plot
    assert (tmp_path / "run" / "quickstart-submission.csv").is_file()
