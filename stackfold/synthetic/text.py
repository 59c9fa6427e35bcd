"""Product titles ("designation") and descriptions of the synthetic twin.

Every content word is drawn from one of five pools: the product's own class, a sibling
class of its confusable group, the group's shared words, a random other class, or the
generic words every class uses. A per-product "clarity" draw decides how much comes from
the own class, so some products are obvious and some can only be told apart by their
image. Language, length, empty descriptions and HTML encoding follow the real data.
"""

import re
from dataclasses import dataclass
from functools import cache

import numpy as np

from stackfold.synthetic.catalogue import (
    DEFAULT_FOREIGN_SHARE,
    EMPTY_DESCRIPTION,
    FOREIGN_SHARE,
    Catalogue,
    load_catalogue,
)
from stackfold.synthetic.vocabulary import (
    CLASS_WORDS,
    DESCRIPTION_OPENERS,
    FUNCTION_WORDS,
    GENERIC,
    GROUP_WORDS,
    zipf_weights,
)

MINOR_LANGUAGES = ("de", "it", "es")


@dataclass(frozen=True)
class TextKnobs:
    """Difficulty settings of the text, tuned so TF-IDF + logistic regression scores like on real data; lengths,
    apostrophes and HTML measured on the real rows (tests/test_synthetic.py compares them)."""

    clarity_a: float = 1.2  # Beta(a, b) of the per-product share of own-class words
    clarity_b: float = 1.6
    max_class_share: float = 0.65  # own-class share of content words at clarity 1
    sibling_share: float = 0.12  # words of a sibling class of the same group
    group_share: float = 0.35  # words shared by the whole group
    stray_share: float = 0.04  # words of any other class
    html_share: float = 0.9  # share of non-empty descriptions exported HTML-escaped (' as &#39;, & as &amp;)
    markup_share: float = 0.32  # of those, share also laid out with tags (<br>, <p>, <li>, <b>, <strong>)
    accent_entity_share: float = 0.02  # of those, share with accents as named entities (&eacute;)
    title_words: tuple[float, float] = (2.28, 0.45)  # lognormal (mu, sigma) of the title's words
    description_words: tuple[float, float, float] = (4.53, 1.4, 0.75)  # split lognormal: mu, sigma below, above
    elision_share: float = 0.06  # of French content words, share elided with l' or d' (l'huile, d'origine)
    minor_language_share: float = 0.25  # of the non-French texts: German, Italian, Spanish


class Pool:
    """A ranked word list with Zipf weights, sampled from uniform draws."""

    def __init__(self, words: tuple[str, ...], exponent: float = 1.0) -> None:
        self.words = words
        self.cdf = np.cumsum(zipf_weights(len(words), exponent))

    def draw(self, u: float) -> str:
        """The word whose cumulative weight first exceeds ``u`` (``u`` uniform in [0, 1))."""
        return self.words[min(int(np.searchsorted(self.cdf, u * self.cdf[-1], side="right")), len(self.words) - 1)]


@cache
def _class_pools(code: int, language: str) -> tuple[Pool, Pool]:
    """Content and brand pools of a class (non-French texts use its English words)."""
    words = CLASS_WORDS[code]
    return Pool(words.fr if language == "fr" else words.en), Pool(words.brands or GENERIC.brands)


@cache
def _group_pool(group: str, language: str) -> Pool:
    """Words shared by a confusable group."""
    words = GROUP_WORDS[group]
    return Pool(words.fr if language == "fr" else words.en)


@cache
def _generic_pools(language: str) -> tuple[Pool, Pool, Pool]:
    """Generic content words, generic brands and function words of a language."""
    content = GENERIC.fr if language == "fr" else GENERIC.en
    return Pool(content, 0.8), Pool(GENERIC.brands, 0.8), Pool(FUNCTION_WORDS[language], 0.9)


