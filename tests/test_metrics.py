"""The challenge metrics and their direction: every score, comparison and choice follows the spec's metric.

Each metric against scikit-learn's; per-class counts (the bootstraps' and ``selection``'s path) against the
direct scores; log loss (lower is better) through fold scores, the leaderboard and its intervals, the tuning
study's direction, ensemble selection, the configuration's refusals, ``stackfold score`` and ``diff``.
"""

from pathlib import Path

import numpy as np
import optuna
import pytest
from sklearn.metrics import accuracy_score, f1_score
from sklearn.metrics import log_loss as sklearn_log_loss

from stackfold.bootstrap import bootstrap_losses
from stackfold.cli.render import diff_lines, score_line
from stackfold.competition.metric import (
    FOLD_SCORE, LABEL_METRICS, METRICS, SUMMARY_COLUMN, log_loss, metric_info, row_log_losses, score_from_counts,
)
from stackfold.competition.spec_file import read_spec
from stackfold.config import load_config
from stackfold.core.cv import cross_validate, fold_scores
from stackfold.core.topk import TopK
from stackfold.ensembles.blend import LogPool, MeanBlend
from stackfold.ensembles.objective import StackData, cv_score, make_objective
from stackfold.ensembles.search_space import Range
from stackfold.ensembles.selection import EnsembleSelection
from stackfold.errors import ConfigError
from stackfold.leaderboard import COLUMNS, leaderboard_columns, leaderboard_frame, row_losses
from stackfold.studies import open_study, quiet_optuna, study_direction
from stackfold.submissions import diff_submissions, score_submission

CLASSES = np.array([3, 7, 11])
LABELS = ("EAP", "HPL", "MWS")


def _proba(rng: np.random.Generator, n: int, k: int = 3) -> np.ndarray:
    """Rows of probabilities without a zero, summing to 1."""
    return rng.dirichlet(np.ones(k), size=n)


def _labels(rng: np.random.Generator, n: int, n_classes: int, absent: tuple[int, ...] = ()) -> np.ndarray:
    present = np.setdiff1d(np.arange(n_classes), absent)
    return rng.choice(present, size=n)


# --- the metrics themselves -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "reference"), [
    ("accuracy", accuracy_score),
    ("weighted_f1", lambda y, p: f1_score(y, p, average="weighted", zero_division=0)),
    ("macro_f1", lambda y, p: f1_score(y, p, average="macro", zero_division=0)),
])
def test_label_metrics_equal_scikit_learn(name, reference):
    rng = np.random.default_rng(0)
    y, predicted = _labels(rng, 400, 6), _labels(rng, 400, 6, absent=(5,))
    assert LABEL_METRICS[name](y, predicted) == pytest.approx(reference(y, predicted), abs=1e-12)


def test_log_loss_equals_scikit_learn_on_probabilities_without_zeros():
    rng = np.random.default_rng(1)
    proba, y = _proba(rng, 300, 4), _labels(rng, 300, 4)
    assert log_loss(y, proba) == pytest.approx(sklearn_log_loss(y, proba, labels=range(4)), rel=1e-12)
    assert row_log_losses(y, proba).mean() == pytest.approx(log_loss(y, proba), rel=1e-12)


@pytest.mark.parametrize(("proba", "true", "expected"), [
    ([[1.0, 0.0, 0.0]], 1, -np.log(1e-15 / (1 - 1e-15 + 2e-15))),  # a zero is clipped to 1e-15, then renormalised
    ([[1.0, 0.0, 0.0]], 0, -np.log((1 - 1e-15) / (1 - 1e-15 + 2e-15))),
    ([[0.4, 0.2, 0.2]], 0, np.log(2.0)),  # a row that does not sum to 1 is renormalised
    ([[2.0, 1.0, 1.0]], 0, np.log(3.0)),  # clipped at 1 - 1e-15 first: every class then weighs the same
    ([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]], 2, (np.log(4.0) - np.log(0.8)) / 2),
])
def test_log_loss_clips_and_renormalises_as_kaggle_does(proba, true, expected):
    proba = np.array(proba)
    assert log_loss(np.full(len(proba), true), proba) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(("name", "higher", "probabilities", "fold_key", "column"), [
    ("accuracy", True, False, "accuracy", "accuracy"),
    ("weighted_f1", True, False, "wf1", "wf1_mean"),
    ("macro_f1", True, False, "macro_f1", "macro_f1"),
    ("log_loss", False, True, "log_loss", "log_loss"),
])
def test_each_metric_says_which_way_is_better_and_where_a_run_keeps_it(name, higher, probabilities, fold_key,
                                                                         column):
    info = metric_info(name)
    assert (info.higher_is_better, info.needs_probabilities) == (higher, probabilities)
    assert FOLD_SCORE[name] == fold_key and SUMMARY_COLUMN[name] == column
    assert info.better(1.0, 0.5) is higher and info.sign() * 1.0 == (1.0 if higher else -1.0)
    assert study_direction(name) == ("maximize" if higher else "minimize")


