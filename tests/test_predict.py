"""`stackfold predict` and the saved fitted models: the run's own test set again byte for byte, new rows as a run
that had them, one-line errors, and saved models that never run code of their own."""

import json
import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from machine import needs_root, unavailable
from stackfold.competition.challenges import rakuten
from stackfold.errors import RunFolderError
from stackfold.model_files import FORMAT, FORMAT_FILE, MODEL_FILE, load_model
from stackfold.run_folder import Level, RunFolder

FAST_TEXT = ('images = false\nmodels = ["tfidf_logreg", "logreg", "complement_nb"]\nstackers = ["mean", "lgbm"]\n'
             'decisions = []\n')


def _saved_test(run: Path, row: str, level: str) -> np.ndarray:
    return pd.read_parquet(RunFolder(run).model_dir(Level(level), row) / "test.parquet").to_numpy()


@pytest.mark.slow
def test_predict_gives_the_runs_own_test_set_back_byte_for_byte(text_run, rakuten_sample, run_cli, tmp_path):
    """best.csv again, and every leaderboard row's test probabilities exactly: base models' fold averages,
    stackers over meta-features, a decision rule over its stacker."""
    code, out, err = run_cli("predict", text_run, rakuten_sample, "--out", tmp_path / "sub.csv",
                             "--proba", tmp_path / "proba.parquet")
    assert code == 0, err
    assert (tmp_path / "sub.csv").read_bytes() == (text_run / "submissions" / "best.csv").read_bytes()
    board = pd.read_csv(text_run / "leaderboard.csv", keep_default_na=False)
    submitted = board.loc[board["submitted"], "model"].iloc[0]
    assert f"{submitted} predicted 499 products" in out
    proba = pd.read_parquet(tmp_path / "proba.parquet")
    assert list(proba.columns) == [str(c) for c in rakuten().classes] and len(proba) == 499
    assert np.array_equal(proba.to_numpy(), _saved_test(text_run, submitted, board["level"].iloc[0]))

    import stackfold

    run = stackfold.open_run(text_run)
    for row, level in zip(board["model"], board["level"]):
        prediction = run.predict(rakuten_sample, row=row)
        assert np.array_equal(prediction.proba, _saved_test(text_run, row, level)), row


def _split_test(sample: Path, folder: Path, rows: slice) -> Path:
    """A copy of the sample whose test file holds only ``rows`` of its test products."""
    folder.mkdir()
    for name in ("X_train_update.csv", "Y_train_CVw08PX.csv"):
        shutil.copy(sample / name, folder / name)
    test = pd.read_csv(sample / "X_test_update.csv", index_col=0, dtype=str, keep_default_na=False)
    test.iloc[rows].to_csv(folder / "X_test_update.csv")
    return folder


@pytest.mark.slow
def test_new_rows_are_predicted_as_a_run_that_had_them_as_its_test_set(rakuten_sample, tmp_path, run_cli):
    config = tmp_path / "run.toml"
    config.write_text(FAST_TEXT)
    first = _split_test(rakuten_sample, tmp_path / "first", slice(0, 250))
    second = _split_test(rakuten_sample, tmp_path / "second", slice(250, None))
    for data, out in ((first, "run_first"), (second, "run_second")):
        assert run_cli("run", data, "--out", tmp_path / out, "--config", config, "--no-report")[0] == 0

    import stackfold

    run = stackfold.open_run(tmp_path / "run_first")
    for row, level in zip(run.leaderboard()["model"], run.leaderboard()["level"]):
        new = run.predict(second, row=row).proba
        # the vocabularies differ (each run counts its own test texts), the fold models do not: only float
        # sums stored in another order differ
        assert np.allclose(new, _saved_test(tmp_path / "run_second", row, level), rtol=0, atol=1e-6), row
    code, _, err = run_cli("predict", tmp_path / "run_first", second, "--out", tmp_path / "second.csv")
    assert code == 0, err
    assert (tmp_path / "second.csv").read_bytes() == (tmp_path / "run_second" / "submissions" / "best.csv").read_bytes()

    frame = pd.read_csv(second / "X_test_update.csv", index_col=0)  # the API takes a frame too
    labels = run.predict(frame).labels
    assert labels.index.equals(frame.index)
    assert labels.equals(pd.read_csv(tmp_path / "second.csv", index_col=0)["prdtypecode"].rename(labels.name))


def _drop_column(data: Path) -> None:
    test = pd.read_csv(data / "X_test_update.csv", index_col=0)
    test.drop(columns="designation").to_csv(data / "X_test_update.csv")


def _set(run: Path, file: str, key: str, value) -> None:
    path = run / file
    payload = json.loads(path.read_text())
    payload[key] = value
    path.write_text(json.dumps(payload))


def _fitted(run: Path, name: str = "logreg", level: str = "models") -> Path:
    return next((run / level / name).glob("fitted-*"))


