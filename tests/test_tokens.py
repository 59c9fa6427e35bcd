"""Tokenisation, stop words, lemmas and accent folding, offline, on hand-made and real texts."""

import re
import sys

import numpy as np
import pandas as pd
import pytest

from stackfold.errors import ConfigError
from stackfold.features import tokens
from stackfold.features.text import title_descr
from stackfold.features.tokens import normalise, normalise_texts, token_lengths, tokenize


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Le CD de 150 pages", ["150", "pages"]),  # 2-letter words dropped, 3+ digits kept
        ("Jeu PS4 d'été", ["jeu", "ps4", "été"]),
        ("ÉTÉ Noël", ["été", "noël"]),  # lower-cased, accents kept
        ("Decor_Dw11046 x 12", ["decor_dw11046"]),  # "_" is a word character
        ("", []),
        (float("nan"), []),
    ],
)
def test_tokenize(text, expected):
    assert tokenize(text) == expected


@pytest.mark.parametrize("fold, expected", [(False, ["crème", "brûlée"]), (True, ["creme", "brulee"])])
def test_accent_folding(fold, expected):
    assert normalise("Crème BRÛLÉE", "xx", fold_accents=fold) == expected


@pytest.mark.parametrize(
    "word, language, lemma",
    [
        ("chevaux", "fr", "cheval"),
        ("poupées", "fr", "poupée"),
        ("jouets", "fr", "jouet"),
        ("vendues", "fr", "vendre"),
        ("batteries", "en", "battery"),
        ("toys", "en", "toy"),
        ("children", "en", "child"),
        ("xbox", "en", "xbox"),  # simplemma answers "Xbox": lemmas are lower-cased again
    ],
)
def test_lemmas(word, language, lemma):
    assert normalise(word, language) == [lemma]
    assert normalise(word, language, lemmatize=False) == [word]


def test_lemmas_folded_after_lemmatising():
    assert normalise("poupées", "fr", fold_accents=True) == ["poupee"]


def test_other_languages_are_not_lemmatised():
    assert normalise("Bücher Spiele", "de") == ["bücher", "spiele"]


@pytest.mark.parametrize(
    "text, language, expected",
    [
        ("Les chevaux des enfants", "fr", ["cheval", "enfant"]),
        ("The toys and the children", "en", ["toy", "child"]),
        ("Christof E: Bildungsprozessen Auf Der Spur", "de", ["christof", "bildungsprozessen", "spur"]),
        ("the and les", "fr", ["the", "and"]),  # lists are per language
        ("the les des", "xx", ["the", "les", "des"]),  # no list: nothing removed
    ],
)
def test_stop_words_removed_per_language(text, language, expected):
    assert normalise(text, language) == expected


def test_stop_words_kept_on_request():
    assert normalise("Les chevaux des enfants", "fr", lemmatize=False, remove_stop_words=False) == [
        "les",
        "chevaux",
        "des",
        "enfants",
    ]


@pytest.mark.parametrize("fold, expected", [(False, ["ete"]), (True, [])])
def test_unaccented_stop_words_caught_when_folding(fold, expected):
    # the French list has "été"; a seller typing "ete" only matches once accents are folded
    assert normalise("ETE", "fr", lemmatize=False, fold_accents=fold) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  \t\n ",
        "😀🎉👍",
        "儿童玩具汽车遥控",
        "لعبة أطفال سيارة",
        "Детская игрушка машина на пульте",
        "Poupée en tissu pour enfants. " * 3_400,
        "<p>Jouet en bois &amp; <br/ peluche</di",
        "nan",
        float("nan"),
    ],
    ids=["empty", "whitespace", "emoji", "chinese", "arabic", "cyrillic", "100k-chars", "broken-html", "nan", "nan-float"],
)
@pytest.mark.parametrize("language", ["fr", "en", "zh", "ar", "ru"])
@pytest.mark.parametrize("fold", [False, True])
def test_bad_inputs_do_not_crash(text, language, fold):
    cleaned = normalise(text, language, fold_accents=fold)
    assert all(isinstance(token, str) and token for token in cleaned)
    assert (len(cleaned) == 0) == (not tokenize(text))


def test_normalise_texts_on_real_sample(rakuten_sample):
    frame = pd.read_csv(rakuten_sample / "X_train_update.csv", index_col=0, keep_default_na=False)
    texts = title_descr(frame)
    cleaned = normalise_texts(texts, ["fr"] * len(texts))
    assert cleaned.dtype == object and cleaned.shape == (len(frame),)
    assert cleaned[frame.index.get_loc(13)].startswith("paire voilage imprimé fantaisie")
    lengths = token_lengths(cleaned)
    assert (lengths > 0).all() and lengths.max() > 100


def test_normalise_texts_needs_one_language_per_text():
    with pytest.raises(ValueError, match="2 texts but 1 languages"):
        normalise_texts(["un", "deux"], ["fr"])


def test_token_lengths():
    lengths = token_lengths(np.array(["cheval enfant jouet", "", "toy"], dtype=object))
    assert lengths.dtype == np.int32
    np.testing.assert_array_equal(lengths, [3, 0, 1])


@pytest.mark.parametrize(
    "module, requirement",
    [("simplemma", "simplemma>=1.1"), ("stop_words", "stop-words>=2018.7.23"), ("nltk.tokenize", "nltk>=3.8")],
)
def test_missing_package_is_a_config_error(monkeypatch, module, requirement):
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ConfigError, match=re.escape(f"pip install '{requirement}'")):
        tokens._require(module, requirement)
