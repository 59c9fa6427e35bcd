"""The whole run on the real sample: leaderboard, submissions, caching and determinism."""

import json
import shutil

import pandas as pd
import pytest
from conftest import STACK_ROWS, TEXT_MODELS

from stackfold.competition.load import image_coverage, load_competition
from stackfold.competition.challenges import rakuten
from stackfold.config import DEFAULT_MODELS, load_config
from stackfold.leaderboard import COLUMNS


@pytest.mark.slow
def test_submission_has_exactly_the_test_indices(text_run, rakuten_sample):
    sub = pd.read_csv(text_run / "submissions" / "best.csv", index_col=0)
    test = pd.read_csv(rakuten_sample / "X_test_update.csv", index_col=0)
    assert list(sub.columns) == ["prdtypecode"] and sub.index.tolist() == test.index.tolist()
    assert (text_run / "submissions" / "best.csv").read_text().startswith(",prdtypecode\n84916,")


@pytest.mark.slow
def test_leaderboard_has_every_model_and_stacker(text_run):
    board = pd.read_csv(text_run / "leaderboard.csv", keep_default_na=False)
    assert list(board.columns) == COLUMNS
    assert set(zip(board["model"], board["level"])) == {*((m, "base") for m in TEXT_MODELS), *STACK_ROWS}
    assert board["wf1_mean"].is_monotonic_decreasing
    assert (text_run / "leaderboard.md").read_text().startswith("| model")
    prior = board.set_index("model").loc["prior"]
    assert board["wf1_mean"].max() > prior["wf1_mean"] + 0.2


@pytest.mark.slow
def test_artifacts_are_documented_and_readable(text_run):
    assert pd.read_csv(text_run / "folds.csv").columns.tolist() == ["index", "fold", "label"]
    oof = pd.read_parquet(text_run / "models" / "tfidf_logreg" / "oof.parquet")
    assert oof.shape == (300, 27) and oof.columns[0] == "tfidf_logreg__10"
    manifest = json.loads((text_run / "stackers" / "lgbm" / "manifest.json").read_text())
    assert manifest["inputs"] == TEXT_MODELS and len(manifest["folds"]) == 6
    assert manifest["meta_features"] == ["confidence", "text"]
    assert json.loads((text_run / "stackers" / "mean" / "manifest.json").read_text())["meta_features"] == []
    meta = pd.read_parquet(text_run / "meta" / "train.parquet")
    assert meta.shape[0] == 300 and meta.index.equals(oof.index)
    assert {"tfidf_logreg__max_proba", "tfidf_logreg__entropy", "meta__token_len", "meta__is_fr"} <= set(meta.columns)
    registry = pd.read_csv(text_run / "submissions" / "registry.csv")
    written = {"best.csv", *(f"{m}.csv" for m in manifest["inputs"]), *(f"{m}.csv" for m, _ in STACK_ROWS)}
    assert set(registry["file"]) == written
    assert not list(text_run.rglob("*.tmp")) and not list(text_run.rglob("checkpoints-*"))
    for name in TEXT_MODELS:  # each fold's fitted model, under the result's key; a stacker's refit
        key = json.loads((text_run / "models" / name / "manifest.json").read_text())["key"]
        assert sorted(p.name for p in (text_run / "models" / name / f"fitted-{key}").iterdir()) == [
            f"fold_{k}" for k in range(5)]
    assert [p.name for p in (text_run / "stackers" / "lgbm" / f"fitted-{manifest['key']}").iterdir()] == ["refit"]
    assert sorted(p.name.split("-")[0] for p in (text_run / "views").iterdir()) == [
        "char_counts", "title_char_counts", "title_counts", "word_counts"]


