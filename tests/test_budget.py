"""Presets and time limits: the configuration keys, the plan of what fits, the re-plan when a run falls behind, and a
time-limited run end to end (what ran is its configuration, what did not is on its leaderboard, predict works)."""

import json

import pytest

import stackfold
from stackfold.config import DEFAULT_MODELS, load_config
from stackfold.config.presets import PRESETS, PRIORITY, parse_duration, priority_order
from stackfold.errors import ConfigError
from stackfold.pipeline.budget import Budget
from stackfold.progress import Pace, Step
from stackfold.synthetic import write_demo_data


@pytest.mark.parametrize(("text", "seconds"), [("30m", 1800), ("2h", 7200), ("1h30m", 5400), ("90s", 90),
                                               ("1h 5m 10s", 3910), ("45min", 2700), ("0.5h", 1800), (600, 600),
                                               (2.5, 2.5)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("value", "pattern"), [
    ("", r"time_limit = '': give a duration such as"),
    ("soon", r"time_limit = 'soon': give a duration"),
    ("30 minutes", r"time_limit = '30 minutes'"),
    (0, r"time_limit = 0: a time limit must be above zero"),
    ("0m", r"must be above zero"),
    (True, r"time_limit = True: give a duration"),
])
def test_bad_durations(value, pattern):
    with pytest.raises(ConfigError, match=pattern):
        parse_duration(value)


BAD_CONFIGS = [
    ("unknown preset", 'preset = "quick"\n', r"run.toml: preset = 'quick': choose from fast, default, best"),
    ("duration not understood", 'time_limit = "an hour"\n', r"run.toml: time_limit = 'an hour': give a duration"),
    ("duration of another type", "time_limit = [30]\n", r"time_limit = \[30\]: give a duration"),
    ("negative trials", "tune_trials = -1\n", r"tune_trials = -1: need 0 \(no tuning\) or more"),
    ("tuning a stacker not run", 'tune_trials = 5\nstackers = ["mean"]\n',
     r"tune_trials = 5 tunes decide_on = 'lgbm', which is not one of the stackers \(mean\)"),
]


@pytest.mark.parametrize(("text", "pattern"), [b[1:] for b in BAD_CONFIGS], ids=[b[0] for b in BAD_CONFIGS])
def test_bad_preset_and_limit_keys(tmp_path, text, pattern):
    (tmp_path / "run.toml").write_text(text)
    with pytest.raises(ConfigError, match=pattern):
        load_config(tmp_path / "run.toml")


def test_a_preset_fills_only_what_the_configuration_leaves_out(tmp_path):
    fast = load_config(None, {"preset": "fast"})
    assert fast.models == PRESETS["fast"].models and fast.stackers == PRESETS["fast"].stackers
    assert load_config(None, {"preset": "fast", "models": ["logreg"]}).models == ("logreg",)
    best = load_config(None, {"preset": "best"})
    assert best.models == (*DEFAULT_MODELS, "title_knn") and best.tune_trials == 30
    assert best.features == {"efficientnet": {"nets": ["lite0", "lite2"]}}
    own = load_config(None, {"preset": "best", "features": {"efficientnet": {"size": 192}, "color": {"bins": 4}}})
    assert own.features == {"efficientnet": {"nets": ["lite0", "lite2"], "size": 192}, "color": {"bins": 4}}
    assert load_config(None, {"preset": "best", "images": False}).models[-1] == "title_knn"  # image models dropped
    (tmp_path / "run.toml").write_text('preset = "fast"\ntime_limit = "1h30m"\n')
    config = load_config(tmp_path / "run.toml")
    assert config.time_limit == 5400 and config.preset == "fast"
    (tmp_path / "again.toml").write_text(config.to_toml())
    assert load_config(tmp_path / "again.toml") == config
    assert load_config(None, {"preset": "best"}, data=None).tune_trials == 30
    many = load_config(None, {"preset": "best", "challenge": "cdiscount"})  # blends only: nothing to tune
    assert many.tune_trials == 0 and "lgbm" not in many.stackers


def test_the_priority_lists_every_default_model_and_stacker_then_the_rest_in_their_order():
    assert set(DEFAULT_MODELS) | {"lgbm", "mean", "weighted_mean", "log_pool", "logreg_stack"} <= set(PRIORITY)
    assert priority_order(("mine", "lgbm", "prior", "other")) == ["prior", "lgbm", "mine", "other"]


LEVELS = {"prior": "base", "tfidf_logreg": "base", "linear_svc": "base", "text_nn": "base", "mine": "base",
          "mean": "stack", "lgbm": "stack"}
SECONDS = {"prior": 1, "tfidf_logreg": 20, "linear_svc": 60, "text_nn": 300, "mine": 30, "mean": 1, "lgbm": 40}


def _expected(selection: list[str]) -> dict[str, float]:
    return {**{name: float(SECONDS[name]) for name in selection}, "report": 5.0}


def _budget(limit: float, speed: float = 1.0, reused: frozenset[str] = frozenset()) -> tuple[Budget, Pace]:
    pace = Pace(speed=speed)
    return Budget(limit, LEVELS, _expected, speed, pace, set(reused)), pace


def test_the_plan_takes_the_priorities_while_they_fit_then_cheaper_ones_after():
    budget, _ = _budget(limit=140)
    decisions = {d.name: d.decision for d in budget.decisions.values()}
    # prior 1 + tfidf 20 + mean 1 + linear_svc 60 + lgbm 40 + report 5 = 127; text_nn (300) does not fit, mine (30)
    # would make 157: left out too
    assert decisions == {"prior": "run", "tfidf_logreg": "run", "mean": "run", "linear_svc": "run", "lgbm": "run",
                         "text_nn": "left out", "mine": "left out"}
    assert budget.selected == ["prior", "tfidf_logreg", "mean", "linear_svc", "lgbm"]
    assert 127 <= budget.predicted_s < 128
    assert "0:05:00 expected" in budget.decisions["text_nn"].reason
    lines = budget.describe()
    assert lines[0].startswith("time limit 0:02:20") and any("left out base text_nn" in line for line in lines)


def test_a_slower_machine_plans_less_and_a_run_keeps_one_model_whatever_it_costs():
    slow, _ = _budget(limit=140, speed=4.0)
    assert slow.selected == ["prior", "tfidf_logreg", "mean"]
    nothing, _ = _budget(limit=1, speed=1.0)
    assert nothing.selected == ["prior"] and "a run needs a model" in nothing.decisions["prior"].reason
    reused, _ = _budget(limit=30, reused=frozenset({"prior"}))
    assert reused.decisions["prior"].decision == "reused"


def test_a_run_behind_its_plan_skips_the_lowest_priority_steps_not_started():
    budget, pace = _budget(limit=140)
    assert budget.admit("prior") and not budget.admit("text_nn")  # text_nn was left out by the plan
    # tfidf_logreg took 5x its 20 s (the whole run's pace rises with it): what is left no longer fits
    pace.record(Step("base", "prior", "", 0, 1.0, 0, 1.0, None))
    pace.record(Step("base", "tfidf_logreg", "", 1, 100.0, 0, 20.0, None))
    budget.pace.start -= 101  # the run is 101 s old
    assert not budget.admit("linear_svc")  # lgbm (lowest priority) skipped first, then linear_svc itself
    assert budget.decisions["lgbm"].decision == budget.decisions["linear_svc"].decision == "skipped"
    assert budget.admit("mean") and budget.selected == ["prior", "tfidf_logreg", "mean"]
    assert [d.name for d in budget.left_out()] == ["linear_svc", "lgbm", "text_nn", "mine"]
    assert "behind the plan at 0:01:41" in budget.decisions["lgbm"].reason


def test_the_last_base_model_is_never_skipped():
    budget, pace = _budget(limit=2)
    budget.pace.start -= 60
    assert budget.admit("prior")


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    data = tmp_path_factory.mktemp("twin")
    write_demo_data(data, 300, seed=0, image_size=16)
    return data


@pytest.mark.slow
def test_a_time_limited_run_plans_records_and_predicts_what_fitted(twin, tmp_path, monkeypatch, capsys):
    """A machine calibrated 20x slower than the reference: in 10 minutes text_nn's planned quarter of an hour does
    not fit, the cheap models do; the run's configuration lists only what ran, and predict reproduces its
    submission."""
    monkeypatch.setattr("stackfold.pipeline.planning.machine_speed", lambda n_jobs: 20.0)
    out = tmp_path / "run"
    run = stackfold.run(twin, out, images=False, models=["prior", "complement_nb", "text_nn"], stackers=["mean"],
                        time_limit="10m", report=False)
    plan = json.loads((out / "plan.json").read_text())
    decisions = {d["name"]: d["decision"] for d in plan["decisions"]}
    assert decisions == {"prior": "run", "complement_nb": "run", "mean": "run", "text_nn": "left out"}
    assert plan["speed"] == 20.0 and plan["time_limit_s"] == 600 and 0 < plan["predicted_s"] < 600
    assert set(run.leaderboard()["model"]) == {"prior", "complement_nb", "mean"}
    config = load_config(out / "config.toml")
    assert config.models == ("prior", "complement_nb") and config.stackers == ("mean",)
    notes = (out / "leaderboard.md").read_text()
    assert "\n\n- not run (left out, time limit): base text_nn: 0:" in notes
    assert "left out base text_nn" in capsys.readouterr().err
    run.predict(twin).write(tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_bytes() == (out / "submissions" / "best.csv").read_bytes()
    stackfold.run(twin, out, images=False, models=["prior", "complement_nb"], stackers=["mean"], report=False)
    assert not (out / "plan.json").exists()  # a run without a limit leaves no earlier plan behind


@pytest.mark.slow
def test_tune_trials_tune_the_stacker_over_the_first_pass_then_fit_it_with_the_best_parameters(twin, tmp_path):
    out = tmp_path / "run"
    run = stackfold.run(twin, out, images=False, models=["prior", "complement_nb"], stackers=["mean", "lgbm"],
                        tune_trials=2, report=False)
    tuned = json.loads((out / "tuning" / "lgbm.json").read_text())
    assert tuned["trials"] == 2
    manifest = json.loads((out / "stackers" / "lgbm" / "manifest.json").read_text())
    assert {k: manifest["params"][k] for k in tuned["params"]} == tuned["params"]
    assert set(run.leaderboard()["model"]) == {"prior", "complement_nb", "mean", "lgbm"}
    assert load_config(out / "config.toml").stackers == ("mean", "lgbm")
