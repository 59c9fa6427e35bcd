"""Stratified bootstrap of the challenge metric: exact point scores, seeded draws, paired tests, coverage."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from stackfold.bootstrap import bootstrap_scores
from stackfold.competition.spec import class_frequencies
from stackfold.leaderboard import leaderboard_frame

N_CLASSES = 27


def classifier(rng: np.random.Generator, y: np.ndarray, accuracy: float) -> np.ndarray:
    """Right with probability ``accuracy``, else a uniformly drawn other class."""
    wrong = (y + rng.integers(1, N_CLASSES, len(y))) % N_CLASSES
    return np.where(rng.random(len(y)) < accuracy, y, wrong)


def twin_labels(n: int) -> np.ndarray:
    """``n`` rows in the Rakuten class proportions (the twin's), every class at least once, in class order."""
    frequencies = np.array(list(class_frequencies().values()), float)
    counts = np.maximum(1, np.round(n * frequencies / frequencies.sum())).astype(int)
    return np.repeat(np.arange(N_CLASSES), counts)


@pytest.mark.parametrize(("metric", "reference"), [
    ("weighted_f1", lambda y, p: f1_score(y, p, average="weighted", zero_division=0)),
    ("accuracy", accuracy_score),
])
def test_point_scores_equal_scikit_learn(metric, reference):
    rng = np.random.default_rng(0)
    y = twin_labels(600)
    predictions = np.column_stack([classifier(rng, y, a) for a in (0.3, 0.6, 0.9)])
    predictions[:5, 0] = 3  # a class predicted but rare
    scores = bootstrap_scores(y, predictions, N_CLASSES, metric, n_resamples=20)
    assert scores.point == pytest.approx([reference(y, predictions[:, m]) for m in range(3)], abs=1e-12)


def test_same_seed_same_draws_other_seed_other_draws():
    rng = np.random.default_rng(1)
    y = twin_labels(500)
    predictions = np.column_stack([classifier(rng, y, 0.7), classifier(rng, y, 0.6)])
    first, again, other = (bootstrap_scores(y, predictions, N_CLASSES, "weighted_f1", 200, seed=s) for s in (3, 3, 4))
    assert np.array_equal(first.draws, again.draws) and not np.array_equal(first.draws, other.draws)
    low, high = first.interval()
    assert np.all(low <= first.point) and np.all(first.point <= high) and np.all(low < high)


def test_resamples_are_stratified_and_paired():
    """A model always right scores 1 in every resample; identical models differ by exactly 0 in every resample."""
    rng = np.random.default_rng(2)
    y = twin_labels(400)
    noisy = classifier(rng, y, 0.5)
    scores = bootstrap_scores(y, np.column_stack([y, noisy, noisy]), N_CLASSES, "weighted_f1", 300)
    assert np.all(scores.draws[:, 0] == 1.0)
    assert np.all(scores.draws[:, 1] == scores.draws[:, 2])
    point, low, high = scores.gap(reference=0)
    assert point[0] == low[0] == high[0] == 0 and low[1] > 0


def test_leaderboard_marks_rows_not_significantly_worse_as_tied():
    rng = np.random.default_rng(3)
    y = twin_labels(3000)
    truth_models = {"strong": classifier(rng, y, 0.80), "close": classifier(rng, y, 0.795),
                    "weak": classifier(rng, y, 0.60)}
    rows = [{"model": name, "level": "base", "wf1_mean": mean, "wf1_std": 0.01, "accuracy": 0.0, "macro_f1": 0.0,
             "fit_s": 1.0, "predict_s": 0.1, "blank_images": 0}
            for name, mean in (("strong", 0.8), ("close", 0.79), ("weak", 0.6))]
    board = leaderboard_frame(rows, truth_models, y, N_CLASSES, "weighted_f1", "wf1_mean", seed=0).set_index("model")
    assert board["tied"].to_dict() == {"strong": True, "close": True, "weak": False}
    assert board.loc["strong", "submitted"] and not board.loc["close", "submitted"]
    assert (board["ci_low"] <= board["oof_score"]).all() and (board["oof_score"] <= board["ci_high"]).all()


def test_rows_a_model_left_uncovered_are_left_out_of_every_interval():
    rng = np.random.default_rng(4)
    y = twin_labels(300)
    full, holed = classifier(rng, y, 0.7), classifier(rng, y, 0.7)
    holed[:10] = -1
    rows = [{"model": m, "level": "base", "wf1_mean": v} for m, v in (("full", 0.7), ("holed", 0.6))]
    board = leaderboard_frame(rows, {"full": full, "holed": holed}, y, N_CLASSES, "accuracy", "wf1_mean")
    assert board.loc[0, "oof_score"] == pytest.approx(accuracy_score(y[10:], full[10:]))


@pytest.mark.slow
def test_95_percent_intervals_hold_the_true_weighted_f1_90_to_99_percent_of_the_time():
    """200 seeds of a 70%-accurate classifier on 2,000 rows in the twin's class proportions.

    Its true weighted F1 is the population value, from the expected counts (class k: 0.7 n_k
    right, predicted 0.7 n_k + 0.3 (N - n_k) / 26 times). Accuracy goes through the same
    resampling (measured: 94.5% coverage too).
    """
    y = twin_labels(2000)
    n = np.bincount(y, minlength=N_CLASSES).astype(float)
    expected_predicted = 0.7 * n + 0.3 * (n.sum() - n) / (N_CLASSES - 1)
    true_score = float((n / n.sum() * 1.4 * n / (n + expected_predicted)).sum())
    held = 0
    for seed in range(200):
        predicted = classifier(np.random.default_rng(seed), y, 0.7)
        low, high = bootstrap_scores(y, predicted, N_CLASSES, "weighted_f1", 1000, seed=seed).interval()
        held += bool(low[0] <= true_score <= high[0])
    assert 180 <= held <= 198, f"{held / 200:.1%} of the intervals hold {true_score:.4f}"
