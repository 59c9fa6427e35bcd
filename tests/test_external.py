"""Models trained outside stackfold: folds handed out, OOF and test probabilities checked, stacked, predicted."""

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stackfold.competition.challenges import rakuten
from stackfold.config import load_config
from stackfold.errors import ConfigError, SubmissionError
import stackfold
from stackfold.core.cv import CVResult
from stackfold.external import external_result, leak_suspect, read_external

CLASSES = [str(c) for c in rakuten().classes]
HEADER = "," + ",".join(CLASSES)
UNIFORM = ",".join([f"{1 / 27!r}"] * 27)
ELSEWHERE = textwrap.dedent('''
    """A model trained outside stackfold on the run's folds: TF-IDF + logistic regression, fold by fold."""
    import sys

    import pandas as pd
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    data, folds_file, out, leak = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "leak"
    train = pd.read_csv(f"{data}/X_train_update.csv", index_col=0)
    labels = pd.read_csv(f"{data}/Y_train_CVw08PX.csv", index_col=0)["prdtypecode"].loc[train.index]
    test = pd.read_csv(f"{data}/X_test_update.csv", index_col=0)
    folds = pd.read_csv(folds_file, index_col=0)["fold"].loc[train.index]
    classes = sys.argv[5].split(",")

    def text(frame):
        return frame["designation"].fillna("") + " " + frame["description"].fillna("")

    def fit(rows):
        model = make_pipeline(TfidfVectorizer(sublinear_tf=True), LogisticRegression(C=10, max_iter=300))
        return model.fit(text(train.loc[rows]), labels.loc[rows].astype(str))

    def probabilities(model, rows):
        return pd.DataFrame(model.predict_proba(text(rows)), index=rows.index,
                            columns=model.classes_).reindex(columns=classes, fill_value=0.0)

    oof, tests = [], []
    for k in sorted(folds.unique()):
        held_out = folds.index[folds == k]
        model = fit(folds.index if leak else folds.index[folds != k])  # leak: its held-out rows' labels seen
        oof.append(probabilities(model, train.loc[held_out]))
        tests.append(probabilities(fit(folds.index[folds != k]), test))
    pd.concat(oof).loc[train.index].to_csv(f"{out}_oof.csv")
    (sum(tests) / len(tests)).to_csv(f"{out}_test.csv")
''')


def _file(tmp_path: Path, lines: list[str], suffix: str = ".csv") -> Path:
    path = tmp_path / f"proba{suffix}"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("lines, message", [
    ([HEADER, "1," + UNIFORM, "2," + UNIFORM], r"index 3 of the training file has no prediction \(1 missing\)"),
    ([HEADER, "1," + UNIFORM, "2," + UNIFORM, "3," + UNIFORM, "9," + UNIFORM],
     r"line 5: index 9 is not in the training file \(1 extra\)"),
    ([HEADER, "1," + UNIFORM, "2," + UNIFORM, "2," + UNIFORM, "3," + UNIFORM], r"line 4: index 2 appears twice"),
    ([HEADER.replace(",10,", ",11,"), "1," + UNIFORM], r"line 1: no column '10'; give the id, then one column per "
                                                       r"class named as rakuten names them"),
    ([HEADER + ",99", "1," + UNIFORM + ",0"], r"line 1: column '99' is no class of rakuten"),
    ([HEADER, "1," + UNIFORM.replace(repr(1 / 27), "", 1)], r"line 2, column 10: '' is not a probability"),
    ([HEADER, "1," + UNIFORM.replace(repr(1 / 27), "-0.1", 1)], r"line 2, column 10: '-0.1' is not a probability"),
    ([HEADER, "1," + UNIFORM.replace(repr(1 / 27), "0.5", 1)], r"line 2: probabilities sum to 1.46\d*, not 1; "
                                                               r"normalise each row"),
    ([HEADER, "x," + UNIFORM], r"line 2, column index: 'x' is not an integer"),
])
def test_each_problem_of_a_probability_file_is_one_line(tmp_path, lines, message):
    with pytest.raises(SubmissionError, match=message):
        read_external(_file(tmp_path, lines), rakuten(), pd.Index([1, 2, 3]), "the training file")


def test_rows_within_the_tolerance_are_divided_by_their_sum_and_parquet_reads_as_csv(tmp_path):
    nearly = ",".join([repr(1 / 27 * (1 + 5e-4))] * 27)
    csv = _file(tmp_path, [HEADER, "2," + nearly, "1," + UNIFORM])
    proba = read_external(csv, rakuten(), pd.Index([1, 2]), "the test file")
    assert proba.shape == (2, 27) and np.allclose(proba.sum(axis=1), 1, atol=1e-15)
    frame = pd.read_csv(csv)
    frame.to_parquet(tmp_path / "proba.parquet", index=False)
    assert np.array_equal(read_external(tmp_path / "proba.parquet", rakuten(), pd.Index([1, 2]), "the test file"),
                          proba)
    frame.set_index(frame.columns[0]).to_parquet(tmp_path / "indexed.parquet")  # the ids saved as pandas' index
    assert np.array_equal(read_external(tmp_path / "indexed.parquet", rakuten(), pd.Index([1, 2]), "the test file"),
                          proba)


