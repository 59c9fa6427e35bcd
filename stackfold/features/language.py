"""Language of each text, detected with langid in the two passes of the published Rakuten solutions.

The challenge declares its languages (``languages`` in its spec, majority first). Pass 1 keeps
langid's answer when its normalised probability is at least ``threshold``; pass 2 sends every less
certain text to the declared language langid ranks higher (Rakuten: French or English, because the
catalogue is French with an English minority and short titles are what langid gets wrong). One
declared language skips detection altogether; none keeps langid's answer whatever its probability.
"""

import re
from collections.abc import Sequence
from functools import cache

import numpy as np
from langid import langid
from threadpoolctl import threadpool_limits

from stackfold.progress import track

LANGUAGE_FLAG_NAMES = ("is_fr", "is_en", "lang_other")
UNDETERMINED = "und"
"""The language of a text without a single letter when the challenge declares none (ISO 639-2's code)."""
MAX_CHARS = 1_000
"""Only the first characters are detected: langid is linear in length (a 100k-character
description takes seconds) and a product's language is settled long before 1,000 characters."""

_LETTER = re.compile(r"[^\W\d_]")


@cache
def _identifier() -> langid.LanguageIdentifier:
    """The langid model with normalised probabilities, unpacked once (it takes ~0.5 s)."""
    return langid.LanguageIdentifier.from_modelstring(langid.model, norm_probs=True)


def _detect(text: object, threshold: float, declared: Sequence[str]) -> str:
    """Language of one text under the two-pass rule.

    ``rank`` gives pass 1's top language and probability and pass 2's order of the declared languages
    from one feature extraction, so low-confidence texts are not read twice.
    """
    snippet = text[:MAX_CHARS] if isinstance(text, str) else ""  # NaN from pandas counts as empty
    if not _LETTER.search(snippet):
        return declared[0] if declared else UNDETERMINED
    ranked = _identifier().rank(snippet)
    language, probability = ranked[0]
    if probability >= threshold or not declared:
        return language
    return next((code for code, _ in ranked if code in declared), declared[0])


def detect_languages(texts: Sequence[str], threshold: float = 0.9999,
                     declared: Sequence[str] = ("fr", "en")) -> np.ndarray:
    """ISO 639-1 code ("fr", "en", "de", ...) of each text, as an object array; ``declared``: the challenge's
    languages, majority first (one: no detection).

    OpenBLAS is held to one thread during the loop: langid's per-text dot products are tiny and
    thread start-up made detection 6-8x slower.
    """
    if len(declared) == 1:
        return np.full(len(texts), declared[0], dtype=object)
    with threadpool_limits(limits=1, user_api="blas"):
        languages = [_detect(text, threshold, tuple(declared)) for text in track(texts, "detecting languages")]
    return np.array(languages, dtype=object)


def language_flags(languages: np.ndarray) -> np.ndarray:
    """One-hot float32 columns ``LANGUAGE_FLAG_NAMES``: French, English, any other language."""
    languages = np.asarray(languages, dtype=object)
    is_fr = languages == "fr"
    is_en = languages == "en"
    return np.column_stack([is_fr, is_en, ~(is_fr | is_en)]).astype(np.float32)
