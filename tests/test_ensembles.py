"""Stackers' own behaviour beyond the contract: blends, ensemble selection, decision rules, SHAP shares."""

import numpy as np
import pytest
from scipy.optimize import check_grad
from scipy.special import softmax

from stackfold.competition.metric import accuracy, weighted_f1
from stackfold.competition.challenges import rakuten
from stackfold.core.stack import column_groups
from stackfold.ensembles.blend import LogPool, MeanBlend, WeightedBlend
from stackfold.ensembles.decide import ClassScaling, StageTwo, confusable_groups
from stackfold.ensembles.lgbm import LGBMStacker
from stackfold.ensembles.selection import EnsembleSelection
from stackfold.errors import ConfigError
from stackfold.explain import model_contributions
from stackfold.features.meta import confidence_features

CLASSES = np.array(rakuten().classes)
N = 1500


def _stack(strengths, seed=0, confuse=()):
    """Labels and a stack matrix of one probability block per model strength."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(CLASSES), N)
    blocks = []
    for strength in strengths:
        logits = rng.normal(size=(N, len(CLASSES)))
        logits[np.arange(N), y] += strength
        for a, b in confuse:  # make a pair of classes look alike to every model
            rows = np.isin(y, [a, b])
            logits[np.ix_(rows, [a, b])] = logits[np.ix_(rows, [a, b])].mean(axis=1, keepdims=True)
        blocks.append(softmax(logits, axis=1))
    return CLASSES[y], np.hstack(blocks).astype(np.float32)


def test_log_pool_multiplies_the_evidence_of_models_that_agree_and_ignores_noise():
    y, X = _stack([1.5, 1.5, 0.0])
    pool = LogPool(CLASSES).fit(X, y)
    assert pool.weights_[2] < 0.1 * pool.weights_[:2].min() and np.all(pool.weights_ >= 0)
    # two independent, equally weak models: pooling their logs beats averaging their probabilities
    assert weighted_f1(y, pool.predict(X)) > weighted_f1(y, MeanBlend(CLASSES).fit(X, y).predict(X)) + 0.01


def test_weighted_blend_prefers_the_informative_model():
    y, X = _stack([3.0, 0.0, 0.5])
    blend = WeightedBlend(CLASSES).fit(X, y)
    assert np.isclose(blend.weights_.sum(), 1.0) and blend.weights_.argmax() == 0
    assert weighted_f1(y, blend.predict(X)) >= weighted_f1(y, MeanBlend(CLASSES).fit(X, y).predict(X))


def test_weighted_blend_gradient_is_exact():
    y, X = _stack([1.0, 2.0])
    blend = WeightedBlend(CLASSES)
    captured = {}

    def spy(fun, x0, jac, method, options):
        captured["fun"] = fun
        return type("Result", (), {"x": x0})()

    import stackfold.ensembles.blend as blend_module

    original = blend_module.minimize
    blend_module.minimize = spy
    try:
        blend.fit(X, y)
    finally:
        blend_module.minimize = original
    fun = captured["fun"]
    assert check_grad(lambda t: fun(t)[0], lambda t: fun(t)[1], np.array([0.3, -0.2])) < 1e-5


def test_mean_blend_skips_uncovered_rows():
    y, X = _stack([2.0, 2.0])
    X[:5, : len(CLASSES)] = np.nan
    proba = MeanBlend(CLASSES).fit(X, y).predict_proba(X)
    assert np.allclose(proba[:5], X[:5, len(CLASSES):] / X[:5, len(CLASSES):].sum(axis=1, keepdims=True))


def _confidently_wrong(y, seed):
    """A block of one-hot probabilities of random classes: a model sure of itself and right by chance only."""
    guesses = np.random.default_rng(seed).integers(0, len(CLASSES), len(y))
    return np.eye(len(CLASSES), dtype=np.float32)[guesses]


def test_selection_puts_every_pick_on_the_one_perfect_model():
    y, perfect = _stack([12.0])
    positions = np.searchsorted(CLASSES, y)
    X = np.hstack([_confidently_wrong(positions, 1), perfect, _confidently_wrong(positions, 2)])
    selection = EnsembleSelection(CLASSES, rounds=10).fit(X, y)
    assert selection.counts_.tolist() == [0, 10, 0] and selection.weights_.tolist() == [0.0, 1.0, 0.0]
    assert weighted_f1(y, selection.predict(X)) == 1.0


def test_selection_weights_count_picks_of_rounds_and_the_best_model_leads():
    y, X = _stack([1.0, 2.5, 1.5, 0.0])
    selection = EnsembleSelection(CLASSES, rounds=7).fit(X, y)
    assert selection.counts_.sum() == 7 and np.allclose(selection.weights_ * 7, selection.counts_)
    assert selection.weights_.argmax() == 1
    singles = [weighted_f1(y, CLASSES[X[:, m * len(CLASSES):(m + 1) * len(CLASSES)].argmax(axis=1)]) for m in range(4)]
    assert weighted_f1(y, selection.predict(X)) >= max(singles)
    # the same rows and parameters give the same weights whatever the seed: nothing is drawn at random
    assert EnsembleSelection(CLASSES, rounds=7, seed=5).fit(X, y).counts_.tolist() == selection.counts_.tolist()


def test_selection_ties_go_to_the_earlier_model_and_init_starts_from_the_best_singles():
    y, X = _stack([2.0])
    assert EnsembleSelection(CLASSES, rounds=5).fit(np.hstack([X, X]), y).counts_.tolist() == [5, 0]
    y, X = _stack([2.0, 0.0, 1.0])
    started = EnsembleSelection(CLASSES, rounds=4, init=2).fit(X, y).counts_
    assert started[0] >= 1 and started[2] >= 1 and started.sum() == 4
    assert EnsembleSelection(CLASSES, rounds=2, init=5).fit(X, y).counts_.tolist() == [1, 0, 1]  # init <= rounds
    assert EnsembleSelection(CLASSES, rounds=9, init=5).fit(X, y).counts_.sum() == 9  # init <= the models


def test_selection_maximises_the_metric_it_is_given():
    y, X = _stack([1.0, 1.2, 0.8])
    for metric, score in (("accuracy", accuracy), ("weighted_f1", weighted_f1)):
        selection = EnsembleSelection(CLASSES, rounds=1, metric=metric).fit(X, y)
        singles = [score(y, CLASSES[X[:, m * len(CLASSES):(m + 1) * len(CLASSES)].argmax(axis=1)]) for m in range(3)]
        assert selection.counts_.argmax() == int(np.argmax(singles))


@pytest.mark.parametrize(("params", "match"), [
    ({"rounds": 0}, r"\[params\.selection\] rounds = 0: must be at least 1"),
    ({"init": 0}, r"init = 0: must be at least 1"),
    ({"metric": "f1"}, r"metric = 'f1': expected one of 'accuracy', 'weighted_f1'"),
    ({"rounds": 2.5}, r"rounds = 2.5: expected int"),
])
def test_selection_refuses_bad_parameters(params, match):
    with pytest.raises(ConfigError, match=match):
        EnsembleSelection(CLASSES, **params)


def test_class_scaling_never_lowers_training_score():
    y, X = _stack([1.2])
    scaling = ClassScaling(CLASSES).fit(X, y)
    assert weighted_f1(y, scaling.predict(X)) >= weighted_f1(y, CLASSES[X.argmax(axis=1)])
    assert np.all(scaling.scales_ > 0)


def test_confusable_groups_found_from_confusion():
    y = np.array([0] * 50 + [1] * 50 + [2] * 50)
    predicted = y.copy()
    predicted[:10] = 1  # 0 and 1 confused both ways, 2 only once
    predicted[60:70] = 0
    predicted[100] = 0
    assert [g.tolist() for g in confusable_groups(y, predicted, 3, threshold=0.05)] == [[0, 1]]


def test_stage_two_redecides_a_confused_pair():
    books = [int(np.flatnonzero(CLASSES == c)[0]) for c in (10, 2280)]
    y, X = _stack([4.0, 4.0], confuse=[books])
    # a third informative block that only a group model would learn to use for the pair
    rng = np.random.default_rng(1)
    hint = rng.normal(size=(N, len(CLASSES))).astype(np.float32)
    hint[:, 0] += np.where(y == 10, 4.0, 0.0)
    X = np.hstack([X[:, : len(CLASSES)], X, hint])
    train, test = np.arange(1000), np.arange(1000, N)
    stage = StageTwo(CLASSES, min_rows=20, max_rounds=60).fit(X[train], y[train])
    assert stage.groups_ == [[10, 2280]]
    pair = np.isin(y[test], [10, 2280])
    before = (CLASSES[X[test][pair, : len(CLASSES)].argmax(axis=1)] == y[test][pair]).mean()
    after = (stage.predict(X[test])[pair] == y[test][pair]).mean()
    assert after > before + 0.1


def test_shap_shares_sum_to_one_and_follow_signal():
    y, X = _stack([3.0, 0.0])
    stacker = LGBMStacker(CLASSES, n_jobs=1, max_rounds=40).fit(X, y)
    overall, per_class = model_contributions(stacker, X[:300], column_groups(["strong", "noise"], CLASSES, []))
    assert overall.sum() == pytest.approx(1.0) and overall.index[0] == "strong" and overall["strong"] > 0.7
    assert per_class.shape == (len(CLASSES), 2) and np.allclose(per_class.sum(axis=1), 1.0)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_shap_shares_of_a_class_the_trees_never_split_for_are_zero_without_warning():
    y, X = _stack([3.0, 0.0])
    lone = CLASSES[5]
    y[y == lone] = CLASSES[6]
    y[0] = lone  # one row: below min_data_in_leaf, its trees never split, its |SHAP| sums to 0
    stacker = LGBMStacker(CLASSES, n_jobs=1, max_rounds=40).fit(X, y)
    overall, per_class = model_contributions(stacker, X[:300], column_groups(["strong", "noise"], CLASSES, []))
    assert per_class.loc[lone].tolist() == [0.0, 0.0]
    assert np.allclose(per_class.drop(index=lone).sum(axis=1), 1.0) and overall.sum() == pytest.approx(1.0)


def test_confidence_features_are_max_and_entropy_per_model():
    stack = np.array([[1.0, 0.0, 0.5, 0.5], [np.nan, np.nan, 0.9, 0.1]])
    frame = confidence_features(stack, ["a", "b"], 2)
    assert list(frame.columns) == ["a__max_proba", "a__entropy", "b__max_proba", "b__entropy"]
    assert frame["a__entropy"][0] == 0.0 and frame["b__entropy"][0] == pytest.approx(np.log(2))
    assert np.isnan(frame["a__max_proba"][1]) and np.isnan(frame["a__entropy"][1])
    assert frame["b__max_proba"].tolist() == [0.5, 0.9]


def test_column_groups_credit_confidence_to_its_model():
    groups = column_groups(["a", "b"], [1, 2], ["a__max_proba", "b__entropy", "meta__token_len"])
    assert groups == ["a", "a", "b", "b", "a", "b", "meta"]