BROKEN = {
    "missing column": (lambda run, data: _drop_column(data), r"X_test_update.csv.*designation"),
    "images the run needs": (
        lambda run, data: (run / "config.toml").write_text((run / "config.toml").read_text().replace(
            "images = false", "images = true")), r"image_test/image_.*\.jpg.*missing"),
    "incomplete run: a fold's model": (lambda run, data: shutil.rmtree(_fitted(run) / "fold_3"),
                                       r"fold_3: missing; the run folder is incomplete: rerun `stackfold run`"),
    "incomplete run: a result": (lambda run, data: shutil.rmtree(run / "models" / "complement_nb"),
                                 r"no result of 'complement_nb'; the run folder is incomplete"),
    "no finished run": (lambda run, data: (run / "config.toml").unlink(), r"no finished run \(config.toml\)"),
    "another model format": (
        lambda run, data: _set(_fitted(run, "lgbm", "stackers") / "refit", FORMAT_FILE, "format", 0),
        rf"saved by stackfold .* in model format 0, and stackfold .* reads format {FORMAT}; rerun"),
    "a run made before models were kept": (
        lambda run, data: _set(run / "models" / "logreg", "manifest.json", "fitted_models", None),
        r"'logreg' was trained by a stackfold that kept no fitted models; rerun `stackfold run`"),
    "a vocabulary not kept": (lambda run, data: shutil.rmtree(run / "views"),
                              r"what view '(word|char)_counts' learned from the run's rows is not kept"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_each_problem_is_one_line_and_writes_no_submission(case, text_run, rakuten_sample, tmp_path, run_cli):
    run, data = tmp_path / "run", tmp_path / "data"
    shutil.copytree(text_run, run)
    shutil.copytree(rakuten_sample, data)
    breaks, message = BROKEN[case]
    breaks(run, data)
    # the decision rule's row reads every saved model: its stacker's, each base model's folds
    code, _, err = run_cli("predict", run, data, "--out", tmp_path / "sub.csv", "--row", "lgbm+class_scaling")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert re.search(message, err), err
    assert not (tmp_path / "sub.csv").exists()


def test_a_row_not_on_the_leaderboard_and_a_wrong_proba_file_are_one_line(text_run, rakuten_sample, tmp_path,
                                                                          run_cli):
    code, _, err = run_cli("predict", text_run, rakuten_sample, "--out", tmp_path / "a.csv", "--row", "lgbmx")
    assert code == 1 and "no row 'lgbmx'; choose one of" in err
    code, _, err = run_cli("predict", text_run, rakuten_sample, "--out", tmp_path / "a.csv", "--proba",
                           tmp_path / "p.csv")
    assert code == 1 and "p.csv: this run's probabilities are written as .parquet" in err
    assert not (tmp_path / "a.csv").exists()  # refused before the submission was written


class _Payload:
    """What a hostile file could hold: a pickle that runs ``call(*args)`` when loaded."""

    def __init__(self, call, *args):
        self.call, self.args = call, args

    def __reduce__(self):
        return self.call, self.args


@pytest.mark.parametrize("payload", [
    _Payload(__import__("os").system, "touch {marker}"),
    _Payload(eval, "open('{marker}', 'w')"),
    _Payload(__import__("stackfold.io", fromlist=["x"]).write_text_atomic, Path("{marker}"), "x"),
], ids=["os.system", "eval", "a stackfold function not marked saved_with_models"])
def test_loading_a_saved_model_never_runs_code_from_it(payload, tmp_path):
    marker = tmp_path / "ran"
    payload.args = tuple(type(a)(str(a).format(marker=marker)) for a in payload.args)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / MODEL_FILE).write_bytes(pickle.dumps(payload))
    (folder / FORMAT_FILE).write_text(json.dumps({"format": FORMAT, "stackfold": "0.1.0"}))
    with pytest.raises(RunFolderError, match=r"refers to .*, which a saved model never holds; .* not loaded"):
        load_model(folder)
    assert not marker.exists()


def test_a_model_folder_is_written_whole_or_not_at_all(tmp_path):
    from stackfold.model_files import write_model

    run = RunFolder(tmp_path / "run")
    target = run.fitted(Level.BASE, "logreg", "k").path(0)
    with pytest.raises(TypeError):  # a write failing half way (a file of no bytes)
        write_model(target, {MODEL_FILE: b"x", FORMAT_FILE: None})
    assert not list(tmp_path.rglob("fold_0")) and not list(tmp_path.rglob("*.tmp"))
    (target.parent / f".{target.name}.tmp").mkdir()  # what a killed write leaves
    assert run.remove_dead_temp_files() == 1  # what the next run does, holding the folder's lock
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.fixture
def read_only_run(text_run, tmp_path) -> Path:
    """A copy of the finished run, seen through a read-only bind mount (an uploaded Kaggle dataset; root only,
    required under CI)."""
    import subprocess

    needs_root("a read-only bind mount")
    shutil.copytree(text_run, tmp_path / "run")
    mounted = tmp_path / "read-only"
    mounted.mkdir()
    for options in (["--bind"], ["-o", "remount,ro,bind"]):
        done = subprocess.run(["mount", *options, str(tmp_path / "run"), str(mounted)], capture_output=True,
                              text=True, check=False)
        if done.returncode != 0:
            unavailable(f"cannot mount read-only ({done.stderr.strip()})")
    try:
        yield mounted
    finally:
        subprocess.run(["umount", "--lazy", str(mounted)], check=True)


def test_a_read_only_run_folder_predicts_with_its_views_in_a_temporary_folder(read_only_run, rakuten_sample,
                                                                              tmp_path, run_cli):
    code, _, err = run_cli("predict", read_only_run, rakuten_sample, "--out", tmp_path / "sub.csv")
    assert code == 0, err
    assert f"{read_only_run} is read-only: the new products' views are built in" in err
    assert (tmp_path / "sub.csv").read_bytes() == (read_only_run / "submissions" / "best.csv").read_bytes()
    code, _, err = run_cli("predict", read_only_run, rakuten_sample, "--out", tmp_path / "again.csv",
                           "--cache", tmp_path / "views")
    assert code == 0 and "read-only" not in err, err
    assert list((tmp_path / "views").glob("text-*/done"))