@pytest.mark.slow
def test_timeline_times_every_step_in_order(text_run):
    timeline = pd.read_csv(text_run / "timeline.csv")
    assert list(timeline.columns) == ["kind", "name", "started_at", "started_s", "seconds", "peak_rss_bytes",
                                      "expected_s", "eta_s", "disk_bytes"]
    steps = list(zip(timeline["kind"], timeline["name"]))
    views = [("view", v) for v in ("rows", "text", "word_counts", "char_counts", "title", "title_counts",
                                   "title_char_counts", "sentence")]
    models = [("base", m) for m in TEXT_MODELS]
    stack = [("stack", "lgbm"), ("stack", "mean"), ("stack", "lgbm+class_scaling")]
    assert steps[0] == ("data", "check") and steps[-1] == ("leaderboard", "leaderboard")
    assert sorted(steps) == sorted([("data", "check"), *views, *models, *stack, ("leaderboard", "leaderboard")])
    assert steps.index(("view", "text")) < steps.index(("view", "word_counts")) < steps.index(("base", "logreg"))
    assert steps.index(("view", "sentence")) < steps.index(("base", "sentence_logreg")) < steps.index(("stack", "lgbm"))
    assert timeline["started_s"].is_monotonic_increasing and (timeline["seconds"] >= 0).all()
    assert (timeline["peak_rss_bytes"] > 100e6).all() and (timeline["disk_bytes"] > 0).all()
    assert timeline["eta_s"].isna().tolist() == [True] + [False] * (len(timeline) - 1)
    planned = timeline[timeline["kind"] != "data"]
    assert (planned["expected_s"] > 0).all()


@pytest.mark.slow
def test_cli_leaderboard(text_run, run_cli):
    code, out, _ = run_cli("leaderboard", text_run)
    assert code == 0 and "tfidf_logreg" in out and "prior" in out


@pytest.mark.slow
def test_same_seed_same_bytes_and_unchanged_models_are_reused(rakuten_sample, tmp_path, run_cli):
    config = tmp_path / "run.toml"
    config.write_text('images = false\nmodels = ["prior", "tfidf_logreg"]\nstackers = ["lgbm"]\ndecisions = []\n')
    first, second = tmp_path / "a", tmp_path / "b"
    assert run_cli("run", rakuten_sample, "--out", first, "--config", config, "--no-report")[0] == 0
    assert run_cli("run", rakuten_sample, "--out", second, "--config", config, "--no-report")[0] == 0
    assert (first / "submissions" / "best.csv").read_bytes() == (second / "submissions" / "best.csv").read_bytes()
    fitted = {p.relative_to(first): p.read_bytes() for p in first.glob("*/*/fitted-*/*/*")}
    assert len(fitted) > 10 and fitted == {p.relative_to(second): p.read_bytes() for p in second.glob("*/*/fitted-*/*/*")}

    manifest = first / "models" / "tfidf_logreg" / "manifest.json"
    before = manifest.stat().st_mtime_ns
    code, _, err = run_cli("run", rakuten_sample, "--out", first, "--config", config, "--no-report")
    assert code == 0 and "tfidf_logreg: unchanged" in err and "lgbm: unchanged" in err
    assert manifest.stat().st_mtime_ns == before

    config.write_text(config.read_text() + '[params.tfidf_logreg]\nC = 2.0\n')
    code, _, err = run_cli("run", rakuten_sample, "--out", first, "--config", config, "--no-report")
    assert code == 0 and "prior: unchanged" in err and "tfidf_logreg: 5-fold OOF" in err
    assert "lgbm: unchanged" not in err  # its inputs changed


def test_run_with_images_on_sample_names_the_missing_image(rakuten_sample, tmp_path, run_cli):
    code, _, err = run_cli("run", rakuten_sample, "--out", tmp_path / "run")
    assert code == 1 and "is missing" in err and "images = false" in err
    assert not (tmp_path / "run" / "submissions").exists()