class TextSampler:
    """Draws the title and description of one product of a given class."""

    def __init__(self, knobs: TextKnobs = TextKnobs(), catalogue: Catalogue | None = None) -> None:
        self.knobs = knobs
        self.catalogue = catalogue or load_catalogue()

    def language(self, code: int, rng: np.random.Generator) -> str:
        """French for most products; English, then German/Italian/Spanish for the rest."""
        foreign = FOREIGN_SHARE.get(self.catalogue.group_of[code], DEFAULT_FOREIGN_SHARE)
        if rng.random() >= foreign:
            return "fr"
        if rng.random() >= self.knobs.minor_language_share:
            return "en"
        return MINOR_LANGUAGES[int(rng.integers(len(MINOR_LANGUAGES)))]

    def sample(self, code: int, rng: np.random.Generator) -> tuple[str, str | None]:
        """``(designation, description)`` of a product of class ``code``; description ``None`` if empty."""
        language = self.language(code, rng)
        clarity = rng.beta(self.knobs.clarity_a, self.knobs.clarity_b)
        mix = self._source_mix(clarity)
        n_title = int(np.clip(round(rng.lognormal(*self.knobs.title_words)), 2, 60))
        designation = _title_case(self._words(code, language, mix, n_title, rng), rng)
        if rng.random() < EMPTY_DESCRIPTION[code]:
            return designation, None
        n_description = int(np.clip(_split_lognormal(self.knobs.description_words, rng), 3, 1500))
        lines = self._description(code, language, mix, n_description, designation, rng)
        if rng.random() < self.knobs.html_share:
            return designation, _html_encode(lines, self.knobs, rng)
        return designation, " ".join(lines)

    def _source_mix(self, clarity: float) -> np.ndarray:
        """Cumulative probabilities of the pools: own class, sibling, group, stray, generic."""
        k = self.knobs
        shares = np.array([clarity * k.max_class_share, k.sibling_share, k.group_share, k.stray_share])
        shares = np.append(shares, max(0.0, 1.0 - shares.sum()))
        return np.cumsum(shares / shares.sum())

    def _content_word(self, code: int, language: str, mix: np.ndarray, rng: np.random.Generator) -> str:
        """One content word from the pool chosen by ``mix``."""
        source = int(np.searchsorted(mix, rng.random(), side="right"))
        u = rng.random()
        if source == 1:
            siblings = self.catalogue.siblings(code)
            code = siblings[int(rng.integers(len(siblings)))] if siblings else code
        elif source == 3:
            code = self.catalogue.codes[int(rng.integers(len(self.catalogue.codes)))]
        if source in (0, 1, 3):
            return _class_pools(code, language)[0].draw(u)
        if source == 2:
            return _group_pool(self.catalogue.group_of[code], language).draw(u)
        return _generic_pools(language)[0].draw(u)

    def _words(self, code: int, language: str, mix: np.ndarray, n: int, rng: np.random.Generator) -> list[str]:
        """About ``n`` words: content words, function words, numbers and brands."""
        words: list[str] = []
        generic, generic_brands, function = _generic_pools(language)
        native = language in MINOR_LANGUAGES
        while len(words) < n:
            kind = rng.random()
            if kind < 0.5 and not (native and rng.random() < 0.5):
                content = self._content_word(code, language, mix, rng)
                if language == "fr" and rng.random() < self.knobs.elision_share:
                    content = ("l'", "d'")[int(rng.integers(2))] + content
                words.extend(content.split())
            elif kind < 0.78 or native:
                words.append(function.draw(rng.random()))
            elif kind < 0.9:
                words.append(_number_token(rng))
            elif rng.random() < mix[0]:
                words.append(_class_pools(code, language)[1].draw(rng.random()))
            else:
                words.append(generic_brands.draw(rng.random()))
        return words[: max(n, 1)]

    def _description(
        self, code: int, language: str, mix: np.ndarray, n: int, designation: str, rng: np.random.Generator
    ) -> list[str]:
        """Sentences and "Key: value" lines of about ``n`` words, sometimes repeating the title."""
        openers = DESCRIPTION_OPENERS[language]
        parts: list[str] = [designation] if rng.random() < 0.3 else []
        remaining = n
        while remaining > 0:
            length = int(min(remaining, max(3, rng.poisson(12))))
            words = self._words(code, language, mix, length, rng)
            if rng.random() < 0.3:
                parts.append(f"{openers[int(rng.integers(len(openers)))]} {' '.join(words)}")
            else:
                sentence = " ".join(words)
                parts.append(sentence[:1].upper() + sentence[1:] + ".")
            remaining -= length
        return parts


