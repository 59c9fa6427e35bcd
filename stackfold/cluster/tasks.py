"""What a Dask worker runs: one fold of one model, one refit, or one partition of a feature view.

Each is a plain function of picklable arguments that returns arrays (and a fit, its fitted model's files);
the client writes every artifact (fold checkpoints, fitted models, feature caches), so workers write nothing
to the run folder.
Threads are bounded as in a local run (the run's ``n_jobs``), so a task computes the same
bytes as the same fit run locally; a task draws no progress bar (the client draws one for all).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from stackfold.core import cv
from stackfold.core.estimator import BaseModel
from stackfold.features.image import ImageFeature, compute_partition
from stackfold.features.sentence import SentenceEncoder
from stackfold.model_files import dump_model
from stackfold.progress import no_bars


@contextmanager
def _as_task(n_jobs: int) -> Iterator[None]:
    """``n_jobs`` threads for the numeric libraries, and no progress bar."""
    with threadpool_limits(limits=n_jobs), no_bars():
        yield


def fit_fold(make_model: Callable[[], BaseModel], X: Any, y: np.ndarray, X_test: Any, train: np.ndarray,
             valid: np.ndarray, n_jobs: int, top_k: int | None = None, keep: bool = True,
             metric: str = "weighted_f1") -> dict[str, Any]:
    """One fold of one model: OOF rows of ``valid``, test probabilities, scores (for the challenge's ``metric``) and
    seconds, and with ``keep`` the fitted model's files (``model_files``, :func:`~stackfold.model_files.dump_model`)."""
    with _as_task(n_jobs):
        result = cv.fit_fold(model := make_model(), X, y, X_test, train, valid, top_k, metric)
        return {**result, "model_files": dump_model(model) if keep else None}


def refit(make_model: Callable[[], BaseModel], X: Any, y: np.ndarray, X_test: Any, n_jobs: int,
          top_k: int | None = None) -> dict[str, Any]:
    """A stacker's refit on all rows: its test probabilities and seconds, and the fitted model's files."""
    with _as_task(n_jobs):
        result = cv.refit(model := make_model(), X, y, X_test, top_k)
        return {**result, "model_files": dump_model(model)}


def image_rows(table: Any, feature: ImageFeature, start: int, stop: int, on_bad: str, n_jobs: int
               ) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Feature rows ``start:stop`` of an image table, in the batches a local extraction makes."""
    with _as_task(n_jobs):
        return compute_partition(table, feature, start, stop, on_bad)


def frame_rows(rows: Callable[[pd.DataFrame], pd.DataFrame], frame: pd.DataFrame, n_jobs: int) -> pd.DataFrame:
    """``rows`` of one row partition of a frame (the text view's cleaning, languages and tokens)."""
    with _as_task(n_jobs):
        return rows(frame)


def sentence_rows(texts: list[str], start: int, batch_size: int, n_jobs: int) -> list[tuple[int, np.ndarray, None]]:
    """Sentence vectors of ``texts`` (rows from ``start``), in batches of ``batch_size`` as a local extraction."""
    encoder = _encoder(n_jobs)
    return [(start + offset, encoder(texts[offset: offset + batch_size]), None)
            for offset in range(0, len(texts), batch_size)]


@cache
def _encoder(n_jobs: int) -> SentenceEncoder:
    """One encoder per worker process: its model loads once (~1.5 s), not once a partition."""
    return SentenceEncoder(n_jobs)