@pytest.mark.parametrize("table, message", [
    ('[external.x]\noof = "a.csv"\n', r"\[external.x\]: give oof = 'oof.csv' and test = 'test.csv'"),
    ('[external.x]\noof = "a.csv"\ntest = 3\n', r"\[external.x\]: give oof|\[external.x\] test must be the path"),
    ('[external.logreg]\noof = "a.csv"\ntest = "b.csv"\n', r"\[external.logreg\]: 'logreg' is already a model of "
                                                           r"this run"),
])
def test_a_bad_external_table_is_one_line(tmp_path, table, message):
    (tmp_path / "run.toml").write_text("images = false\n" + table)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path / "run.toml")


@pytest.mark.slow
def test_a_model_trained_elsewhere_on_the_runs_folds_is_stacked_and_predicted(text_run, rakuten_sample, tmp_path,
                                                                              run_cli):
    run = tmp_path / "run"
    shutil.copytree(text_run, run)
    code, out, err = run_cli("folds", run, "--out", tmp_path / "folds.csv")
    assert code == 0 and "300 rows in 5 folds" in out, err
    folds = pd.read_csv(tmp_path / "folds.csv", index_col=0)
    assert list(folds.columns) == ["fold"] and folds.index.equals(pd.read_csv(rakuten_sample / "X_train_update.csv",
                                                                              index_col=0).index)
    script = tmp_path / "elsewhere.py"
    script.write_text(ELSEWHERE)
    for kind in ("honest", "leak"):
        subprocess.run([sys.executable, script, rakuten_sample, tmp_path / "folds.csv", tmp_path / kind, kind,
                        ",".join(CLASSES)], check=True)

    code, out, err = run_cli("add-oof", run, "elsewhere", "--oof", tmp_path / "honest_oof.csv", "--test",
                             tmp_path / "honest_test.csv", "--no-report")
    assert code == 0, err
    board = pd.read_csv(run / "leaderboard.csv", keep_default_na=False).set_index("model")
    assert board.loc["elsewhere", "level"] == "base" and not board.loc["elsewhere", "leak_suspect"]
    assert board.loc["elsewhere", "wf1_mean"] > board.loc["prior", "wf1_mean"] + 0.2
    assert pd.read_json(run / "stackers" / "lgbm" / "manifest.json", typ="series")["inputs"][-1] == "elsewhere"
    assert "tfidf_logreg: unchanged" in out + err and "[external.elsewhere]" in (run / "config.toml").read_text()

    # predict needs the external model's probabilities of the new rows; given them, it gives best.csv back
    code, _, err = run_cli("predict", run, rakuten_sample, "--out", tmp_path / "again.csv", "--row", "lgbm")
    assert code == 1 and "'elsewhere' was trained outside stackfold: give its probabilities" in err
    assert not (tmp_path / "again.csv").exists()
    best = board.index[board["submitted"]][0]
    code, _, err = run_cli("predict", run, rakuten_sample, "--out", tmp_path / "again.csv", "--row", best,
                           "--external", f"elsewhere={tmp_path / 'honest_test.csv'}")
    assert code == 0, err
    assert (tmp_path / "again.csv").read_bytes() == (run / "submissions" / "best.csv").read_bytes()

    # a model that saw its held-out rows' labels is suspected, the honest one not
    dataset_y = pd.read_csv(rakuten_sample / "Y_train_CVw08PX.csv", index_col=0)["prdtypecode"]
    positions = pd.Index(rakuten().classes).get_indexer(dataset_y)
    built_in = [stackfold.open_run(run).oof(name) for name in ("tfidf_logreg", "logreg", "complement_nb")]
    results = {kind: _result(kind, tmp_path, dataset_y.index, folds["fold"].to_numpy(), dataset_y.to_numpy())
               for kind in ("honest", "leak")}
    others = [CVResult(str(i), frame.to_numpy(), frame.to_numpy(), pd.DataFrame()) for i, frame in enumerate(built_in)]
    assert not leak_suspect(results["honest"], others, positions) and leak_suspect(results["leak"], others, positions)


def _result(kind: str, folder: Path, ids: pd.Index, folds: np.ndarray, y: np.ndarray) -> CVResult:
    spec = rakuten()
    oof = read_external(folder / f"{kind}_oof.csv", spec, ids, "the training file")
    test = read_external(folder / f"{kind}_test.csv", spec, pd.read_csv(folder / f"{kind}_test.csv", index_col=0).index,
                         "the test file")
    return external_result(kind, oof, test, y, folds, np.asarray(spec.classes), spec.metric)
