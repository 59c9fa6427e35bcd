"""The contract every base model and stacker must meet, and the OOF runner's guarantees."""

from functools import partial

import numpy as np
import pandas as pd
import pytest
from scipy.special import softmax
from sklearn.feature_extraction.text import CountVectorizer

from stackfold.competition.challenges import rakuten
from stackfold.core.blocks import ImageBlock, Views, take_rows
from stackfold.core.cv import cross_validate
from stackfold.core.estimator import BaseModel
from stackfold.ensembles import DECISIONS, STACKERS
from stackfold.errors import ConfigError
from stackfold.features.language import LANGUAGE_FLAG_NAMES, language_flags
from stackfold.features.views import VIEWS
from stackfold.model_files import FittedModels
from stackfold.models import BASE_MODELS

CLASSES = rakuten().classes
WORDS = {c: [f"mot{c}a", f"mot{c}b", f"word{c}"] for c in CLASSES}


def _views(y: np.ndarray, rng: np.random.Generator) -> Views:
    """Every built-in view for rows whose content depends on the label ``y``."""
    texts = [" ".join(rng.choice(WORDS[c], 4)) + " commun" for c in y]
    text = pd.DataFrame({"text": texts, "tokens": texts, "language": "fr", "token_len": 5})
    text[list(LANGUAGE_FLAG_NAMES)] = language_flags(np.array(["fr"] * len(y), dtype=object))
    counts = {
        name: CountVectorizer(analyzer=analyzer, dtype=np.float32).fit_transform(texts)
        for name, analyzer in (("word_counts", "word"), ("title_counts", "word"), ("char_counts", "char_wb"),
                               ("title_char_counts", "char_wb"))
    }
    # image views: one or two 16x16 images per product, label-dependent
    owner = np.repeat(np.arange(len(y)), 1 + np.arange(len(y)) % 2)
    signal = np.searchsorted(CLASSES, y)[owner].astype(np.float32) / len(CLASSES)
    images = (rng.integers(0, 128, size=(len(owner), 16, 16, 3)) + 127 * signal[:, None, None, None]).astype(np.uint8)
    features = {name: rng.normal(size=(len(owner), width)).astype(np.float32)
                for name, width in (("color", 27), ("pixels", 48), ("vgg16", 512), ("efficientnet", 1280))}
    for block in features.values():
        block[:, 0] += 10 * signal
    image_views = {name: ImageBlock.whole(data, owner, len(y)) for name, data in {**features, "images": images}.items()}
    sentence = rng.normal(size=(len(y), 512)).astype(np.float32)
    sentence[:, 0] += 10 * np.searchsorted(CLASSES, y) / len(CLASSES)
    return Views({"rows": pd.DataFrame(index=range(len(y))), "text": text, **counts, "sentence": sentence,
                  **image_views})


def _inputs(model_class, y: np.ndarray, n_new: int, rng: np.random.Generator):
    """Training rows for ``y`` and ``n_new`` more rows, in the form ``model_class`` reads."""
    y_all = np.concatenate([y, y[:n_new]])
    if model_class.views:
        views = _views(y_all, rng)
        X = Views({name: views[name] for name in model_class.views})
    else:  # stackers and decision rules read blocks of class probabilities, here of two models
        logits = rng.normal(size=(len(y_all), 2, len(CLASSES)))
        logits[np.arange(len(y_all)), :, np.searchsorted(CLASSES, y_all)] += 2.0
        X = softmax(logits, axis=2).reshape(len(y_all), -1).astype(np.float32)
    return take_rows(X, np.arange(len(y))), take_rows(X, np.arange(len(y), len(y_all)))


ALL_MODELS = {**BASE_MODELS, **STACKERS, **DECISIONS}


SLOW_MODELS = {"vgg_fusion", "efficientnet_nn", "fusion", "sentence_nn", "cnn", "vgg_nn", "text_nn", "pixel_svc"}
"""Nets and the calibrated pixel SVC: several seconds each, so `make test-fast` leaves them to `make test`."""


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_MODELS else n
                                  for n in sorted(ALL_MODELS)])