def _split_lognormal(knobs: tuple[float, float, float], rng: np.random.Generator) -> float:
    """``exp(mu + sigma * z)``, sigma one value below the median and another above: real description
    lengths have a long tail of short texts and a shorter one of long texts."""
    mu, below, above = knobs
    z = rng.standard_normal()
    return float(np.exp(mu + (below if z < 0 else above) * z))


def _number_token(rng: np.random.Generator) -> str:
    """A size, count, year, issue number or reference code like those in real titles."""
    kind = int(rng.integers(8))
    a, b = int(rng.integers(1, 200)), int(rng.integers(1, 300))
    if kind == 0:
        return f"{a}x{b}"
    if kind == 1:
        return f"{a} cm"
    if kind == 2:
        return str(int(rng.integers(1850, 2020)))
    if kind == 3:
        return f"n° {b}"
    if kind == 4:
        letters = "".join(chr(int(c)) for c in rng.integers(65, 91, size=2))
        return f"{letters}-{int(rng.integers(100, 9999))}"
    if kind == 5:
        return f"{a}{('g', 'ml', 'gb', 'pcs', 'w', 'mm')[int(rng.integers(6))]}"
    return str(a)


def _title_case(words: list[str], rng: np.random.Generator) -> str:
    """Join title words the way sellers do: mostly Title Case, sometimes with " - " separators."""
    if rng.random() < 0.75:
        words = [w[:1].upper() + w[1:] for w in words]
    else:
        words = [words[0][:1].upper() + words[0][1:]] + words[1:]
    if len(words) > 5 and rng.random() < 0.4:
        cut = int(rng.integers(2, len(words) - 1))
        words = words[:cut] + ["-"] + words[cut:]
    return " ".join(words)


_ACCENTS = re.compile(r"[éèêàçâôûîë]")
_BOLD = re.compile(r"(\w+ :|\w+:)")


def _html_encode(lines: list[str], knobs: TextKnobs, rng: np.random.Generator) -> str:
    """Join description lines like a web shop export, as in the real rows: escaped (``&#39;``, ``&amp;``), rarely
    accents as entities, and for a share ``<br>``, ``<p>`` or ``<li>`` lines with ``<b>``/``<strong>`` labels."""
    text = "\n".join(lines)
    text = text.replace("&", "&amp;").replace("'", "&#39;")
    if rng.random() < knobs.accent_entity_share:
        text = _ACCENTS.sub(lambda m: f"&{_ENTITY[m.group(0)]};", text)
    if rng.random() >= knobs.markup_share:
        return text.replace("\n", " ")
    if rng.random() < 0.4:
        bold = ("b", "strong")[int(rng.integers(2))]
        text = _BOLD.sub(rf"<{bold}>\1</{bold}>", text)
    lines = text.split("\n")
    style = rng.random()
    if style < 0.55:
        return ("<br>", "<br />")[int(rng.integers(2))].join(lines)
    if style < 0.8:
        return "".join(f"<p>{line}</p>" for line in lines)
    return "<ul>" + "".join(f"<li>{line}</li>" for line in lines) + "</ul>"


_ENTITY = {"é": "eacute", "è": "egrave", "ê": "ecirc", "à": "agrave", "ç": "ccedil", "â": "acirc",
           "ô": "ocirc", "û": "ucirc", "î": "icirc", "ë": "euml"}
