"""Every base model, stacker and decision rule survives degenerate training data with valid probabilities.

A run must not be lost because one fold is odd: all texts alike or empty, blank training images,
a fold lacking classes or holding one, three rows, one row. Each model fits and returns, for the
new rows, one probability row per product over every class of the competition, summing to one,
with nothing on a class it never saw. Stackers and decision rules read a stack matrix instead; where
base models' features are degenerate, every row of it is the same.
"""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.special import softmax
from sklearn.feature_extraction.text import CountVectorizer

from stackfold.competition.challenges import rakuten
from stackfold.core.blocks import ImageBlock, Views, take_rows
from stackfold.ensembles import DECISIONS, STACKERS
from stackfold.features.language import LANGUAGE_FLAG_NAMES, language_flags
from stackfold.models import BASE_MODELS
from stackfold.models.keras_support import standardisation

CLASSES = np.array(rakuten().classes)
ALL_MODELS = {**BASE_MODELS, **STACKERS, **DECISIONS}
N_NEW = 4
TINY = {"epochs": 2, "batch_size": 8}  # keras nets: a couple of epochs is enough to prove they fit
FAST = {"vgg_fusion": {"units": 16, "text_units": 16, "image_units": 16, "image_embedding_units": 16,
                       **{f"{p}{k}": v for p in ("", "text_", "image_") for k, v in TINY.items()}},
        "fusion": {f"{p}{k}": v for p in ("", "text_") for k, v in TINY.items()},
        **{name: TINY for name in ("text_nn", "sentence_nn", "cnn", "vgg_nn", "efficientnet_nn")}}

SCENARIOS = {
    # name: (class positions of the training rows, text of every product or None, blank training images)
    "one_token": (np.repeat(np.arange(6), 4), "produit", False),
    "no_token": (np.repeat(np.arange(6), 4), "", False),
    "missing_classes": (np.repeat([0, 7, 19], 6), None, False),
    "one_class": (np.full(12, 5), None, False),
    "blank_images": (np.repeat(np.arange(6), 4), None, True),
    "three_rows": (np.array([0, 1, 2]), None, False),
    "one_row": (np.array([4]), None, False),
}


def _texts(y: np.ndarray, text: str | None, rng: np.random.Generator) -> list[str]:
    if text is not None:
        return [text] * len(y)
    return [" ".join(rng.choice([f"mot{c}a", f"mot{c}b", f"word{c}"], 3)) + " commun" for c in y]


def _counts(texts: list[str], analyzer: str) -> sp.csr_matrix:
    """Counts as the feature builder makes them; no columns when no text has a token."""
    if not any(texts):
        return sp.csr_matrix((len(texts), 0), dtype=np.float32)
    return CountVectorizer(analyzer=analyzer, dtype=np.float32).fit_transform(texts).tocsr()


def _views(y: np.ndarray, text: str | None, blank: np.ndarray, rng: np.random.Generator) -> Views:
    """Every built-in view of products labelled ``y`` (positions), all with ``text`` if given, the images
    of products ``blank`` (a mask) white."""
    texts = _texts(y, text, rng)
    frame = pd.DataFrame({"text": texts, "tokens": texts, "language": "fr",
                          "token_len": [len(t.split()) for t in texts]})
    frame[list(LANGUAGE_FLAG_NAMES)] = language_flags(np.array(["fr"] * len(y), dtype=object))
    owner = np.repeat(np.arange(len(y)), 1 + np.arange(len(y)) % 2)
    signal = (y[owner] / len(CLASSES)).astype(np.float32)
    widths = {"color": 27, "pixels": 48, "vgg16": 512, "efficientnet": 1280}
    noise = rng.integers(0, 128, size=(len(owner), 16, 16, 3))
    images = (noise + 127 * signal[:, None, None, None]).astype(np.uint8)
    features = {name: rng.normal(size=(len(owner), width)).astype(np.float32) + 5 * signal[:, None]
                for name, width in widths.items()}
    white = blank[owner]  # white pictures: the same image, so the same features, for every one
    images[white] = 255
    for name, width in widths.items():
        features[name][white] = rng.normal(size=width).astype(np.float32)
    blocks = {name: ImageBlock.whole(data, owner, len(y)) for name, data in {**features, "images": images}.items()}
    sentence = rng.normal(size=(len(y), 512)).astype(np.float32) + 5 * (y / len(CLASSES))[:, None].astype(np.float32)
    words, chars = _counts(texts, "word"), _counts(texts, "char_wb")
    return Views({"rows": pd.DataFrame(index=range(len(y))), "text": frame, "word_counts": words, "char_counts": chars,
                  "title_counts": words, "title_char_counts": chars, "sentence": sentence, **blocks})


