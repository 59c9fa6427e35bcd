"""``stackfold compare``: runs of the same data and folds side by side; other data or folds refused in one line."""

import pandas as pd
import pytest

from stackfold.report.compare import compare_runs

pytestmark = pytest.mark.slow
FAST = ["--no-images", "--stackers", "mean", "--no-report"]


@pytest.fixture(scope="module")
def runs(rakuten_sample, tmp_path_factory):
    """Two runs of the real sample with the same folds but other models."""
    from stackfold.pipeline import run_pipeline  # noqa: F401  (warm import outside the timed CLI calls)
    from stackfold.cli import app

    root = tmp_path_factory.mktemp("compare")
    for name, models in (("a", "prior,tfidf_logreg"), ("b", "prior,logreg")):
        app(["run", str(rakuten_sample), "--out", str(root / name), "--models", models, *FAST], standalone_mode=False)
    return root


def test_compare_prints_scores_side_by_side_and_paired_differences(runs, run_cli, tmp_path):
    code, out, err = run_cli("compare", runs / "a", runs / "b", "--html", tmp_path / "cmp.html")
    assert code == 0, err
    assert "paired difference against a" in out and "top rows:" in out
    assert "prior" in out and "tfidf_logreg" in out and "logreg" in out
    page = (tmp_path / "cmp.html").read_text()
    assert 'id="differences-table"' in page and "<svg" in page
    assert 'src="http' not in page and 'href="http' not in page and "<script src" not in page


def test_identical_rows_differ_by_exactly_zero_and_others_get_an_interval(runs):
    comparison = compare_runs([runs / "a", runs / "b"])
    rows = comparison.differences.set_index("row")
    prior = rows.loc["prior"]
    assert prior["vs a"] == prior["low"] == prior["high"] == 0 and not prior["significant"]
    top = rows.loc[[r for r in rows.index if r.startswith("top rows")][0]]
    assert top["low"] <= top["vs a"] <= top["high"] and top["low"] < top["high"]
    board_b = pd.read_csv(runs / "b" / "leaderboard.csv").set_index("model")
    assert comparison.scores.loc["logreg", ("b", "OOF")] == board_b.loc["logreg", "oof_score"]
    assert pd.isna(comparison.scores.loc["logreg", ("a", "OOF")])


def test_runs_with_other_folds_are_refused_in_one_line(runs, rakuten_sample, run_cli, tmp_path, capsys):
    from stackfold.cli import app

    app(["run", str(rakuten_sample), "--out", str(tmp_path / "c"), "--models", "prior", "--folds", "3", *FAST],
        standalone_mode=False)
    capsys.readouterr()
    code, out, err = run_cli("compare", runs / "a", tmp_path / "c")
    assert code == 1 and "other folds than" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_runs_of_other_data_are_refused_in_one_line(runs, sample_copy, run_cli, tmp_path):
    from stackfold.cli import app

    train = sample_copy / "X_train_update.csv"
    train.write_text(train.read_text(encoding="utf-8").replace("Olivia", "Olivier", 1), encoding="utf-8")
    app(["run", str(sample_copy), "--out", str(tmp_path / "d"), "--models", "prior", *FAST], standalone_mode=False)
    code, out, err = run_cli("compare", runs / "a", tmp_path / "d")
    assert code == 1 and "other data than" in err and "Traceback" not in err


def test_compare_needs_two_runs(runs, run_cli):
    code, out, err = run_cli("compare", runs / "a")
    assert code == 2 and "at least two" in err
