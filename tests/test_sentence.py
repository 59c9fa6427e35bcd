"""The sentence view: what a product's input is, batched resumable encoding, the real offline encoder."""

import numpy as np
import pandas as pd
import pytest

from stackfold.competition import load_competition, rakuten
from stackfold.errors import ConfigError
from stackfold.features.sentence import N_FEATURES, SentenceEncoder, encode_texts, sentence_inputs
from stackfold.features.store import FeatureStore
from stackfold.features.views import PARTIAL_STEM, view_params

COLUMNS = ("designation", "description")


@pytest.mark.parametrize(
    "title, description, chars, expected",
    [
        ("Lampe", "Belle lampe de chevet en laiton", 600, "Lampe Belle lampe de chevet en laiton"),
        ("Lampe", "Belle lampe de chevet en laiton", 14, "Lampe Belle lampe"),  # no word cut in two
        ("Lampe", "Belle lampe de chevet", 0, "Lampe"),
        ("Lampe &amp; <b>abat-jour</b>", "<p>Lot de 2</p>", 600, "Lampe & abat-jour Lot de 2"),
        ("Lampe", None, 600, "Lampe"),
        ("Lampe", "Unmotsansespacesbeaucouptroplong", 5, "Lampe Unmot"),
    ],
)
def test_input_is_the_title_and_the_start_of_the_description(title, description, chars, expected):
    frame = pd.DataFrame({"designation": [title], "description": [description]})
    assert sentence_inputs(frame, COLUMNS, chars) == [expected]


class CountingEncoder:
    """A stand-in encoder that records its batches and can fail on a given call."""

    def __init__(self, fail_on_call: int | None = None):
        self.calls: list[list[str]] = []
        self.fail_on_call = fail_on_call

    def __call__(self, texts: list[str]) -> np.ndarray:
        if len(self.calls) == self.fail_on_call:
            raise KeyboardInterrupt
        self.calls.append(list(texts))
        return np.stack([np.full(N_FEATURES, len(t), dtype=np.float32) for t in texts])


def test_an_interrupted_encoding_resumes_without_encoding_a_finished_batch_again(tmp_path):
    texts = [f"produit {'x' * i}" for i in range(10)]
    interrupted = CountingEncoder(fail_on_call=2)
    with pytest.raises(KeyboardInterrupt):
        encode_texts(texts, interrupted, tmp_path / "train.partial.npy", 3, "train")
    resumed = CountingEncoder()
    vectors = encode_texts(texts, resumed, tmp_path / "train.partial.npy", 3, "train")

    assert interrupted.calls == [texts[0:3], texts[3:6]]
    assert resumed.calls == [texts[6:9], texts[9:10]]
    uninterrupted = encode_texts(texts, CountingEncoder(), tmp_path / "again.partial.npy", 3, "train")
    assert vectors.tobytes() == uninterrupted.tobytes()


def test_real_encoder_gives_unit_vectors_that_place_french_paraphrases_together():
    vectors = SentenceEncoder(n_threads=1)(
        ["Lampe de chevet en laiton", "Petite lampe de nuit en cuivre", "Jeu vidéo de football pour console", ""]
    )
    assert vectors.shape == (4, N_FEATURES) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, atol=1e-4)
    similarity = vectors[:3] @ vectors[:3].T
    assert similarity[0, 1] > similarity[0, 2] + 0.1
    assert SentenceEncoder()([]).shape == (0, N_FEATURES)


@pytest.mark.slow
def test_sentence_view_of_the_real_sample_is_cached_without_partial_files(rakuten_sample, tmp_path):
    data = load_competition(rakuten_sample, rakuten(), images=False)
    options = {"sentence": {"description_chars": 100}}
    store = FeatureStore(data, tmp_path, options)
    train, test = store.get("sentence")

    assert train.shape == (300, N_FEATURES) and test.shape == (499, N_FEATURES)
    folder = store.folder("sentence")
    assert sorted(p.name for p in folder.iterdir()) == ["done", "test.npy", "train.npy"]
    assert not list(folder.glob(f"*{PARTIAL_STEM}*"))
    again, _ = FeatureStore(data, tmp_path, options).get("sentence")
    assert np.array_equal(again, train)


@pytest.mark.parametrize(
    "given, message",
    [({"description_chars": -1}, r"\[features.sentence\] description_chars = -1: must be at least 0"),
     ({"description_chars": 1.5}, r"expected int"),
     ({"batch_size": 0}, r"batch_size = 0: must be at least 1"),
     ({"chars": 10}, r"has no parameter 'chars'")],
)
def test_bad_sentence_parameters_are_one_line_errors(given, message):
    with pytest.raises(ConfigError, match=message):
        view_params("sentence", {"sentence": given})