def _stack(y: np.ndarray, constant: bool, rng: np.random.Generator) -> np.ndarray:
    """Two models' probability blocks (a decision rule reads the first as its stacker's); with ``constant``
    every row is the same, as base models give when their features are (text or images degenerate)."""
    logits = rng.normal(size=(len(y), 2, len(CLASSES)))
    if constant:
        logits[:] = logits[0]
    else:
        logits[np.arange(len(y)), :, y] += 2.0
    return softmax(logits, axis=2).reshape(len(y), -1).astype(np.float32)


def _inputs(name: str, scenario: str):
    """Training rows, their labels (class codes) and ``N_NEW`` new rows of ``scenario`` for model ``name``."""
    y, text, blank = SCENARIOS[scenario]
    y_all = np.resize(y, len(y) + N_NEW)
    rng = np.random.default_rng(0)
    if ALL_MODELS[name].views:  # blank images in training only: new rows differ from what the model saw
        views = _views(y_all, text, blank & (np.arange(len(y_all)) < len(y)), rng)
        X = Views({view: views[view] for view in ALL_MODELS[name].views})
    else:
        X = _stack(y_all, text is not None or blank, rng)
    return take_rows(X, np.arange(len(y))), CLASSES[y], take_rows(X, np.arange(len(y), len(y_all)))


SLOW = {"vgg_fusion"}  # three keras nets per fit: ~5 s even this small
NAMES = [pytest.param(name, marks=pytest.mark.slow) if name in SLOW else name for name in sorted(ALL_MODELS)]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("name", NAMES)
def test_model_survives_degenerate_training_data(name, scenario):
    X, y, X_new = _inputs(name, scenario)
    model = ALL_MODELS[name](classes=CLASSES, seed=0, n_jobs=1, **FAST.get(name, {})).fit(X, y)
    proba = model.predict_proba(X_new)

    assert proba.shape == (N_NEW, len(CLASSES))
    assert np.all(np.isfinite(proba)) and np.all(proba >= 0) and np.allclose(proba.sum(axis=1), 1.0)
    assert np.all(proba[:, ~np.isin(CLASSES, y)] == 0), "a class absent from training gets no probability"


@pytest.mark.parametrize("name", ["tfidf_logreg", "logreg", "linear_svc", "rbf_svc", "complement_nb"])
def test_text_model_predicts_the_training_prior_when_its_texts_have_no_token(name):
    y = np.array([0] * 6 + [3] * 3 + [8] * 3)
    views = _views(np.resize(y, len(y) + N_NEW), "", np.zeros(len(y) + N_NEW, bool), np.random.default_rng(0))
    X = Views({view: views[view] for view in BASE_MODELS[name].views})
    model = BASE_MODELS[name](classes=CLASSES, n_jobs=1).fit(take_rows(X, np.arange(len(y))), CLASSES[y])
    prior = np.bincount(y, minlength=len(CLASSES)) / len(y)
    assert np.allclose(model.predict_proba(take_rows(X, np.arange(len(y), len(y) + N_NEW))), prior)


def test_standardisation_leaves_a_feature_constant_in_training_unscaled():
    features = np.array([[1.0, 0.7, 0.0]] * 7 + [[3.0, 0.7, 0.0]] * 3, dtype=np.float32)
    assert features[:, 1].var() > 0  # 0.7 ten times over: a float32 rounding error, not a spread
    mean, variance = standardisation(features)
    assert variance.tolist() == [pytest.approx(0.84), 1.0, 1.0] and variance.dtype == np.float32
    assert np.array_equal(mean, features.mean(axis=0))