@pytest.mark.slow
def test_blank_policy_runs_on_the_sample_and_counts_blanks(rakuten_sample, tmp_path, run_cli):
    config = tmp_path / "run.toml"
    config.write_text('on_bad_image = "blank"\nmodels = ["prior", "color_forest"]\nstackers = ["mean", "lgbm"]\ndecisions = []\n'
                      'meta_features = ["color"]\n')
    code, _, err = run_cli("run", rakuten_sample, "--out", tmp_path / "run", "--config", config)
    assert code == 0, err
    board = pd.read_csv(tmp_path / "run" / "leaderboard.csv", keep_default_na=False).set_index("model")
    coverage = image_coverage(load_competition(rakuten_sample, rakuten(), images=False))
    missing = sum(total - found for found, total in coverage.values())  # its 20 images are of products all over
    assert board.loc["color_forest", "blank_images"] == missing and board.loc["prior", "blank_images"] == 0
    manifest = json.loads((tmp_path / "run" / "models" / "color_forest" / "manifest.json").read_text())
    assert manifest["blank_images"] == missing

    # a rerun reuses the models' results without their feature views, blank counts included
    shutil.rmtree(tmp_path / "run" / "cache")
    config.write_text('on_bad_image = "blank"\nmodels = ["prior", "color_forest"]\nstackers = ["mean"]\ndecisions = []\n')
    code, _, err = run_cli("run", rakuten_sample, "--out", tmp_path / "run", "--config", config)
    assert code == 0, err
    assert not list((tmp_path / "run" / "cache").glob("color*"))
    board = pd.read_csv(tmp_path / "run" / "leaderboard.csv", keep_default_na=False).set_index("model")
    assert board.loc["color_forest", "blank_images"] == missing


@pytest.mark.slow
def test_run_with_images_on_synthetic_twin(default_twin_run, tmp_path, run_cli):
    data, run = default_twin_run.data, default_twin_run.run  # `stackfold run DATA --out RUN --no-report`
    board = pd.read_csv(run / "leaderboard.csv", keep_default_na=False)
    config = load_config(None)
    decided = {f"{config.decide_on}+{rule}" for rule in config.decisions}
    assert set(board["model"]) == {*DEFAULT_MODELS, *config.stackers, *decided}
    image = board.set_index("model").loc["efficientnet_logreg", "wf1_mean"]
    prior = board.set_index("model").loc["prior", "wf1_mean"]
    assert image > prior  # the pretrained image features carry signal
    assert len(list((run / "cache").glob("efficientnet-*/done"))) == 1
    code, out, _ = run_cli("score", run / "submissions" / "best.csv", "--truth", data / "truth" / "Y_test.csv")
    assert code == 0 and "weighted_f1" in out
    # every default model's saved folds (keras nets, forests, SVMs, boosters) predict the test set again: best.csv
    # (from a copy: predict caches the new rows' views in the run's cache/, and the shared run stays as it was made)
    shutil.copytree(run, tmp_path / "run")
    code, _, err = run_cli("predict", tmp_path / "run", data, "--out", tmp_path / "again.csv")
    assert code == 0, err
    assert (tmp_path / "again.csv").read_bytes() == (run / "submissions" / "best.csv").read_bytes()


@pytest.mark.slow
def test_cli_explain(text_run, run_cli):
    code, out, err = run_cli("explain", text_run, "--rows", 200, "--per-class")
    assert code == 0, err
    assert "share of mean |SHAP|" in out and "tfidf_logreg" in out and "meta" in out and "| 2583" in out


def test_interrupted_run_says_how_to_resume(rakuten_sample, tmp_path, run_cli, monkeypatch):
    import stackfold.pipeline

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(stackfold.pipeline, "run_pipeline", interrupted)
    code, _, err = run_cli("run", rakuten_sample, "--out", tmp_path / "run")
    assert code == 130 and "run the same command again to resume" in err and "Traceback" not in err


@pytest.mark.parametrize("args, code", [(["--help"], 0), (["run"], 2), (["no-such-command"], 2)])
def test_cli_usage(run_cli, args, code):
    assert run_cli(*args)[0] == code
