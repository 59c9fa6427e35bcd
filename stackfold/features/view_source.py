"""What a view's builder reads (:class:`ViewSource`) and where slow views may be computed (:class:`Extraction`)."""

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from stackfold.competition.load import Dataset
from stackfold.core.blocks import Block

PARTIAL_STEM = ".partial"
PARTIAL_SUFFIX = f"{PARTIAL_STEM}.npy"
"""A view built in resumable steps keeps its unfinished arrays in its folder under this suffix."""


class Extraction(Protocol):
    """Somewhere else to compute the rows of slow views, in row partitions (a Dask cluster: ``stackfold.cluster``).

    The array methods compute the rows ``array`` (a :class:`~stackfold.features.image_cache.ResumableArray`)
    lacks and write them into it as they arrive, so the cache stays resumable.
    """

    def image_rows(self, table: Any, feature: Any, array: Any, on_bad: str, heavy: bool) -> None: ...

    def sentence_rows(self, texts: list[str], array: Any, batch_size: int) -> None: ...

    def frame_rows(self, frame: pd.DataFrame, rows: Callable[[pd.DataFrame], pd.DataFrame]) -> pd.DataFrame:
        """``rows`` of ``frame``'s row partitions, concatenated in order with a fresh index (not resumable:
        the view is cached once whole)."""


class ViewSource(Protocol):
    """What a view's builder reads: the data set, the thread budget, other views, its own folder
    (the :class:`~stackfold.features.store.FeatureStore` building it), and where slow views are
    computed (``extraction``; ``None``: here)."""

    dataset: Dataset
    n_jobs: int
    extraction: Extraction | None

    def get(self, name: str) -> tuple[Block, Block]: ...

    def folder(self, name: str) -> Path: ...

    def learned(self, name: str) -> np.ndarray | None:
        """What view ``name`` learned from the run's rows, when predicting new rows; ``None`` when building the
        run's own views (then the builder learns it and gives it to :meth:`learn`)."""

    def learn(self, name: str, state: np.ndarray) -> None:
        """Keep what view ``name`` learned from the run's rows (a plain array: its vocabulary)."""


def split_frame(dataset: Dataset, split: str) -> pd.DataFrame:
    """The products of ``split`` ("train" or "test")."""
    return dataset.train if split == "train" else dataset.test
