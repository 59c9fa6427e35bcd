"""Language detection on the real Rakuten sample, the two-pass rule and hostile inputs."""

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_info

from stackfold.features import language
from stackfold.features.language import LANGUAGE_FLAG_NAMES, detect_languages, language_flags
from stackfold.features.text import title_descr

LONG_FRENCH = "Poupée en tissu pour enfants, livrée avec sa robe et son chapeau. " * 1_600


@pytest.fixture(scope="module")
def sample(rakuten_sample) -> tuple[pd.DataFrame, np.ndarray]:
    frame = pd.read_csv(rakuten_sample / "X_train_update.csv", index_col=0, keep_default_na=False)
    texts = title_descr(frame)
    return frame, detect_languages(texts)


@pytest.mark.parametrize(
    "row, expected",
    [
        (0, "de"),  # Olivia: Personalisiertes Notizbuch / 150 Seiten / Punktraster ...
        (6, "de"),  # Christof E: Bildungsprozessen Auf Der Spur
        (131, "de"),  # Dr. Mercurius' Heilsame Reise Zum Planeten Erde
        (10, "en"),  # Eames Inspired Sxw Chair ... The timeless DSW seat can now be paired ...
        (12, "en"),  # Peaceable Kingdom Wheres Bear? The Hide And Find Stacking Block Game ...
        (202, "en"),  # Amanda Family Amandas Kitchen ... Equipment and furniture for playing ...
        (247, "en"),  # Loop Transfer Recovery: Analysis And Design ...
        (4, "fr"),  # La Guerre Des Tuques Luc a des idées de grandeur ...
        (13, "fr"),  # Paire De Voilages Imprimés Fantaisie ...
        (56, "fr"),  # Ne Regardez Pas Le Voleur Qui Passe ...
        (262, "fr"),  # Un Os À Ronger Lorsque la police découvre le cadavre ...
    ],
)
def test_sample_rows_picked_by_hand(sample, row, expected):
    frame, languages = sample
    assert languages[frame.index.get_loc(row)] == expected


def test_sample_is_mostly_french(sample):
    frame, languages = sample
    assert languages.dtype == object and languages.shape == (len(frame),)
    assert np.mean(languages == "fr") > 0.6
    assert set(languages) >= {"fr", "en", "de"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Sabre laser", "fr"),  # langid: es 0.98, then fr above en
        ("Bobine Mario", "en"),  # langid: es 0.57, then en above fr
    ],
)
def test_low_confidence_goes_to_french_or_english_whichever_ranks_higher(text, expected):
    ranked = language._identifier().rank(text)
    top, probability = ranked[0]
    assert top not in ("fr", "en") and probability < 0.9999
    assert next(code for code, _ in ranked if code in ("fr", "en")) == expected
    assert detect_languages([text])[0] == expected


@pytest.mark.parametrize("threshold, expected", [(0.0, "es"), (1.01, "fr")])
def test_threshold_decides_which_detections_are_kept(threshold, expected):
    assert detect_languages(["Sabre laser"], threshold=threshold)[0] == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", {"fr"}),
        ("  \t\n ", {"fr"}),
        ("😀🎉👍", {"fr"}),
        ("1234 5678", {"fr"}),
        ("儿童玩具汽车遥控", {"zh"}),
        ("لعبة أطفال سيارة", {"ar"}),
        ("Детская игрушка машина на пульте", {"ru"}),
        (LONG_FRENCH, {"fr"}),
        (LONG_FRENCH[: language.MAX_CHARS] + "Ein schönes Spielzeug für Kinder. " * 3_000, {"fr"}),
        ("<p>Jouet en bois &amp; <br/ peluche</di", {"fr", "en"}),
        ("nan", {"fr", "en"}),
        (float("nan"), {"fr"}),
    ],
    ids=[
        "empty",
        "whitespace",
        "emoji",
        "digits",
        "chinese",
        "arabic",
        "cyrillic",
        "100k-chars",
        "only-head-read",
        "broken-html",
        "nan-string",
        "nan-float",
    ],
)
def test_bad_inputs_give_a_sensible_language(text, expected):
    assert detect_languages([text])[0] in expected


@pytest.mark.parametrize("text", ["", "  \n", "😀🎉", "42 000", float("nan")])
def test_texts_without_letters_skip_langid(monkeypatch, text):
    def fail():
        raise AssertionError("langid called")

    monkeypatch.setattr(language, "_identifier", fail)
    assert detect_languages([text])[0] == "fr"


def test_blas_held_to_one_thread_while_detecting(monkeypatch):
    seen = []

    def spy(items, description, total=None):
        seen.extend(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas")
        yield from items

    monkeypatch.setattr(language, "track", spy)
    detect_languages(["Peluche en coton"])
    assert seen and set(seen) == {1}


def test_empty_input():
    languages = detect_languages([])
    assert languages.shape == (0,) and language_flags(languages).shape == (0, 3)


def test_language_flags():
    flags = language_flags(np.array(["fr", "en", "de", "fr", "zh"], dtype=object))
    expected = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 0, 1]]
    assert flags.dtype == np.float32
    np.testing.assert_array_equal(flags, expected)
    assert LANGUAGE_FLAG_NAMES == ("is_fr", "is_en", "lang_other")