@pytest.mark.parametrize(("call", "match"), [
    (lambda: metric_info("f2"), r"unknown metric 'f2'; known: accuracy, weighted_f1, macro_f1, log_loss"),
    (lambda: score_from_counts("log_loss", np.zeros(3), np.zeros(3), np.ones(3)), r"'log_loss' is not a metric of "
                                                                                   r"labels"),
])
def test_unknown_or_misused_metrics_are_refused_in_one_line(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("name", list(LABEL_METRICS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scores_from_counts_equal_the_direct_scores_with_absent_classes(name, seed):
    """Classes absent from the truth, from the predictions, or from both (macro F1 averages the classes present in
    either, as scikit-learn does)."""
    rng = np.random.default_rng(seed)
    n_classes = 8
    y = _labels(rng, 250, n_classes, absent=(0, 6))  # 6: absent from both
    predicted = _labels(rng, 250, n_classes, absent=(1, 6))  # 0: predicted only; 1: true only
    true_positives = np.bincount(y[predicted == y], minlength=n_classes)
    counts = score_from_counts(name, true_positives, np.bincount(predicted, minlength=n_classes),
                               np.bincount(y, minlength=n_classes))
    assert float(counts) == pytest.approx(LABEL_METRICS[name](y, predicted), abs=1e-12)


# --- fold scores and the CV summary -------------------------------------------------------------------------------

def _stack(rng: np.random.Generator, n: int, sharpness: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Class codes ``y`` and a stack matrix of one probability block per model, more confident with sharpness."""
    y_positions = rng.integers(0, len(CLASSES), n)
    blocks = []
    for s in sharpness:
        logits = rng.normal(size=(n, len(CLASSES))) + s * np.eye(len(CLASSES))[y_positions]
        blocks.append(np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True))
    return CLASSES[y_positions], np.hstack(blocks).astype(np.float32)


def test_fold_scores_add_log_loss_only_for_a_log_loss_run_and_refuse_top_k():
    rng = np.random.default_rng(3)
    proba = _proba(rng, 50)
    y = CLASSES[rng.integers(0, 3, 50)]
    labelled = fold_scores(y, proba, CLASSES, "weighted_f1")
    assert list(labelled) == ["wf1", "accuracy", "macro_f1"]
    scored = fold_scores(y, proba, CLASSES, "log_loss")
    assert {k: v for k, v in scored.items() if k != "log_loss"} == labelled
    assert scored["log_loss"] == pytest.approx(log_loss(np.searchsorted(CLASSES, y), proba))
    with pytest.raises(ValueError, match=r"log_loss scores every class's probability, but the fold kept each "
                                         r"row's top 2"):
        fold_scores(y, TopK.from_dense(proba, 2), CLASSES, "log_loss")


def test_cross_validate_scores_the_run_metric_and_summarises_its_fold_mean():
    rng = np.random.default_rng(4)
    y, X = _stack(rng, 120, (2.0, 1.0))
    folds = np.arange(120) % 3
    plain = cross_validate(lambda: MeanBlend(CLASSES), X, y, None, folds, name="mean", quiet=True)
    assert list(plain.summary()) == ["wf1_mean", "wf1_std", "accuracy", "macro_f1", "fit_s", "predict_s"]
    scored = cross_validate(lambda: MeanBlend(CLASSES), X, y, None, folds, name="mean", quiet=True,
                            metric="log_loss")
    summary = scored.summary()
    assert list(summary) == ["wf1_mean", "wf1_std", "accuracy", "macro_f1", "log_loss", "fit_s", "predict_s"]
    positions = np.searchsorted(CLASSES, y)
    expected = np.mean([log_loss(positions[folds == k], scored.oof[folds == k]) for k in range(3)])
    assert summary["log_loss"] == pytest.approx(expected)
    assert np.array_equal(plain.oof, scored.oof)


# --- intervals and the leaderboard --------------------------------------------------------------------------------

def test_log_loss_bootstrap_is_stratified_paired_seeded_and_covers_the_point():
    rng = np.random.default_rng(5)
    y = np.repeat(np.arange(4), [50, 30, 15, 5])
    good, bad = rng.exponential(0.3, len(y)), rng.exponential(0.6, len(y))
    constant = np.full(len(y), 0.7)
    losses = np.column_stack([good, bad, bad, constant])
    scores = bootstrap_losses(y, losses, 4, n_resamples=400, seed=1)
    assert scores.point == pytest.approx(losses.mean(axis=0))
    low, high = scores.interval()
    assert np.all(low <= scores.point + 1e-12) and np.all(scores.point <= high + 1e-12) and low[0] < high[0]
    assert np.allclose(scores.draws[:, 3], 0.7)  # every resample holds len(y) rows
    assert np.array_equal(scores.draws[:, 1], scores.draws[:, 2])  # same resampled rows for every model
    assert np.array_equal(scores.draws, bootstrap_losses(y, losses, 4, n_resamples=400, seed=1).draws)
    # stratified: a loss that is the class index keeps its mean in every resample (class supports fixed)
    by_class = bootstrap_losses(y, y.astype(float), 4, n_resamples=50, seed=2)
    assert np.allclose(by_class.draws, y.mean())
    point, gap_low, gap_high = scores.gap(reference=0, higher_is_better=False)  # this row minus top row
    assert point[0] == gap_low[0] == gap_high[0] == 0 and point[1] > 0 and gap_low[1] > 0


def _loss_rows(rng: np.random.Generator) -> tuple[np.ndarray, dict[str, np.ndarray], list[dict]]:
    """OOF probabilities of three models on 600 rows: sharp, nearly as sharp, and weak."""
    n = 600
    y = rng.integers(0, 3, n)
    oof = {}
    for name, sharpness in (("sharp", 2.5), ("close", 2.45), ("weak", 0.5)):
        logits = rng.normal(size=(n, 3)) + sharpness * np.eye(3)[y]
        oof[name] = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    rows = [{"model": name, "level": "base", "wf1_mean": 0.5, "wf1_std": 0.0, "accuracy": 0.5, "macro_f1": 0.5,
             "log_loss": log_loss(y, proba), "fit_s": 1.0, "predict_s": 0.1, "blank_images": 0}
            for name, proba in oof.items()]
    return y, oof, rows


def test_log_loss_leaderboard_ranks_the_lowest_first_submits_it_and_marks_worse_rows():
    rng = np.random.default_rng(6)
    y, oof, rows = _loss_rows(rng)
    oof["weak"][:5] = np.nan  # rows a model left uncovered are left out of every interval
    predictions = {name: np.where(np.isnan(p).any(axis=1), -1, np.nan_to_num(p).argmax(axis=1))
                   for name, p in oof.items()}
    losses = row_losses("log_loss", oof, y)
    board = leaderboard_frame(rows[::-1], predictions, y, 3, "log_loss", "log_loss", seed=0, losses=losses)
    assert list(board.columns) == leaderboard_columns("log_loss")
    assert board.columns[board.columns.get_loc("macro_f1") + 1] == "log_loss"
    assert board["log_loss"].is_monotonic_increasing and board["model"].iloc[0] == "sharp"
    assert board["submitted"].tolist() == [True, False, False]
    assert board["oof_score"].iloc[0] == pytest.approx(log_loss(y[5:], oof["sharp"][5:]))
    weak = board.set_index("model").loc["weak"]
    assert weak["gap_low"] > 0 and not weak["tied"]  # this row minus top row: worse is positive
    assert board.set_index("model").loc["close", "tied"]
    assert (board["ci_low"] <= board["oof_score"]).all() and (board["oof_score"] <= board["ci_high"]).all()
    with pytest.raises(ValueError, match=r"log_loss is scored from probabilities: pass each row's losses"):
        leaderboard_frame(rows, predictions, y, 3, "log_loss", "log_loss")


def test_a_label_metric_leaderboard_keeps_its_columns_and_ranks_the_highest_first():
    assert leaderboard_columns("weighted_f1") == leaderboard_columns("macro_f1") == COLUMNS
    assert row_losses("weighted_f1", {"m": np.ones((2, 3)) / 3}, np.zeros(2, int)) is None
    rng = np.random.default_rng(7)
    y = rng.integers(0, 3, 300)
    rows = [{"model": m, "level": "base", "wf1_mean": v} for m, v in (("low", 0.4), ("high", 0.6))]
    predictions = {"low": rng.integers(0, 3, 300), "high": np.where(rng.random(300) < 0.8, y, 0)}
    board = leaderboard_frame(rows, predictions, y, 3, "macro_f1", "wf1_mean")
    assert board["model"].tolist() == ["high", "low"] and list(board.columns) == COLUMNS
    assert board["gap_low"].iloc[1] > 0


# --- tuning -------------------------------------------------------------------------------------------------------

def test_a_log_loss_study_minimises_and_a_study_of_the_other_direction_is_refused():
    storage = optuna.storages.InMemoryStorage()
    with quiet_optuna():
        study = open_study(storage, "s", 0, study_direction("log_loss"))
    assert study.direction == optuna.study.StudyDirection.MINIMIZE
    with quiet_optuna(), pytest.raises(ConfigError, match=r"study 's' was made to minimize its score, but this one is to maximize; "
                                          r"pass --study NEW_NAME"):
        open_study(storage, "s", 0, study_direction("accuracy"))


def test_tuning_a_log_loss_challenge_keeps_the_lowest_cv_log_loss():
    rng = np.random.default_rng(8)
    y, X = _stack(rng, 240, (2.0, 1.0, 0.3))
    data = StackData(X, y, np.arange(240) % 3, tuple(CLASSES), seed=0, n_jobs=1, metric="log_loss")
    with quiet_optuna():
        study = open_study(None, "log_pool", 0, study_direction(data.metric))
        study.optimize(make_objective(LogPool, {"floor": Range(1e-4, 0.5, log=True)}, data), n_trials=4)
    values = [t.value for t in study.trials]
    assert study.best_value == min(values) and study.best_value != max(values)
    assert cv_score(LogPool, study.best_params, data) == pytest.approx(study.best_value)
    positions = np.searchsorted(CLASSES, y)
    mean = cv_score(MeanBlend, {}, data)
    proba = MeanBlend(CLASSES).fit(X, y).predict_proba(X)
    assert mean == pytest.approx(np.mean([log_loss(positions[data.folds == k], proba[data.folds == k])
                                          for k in range(3)]))


# --- ensemble selection -------------------------------------------------------------------------------------------

def _overconfident_and_calibrated(rng: np.random.Generator, n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    """Two models: one right on 80% of the rows and certain of every answer (a wrong one costs 34.5), one right on
    70% with probability 0.6 each time: the first wins on labels, the second on log loss."""
    y_positions = rng.integers(0, 3, n)
    wrong = (y_positions + rng.integers(1, 3, n)) % 3
    sure = np.eye(3)[np.where(rng.random(n) < 0.8, y_positions, wrong)]
    guess = np.where(rng.random(n) < 0.7, y_positions, wrong)
    calibrated = np.full((n, 3), 0.2) + 0.4 * np.eye(3)[guess]
    return CLASSES[y_positions], np.hstack([sure, calibrated]).astype(np.float32)


@pytest.mark.parametrize(("metric", "picked"), [("accuracy", 0), ("weighted_f1", 0), ("log_loss", 1)])
def test_selection_picks_for_the_metric_in_its_direction(metric, picked):
    y, X = _overconfident_and_calibrated(np.random.default_rng(9))
    assert EnsembleSelection(CLASSES, rounds=1, metric=metric).fit(X, y).counts_.tolist() == \
        [int(picked == 0), int(picked == 1)]


def test_selection_minimises_the_log_loss_of_the_averaged_probabilities():
    rng = np.random.default_rng(10)
    y, X = _stack(rng, 400, (2.0, 1.5, 0.2))
    positions = np.searchsorted(CLASSES, y)
    selection = EnsembleSelection(CLASSES, rounds=12, metric="log_loss").fit(X, y)
    singles = [log_loss(positions, X[:, 3 * m:3 * m + 3]) for m in range(3)]
    assert selection.counts_.sum() == 12 and selection.counts_[2] < selection.counts_[0]
    assert log_loss(positions, selection.predict_proba(X)) <= min(singles)
    # every step took the model whose addition lowered the loss most: no single swap of one pick does better
    best = log_loss(positions, selection.predict_proba(X))
    for take in np.flatnonzero(selection.counts_):
        for give in range(3):
            counts = selection.counts_.astype(float).copy()
            counts[take] -= 1
            counts[give] += 1
            mixed = np.einsum("rmc,m->rc", X.reshape(len(y), 3, 3), counts / counts.sum())
            assert log_loss(positions, mixed) >= best - 0.01


# --- the configuration --------------------------------------------------------------------------------------------

def _log_loss_challenge(tmp_path) -> str:
    path = tmp_path / "challenge.toml"
    path.write_text('name = "authors"\ntrain = "train.csv"\ntest = "test.csv"\nlabel = "author"\ntext = ["text"]\n'
                    'classes = ["EAP", "HPL", "MWS"]\nmetric = "log_loss"\n')
    return str(path)


@pytest.mark.parametrize(("extra", "match"), [
    ("top_k = 2\n", r"top_k = 2 keeps 2 a row, but authors is scored by log_loss of every class's probability; "
                    r"set top_k = 0"),
    ('decisions = ["stage2"]\n', r"decision 'stage2' changes labels, but authors is scored by log_loss"),
    ('decisions = ["class_scaling"]\n', r"decision 'class_scaling' maximises weighted F1"),
])
def test_a_log_loss_challenge_refuses_top_k_and_decision_rules_in_one_line(tmp_path, extra, match):
    run = tmp_path / "run.toml"
    run.write_text(f'challenge = "{_log_loss_challenge(tmp_path)}"\nmodels = ["prior"]\n{extra}')
    with pytest.raises(ConfigError, match=match) as info:
        load_config(run)
    assert "\n" not in str(info.value)


def test_a_log_loss_challenge_runs_selection_for_its_metric(tmp_path):
    run = tmp_path / "run.toml"
    run.write_text(f'challenge = "{_log_loss_challenge(tmp_path)}"\nmodels = ["prior"]\nstackers = ["selection"]\n')
    config = load_config(run)
    assert config.params == {"selection": {"metric": "log_loss"}} and config.decisions == ()


# --- submissions: score and diff ----------------------------------------------------------------------------------

def _probability_files(tmp_path):
    spec = read_spec(Path(_log_loss_challenge(tmp_path)))
    truth = tmp_path / "truth.csv"
    truth.write_text("id,author\nid1,EAP\nid2,HPL\nid3,MWS\nid4,EAP\n")
    a = tmp_path / "a.csv"
    a.write_text("id,EAP,HPL,MWS\nid1,0.7,0.2,0.1\nid2,0.2,0.6,0.2\nid3,0.3,0.3,0.4\nid4,0.1,0.5,0.4\n")
    b = tmp_path / "b.csv"
    b.write_text("id,EAP,HPL,MWS\nid1,0.8,0.1,0.1\nid2,0.2,0.6,0.2\nid3,0.1,0.1,0.8\nid4,0.6,0.3,0.1\n")
    return spec, truth, a, b


def test_score_and_diff_of_probability_submissions_report_log_loss_lower_is_better(tmp_path):
    spec, truth, a, b = _probability_files(tmp_path)
    scores = score_submission(a, truth, spec)
    expected = -np.mean(np.log([0.7, 0.6, 0.4, 0.1]))
    assert scores["log_loss"] == pytest.approx(expected)
    line = score_line(scores, spec.metric)
    assert line.startswith(f"log_loss {expected:.4f} (lower is better)  weighted_f1 ") and line.endswith("rows 4")
    result = diff_submissions(a, b, spec, truth)
    assert (result.changed, result.right_a, result.right_b) == (1, 0, 1)
    assert result.log_loss_b == pytest.approx(-np.mean(np.log([0.8, 0.6, 0.8, 0.6])))
    assert diff_lines(result).endswith(f"(B {result.log_loss_b - result.log_loss_a:+.4f}, lower is better)")


def test_score_line_shows_a_label_challenge_metric_first():
    scores = {"wf1": 0.5, "accuracy": 0.6, "macro_f1": 0.4, "rows": 10}
    assert score_line(scores, "accuracy") == ("accuracy 0.6000 (higher is better)  weighted_f1 0.5000  "
                                              "macro_f1 0.4000  rows 10")
    assert score_line(scores, "weighted_f1").startswith("weighted_f1 0.5000 (higher is better)  accuracy 0.6000")


def test_every_metric_has_a_direction():
    assert set(METRICS) == {*LABEL_METRICS, "log_loss"}
    assert {name for name, m in METRICS.items() if not m.higher_is_better} == {"log_loss"}