def test_model_contract(name, tmp_path):
    model_class = ALL_MODELS[name]
    rng = np.random.default_rng(0)
    present = [c for c in CLASSES if c not in (1180, 2905)]  # two classes absent from training
    y = np.array(present * 8)
    X, X_new = _inputs(model_class, y, 10, rng)

    model = model_class(classes=CLASSES, seed=1, n_jobs=1).fit(X, y)
    proba = model.predict_proba(X_new)
    assert proba.shape == (10, len(CLASSES))
    assert np.all(proba >= 0) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    absent = [CLASSES.index(1180), CLASSES.index(2905)]
    assert np.all(proba[:, absent] == 0)
    assert set(model.predict(X_new)) <= set(CLASSES)
    assert model.fit_seconds_ > 0 and model.predict_seconds_ > 0

    again = model_class(classes=CLASSES, seed=1, n_jobs=1).fit(X, y).predict_proba(X_new)
    assert np.array_equal(proba, again), "same seed must give the same probabilities"

    saved = FittedModels(tmp_path)  # kept by every run, loaded by `stackfold predict`: the same probabilities
    saved.save(0, model)
    assert np.array_equal(saved.load(0, n_jobs=1).predict_proba(X_new), proba)

    with pytest.raises(ConfigError, match="has no parameter 'not_a_param'"):
        model_class(classes=CLASSES, not_a_param=1)
    assert set(model_class.views) <= set(VIEWS)
    for param, declared in model_class.parameters.items():
        assert declared.problem(declared.default) is None, f"{name}: default of {param} outside its declaration"
    if model_class.parameters:  # a value of another type is refused by the declaration, before any fitting
        param, declared = next(iter(model_class.parameters.items()))
        with pytest.raises(ConfigError, match=rf"\[params\.{name}\] {param} = .*: expected"):
            model_class(classes=CLASSES, **{param: object()})


class _Memoriser(BaseModel):
    """Predicts the label of a row it saw; records what it trained on."""

    name = "memoriser"
    view = "stack"
    seen: list[set[int]] = []

    def _fit(self, X, y):
        self.table_ = dict(zip(X[:, 0].astype(int), y))
        self.seen.append(set(self.table_))

    def _predict_proba(self, X):
        proba = np.full((len(X), len(self.classes)), 1e-9)
        for i, row in enumerate(X[:, 0].astype(int)):
            proba[i, self.table_.get(row, 0)] = 1.0
        return proba / proba.sum(axis=1, keepdims=True)


def _memoriser_data(n=60):
    y = np.array([CLASSES[i % 3] for i in range(n)])
    X = np.arange(n, dtype=np.float64).reshape(-1, 1)
    folds = np.arange(n) % 5
    return X, y, folds


def test_oof_comes_only_from_models_that_never_saw_the_row():
    X, y, folds = _memoriser_data()
    _Memoriser.seen = []
    result = cross_validate(partial(_Memoriser, classes=CLASSES), X, y, X[:4], folds, name="memoriser")
    for fold, seen in enumerate(_Memoriser.seen):
        assert seen.isdisjoint(np.flatnonzero(folds == fold))
    # a memoriser scored on rows it trained on would be perfect; out of fold it is not
    assert result.scores["wf1"].max() < 0.5
    assert result.oof.shape == (60, len(CLASSES)) and result.test.shape == (4, len(CLASSES))


def test_rows_no_fold_covered_stay_nan():
    X, y, folds = _memoriser_data()
    folds[:3] = -1  # never a validation row
    result = cross_validate(partial(_Memoriser, classes=CLASSES), X, y, X[:4], folds, name="memoriser")
    assert np.isnan(result.oof[:3]).all()
    assert not np.isnan(result.oof[3:]).any()


def test_finished_folds_are_reused_after_interruption(tmp_path):
    X, y, folds = _memoriser_data()

    class _FailsOnFold3(_Memoriser):
        calls = 0

        def _fit(self, X, y):
            type(self).calls += 1
            if type(self).calls == 3:
                raise KeyboardInterrupt
            super()._fit(X, y)

    with pytest.raises(KeyboardInterrupt):
        cross_validate(partial(_FailsOnFold3, classes=CLASSES), X, y, X[:4], folds, name="memoriser",
                       checkpoint_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fold_0.npz", "fold_1.npz"]
    _Memoriser.seen = []
    resumed = cross_validate(partial(_Memoriser, classes=CLASSES), X, y, X[:4], folds, name="memoriser",
                             checkpoint_dir=tmp_path)
    assert len(_Memoriser.seen) == 3  # folds 2, 3, 4 only
    fresh = cross_validate(partial(_Memoriser, classes=CLASSES), X, y, X[:4], folds, name="memoriser")
    assert np.array_equal(resumed.oof, fresh.oof) and np.array_equal(resumed.test, fresh.test)


def test_refit_predicts_test_with_a_model_fitted_on_all_rows():
    X, y, folds = _memoriser_data()
    result = cross_validate(partial(_Memoriser, classes=CLASSES), X, y, X[:10], folds, name="memoriser", refit=True)
    assert np.array_equal(np.array(CLASSES)[result.test.argmax(axis=1)], y[:10])
    assert result.scores["fold"].tolist() == [0, 1, 2, 3, 4, -1]
