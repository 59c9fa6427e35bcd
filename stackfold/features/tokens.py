"""Word tokens of product texts: lower-cased, stop words removed and lemmatised per language, offline.

Per token, in this order: nltk ``RegexpTokenizer(token_pattern)`` (default ``r"\\w{3,}"``) on the
lower-cased text; stop-word
removal with the ``stop-words`` list of the text's language (checked before lemmatising, so
inflected stop words such as "était" go too); lemmatisation with ``simplemma`` for French and
English only (the other languages are a few percent of the catalogue and each extra simplemma
dictionary takes ~1 s to load), tokens of other languages are kept as they are; then optional
accent folding, last because the lemma dictionaries are accented. With folding on, stop words
are matched accent-folded too, so "ete" typed without accents goes like "été".

Every resource ships inside a pip package; nothing is downloaded at run time. A missing package
raises :class:`~stackfold.errors.ConfigError` naming what to install.
"""

import importlib
import re
import unicodedata
from collections.abc import Sequence
from functools import cache, lru_cache
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from stackfold.errors import ConfigError
from stackfold.progress import track

TEXT_SECTION = "[features.text]"
"""The config table of this feature's parameters, named in its errors."""

if TYPE_CHECKING:
    from nltk.tokenize import RegexpTokenizer

TOKEN_PATTERN = r"\w{3,}"
LEMMATIZED_LANGUAGES = ("fr", "en")


def _require(module: str, requirement: str) -> ModuleType:
    """Import ``module`` or say in one line which package to install."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ConfigError(f"{module} is not installed: pip install '{requirement}'") from error


@cache
def _tokenizer(pattern: str) -> "RegexpTokenizer":
    """nltk's regexp tokenizer for ``pattern`` (imported lazily: nltk takes ~1.5 s to import)."""
    try:
        re.compile(pattern)
    except re.error as e:
        raise ConfigError(f"token_pattern = {pattern!r}: not a regular expression ({e})", where=TEXT_SECTION) from e
    return _require("nltk.tokenize", "nltk>=3.8").RegexpTokenizer(pattern)


@cache
def _stop_words(language: str, fold: bool) -> frozenset[str]:
    """Stop words of ``language`` (lower-cased, accent-folded if ``fold``); empty if it has no list."""
    stop_words = _require("stop_words", "stop-words>=2018.7.23")
    if language not in stop_words.LANGUAGE_MAPPING:
        return frozenset()
    words = (word.lower() for word in stop_words.get_stop_words(language))
    return frozenset(_fold(word) if fold else word for word in words)


@lru_cache(maxsize=2**20)
def _lemma(language: str, token: str) -> str:
    """simplemma's lemma, lower-cased: its English dictionary capitalises proper nouns ("xbox" -> "Xbox")."""
    simplemma = _require("simplemma", "simplemma>=1.1")
    return simplemma.lemmatize(token, lang=language).lower()


@lru_cache(maxsize=2**20)
def _fold(token: str) -> str:
    """``token`` without diacritics: NFKD-decomposed, combining marks dropped ("été" -> "ete")."""
    return "".join(char for char in unicodedata.normalize("NFKD", token) if not unicodedata.combining(char))


def tokenize(text: str, pattern: str = TOKEN_PATTERN) -> list[str]:
    """Lower-cased matches of ``pattern`` (default: runs of at least three word characters); NaN gives none."""
    if not isinstance(text, str):
        return []
    return _tokenizer(pattern).tokenize(text.lower())


def normalise(
    text: str, language: str, lemmatize: bool = True, remove_stop_words: bool = True, fold_accents: bool = False,
    token_pattern: str = TOKEN_PATTERN,
) -> list[str]:
    """Tokens of ``text`` cleaned for ``language`` (an ISO 639-1 code from ``detect_languages``)."""
    tokens = tokenize(text, token_pattern)
    if remove_stop_words:
        stops = _stop_words(language, fold_accents)
        tokens = [token for token in tokens if (_fold(token) if fold_accents else token) not in stops]
    if lemmatize and language in LEMMATIZED_LANGUAGES:
        tokens = [_lemma(language, token) for token in tokens]
    if fold_accents:
        tokens = [_fold(token) for token in tokens]
    return tokens


def normalise_texts(
    texts: Sequence[str],
    languages: Sequence[str],
    lemmatize: bool = True,
    remove_stop_words: bool = True,
    fold_accents: bool = False,
    token_pattern: str = TOKEN_PATTERN,
) -> np.ndarray:
    """One space-joined cleaned string per text (object array), see :func:`normalise`."""
    if len(texts) != len(languages):
        raise ValueError(f"{len(texts)} texts but {len(languages)} languages")
    cleaned = [
        " ".join(normalise(text, language, lemmatize, remove_stop_words, fold_accents, token_pattern))
        for text, language in track(zip(texts, languages), "normalising text", total=len(texts))
    ]
    return np.array(cleaned, dtype=object)


def token_lengths(cleaned: Sequence[str]) -> np.ndarray:
    """Number of tokens in each cleaned string (the ``text_token_len`` feature), int32."""
    return np.fromiter((len(text.split()) for text in cleaned), dtype=np.int32, count=len(cleaned))
