"""Feature views: the unfitted inputs a model consumes, computed once per data set and cached.

A view is a pure function of the raw data (no statistics learned from rows), so it can be
computed for train and test together and reused by every model and fold. Anything learned
from data (vocabularies, scalers) belongs inside the model and is fitted inside each fold.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stackfold.competition.load import Dataset
from stackfold.errors import ConfigError
from stackfold.features.image import color_feature_matrix
from stackfold.features.text import title_descr
from stackfold.hashing import content_key
from stackfold.io import save_arrays_atomic

VIEW_VERSION = 1


@dataclass(frozen=True)
class View:
    """How to build one view, and whether it needs the images."""

    build: Callable[[Dataset, str], np.ndarray]
    needs_images: bool


def _text(dataset: Dataset, split: str) -> np.ndarray:
    frame = dataset.train if split == "train" else dataset.test
    return title_descr(frame, dataset.spec.text_columns, description=f"cleaning text ({split})")


def _color(dataset: Dataset, split: str) -> np.ndarray:
    return color_feature_matrix(dataset.image_paths(split), description=f"colour features ({split})")


VIEWS: dict[str, View] = {
    "text": View(_text, needs_images=False),
    "color": View(_color, needs_images=True),
}


class FeatureStore:
    """Builds views on demand and keeps them on disk under ``cache_dir`` by content hash."""

    def __init__(self, dataset: Dataset, cache_dir: Path):
        self.dataset = dataset
        self.cache_dir = Path(cache_dir)
        self._memory: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def key(self, name: str) -> str:
        """Content hash of a view: raw files, view name and builder version."""
        return content_key(name, self.dataset.fingerprint, VIEW_VERSION)

    def get(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Train and test arrays of view ``name``."""
        if name not in VIEWS:
            raise ConfigError(f"unknown feature view {name!r}; known: {', '.join(VIEWS)}")
        view = VIEWS[name]
        if view.needs_images and not self.dataset.images:
            raise ConfigError(f"feature view {name!r} needs images, but this run has images = false")
        if name not in self._memory:
            self._memory[name] = self._load_or_build(name, view)
        return self._memory[name]

    def _load_or_build(self, name: str, view: View) -> tuple[np.ndarray, np.ndarray]:
        path = self.cache_dir / f"{name}-{self.key(name)}.npz"
        if path.is_file():
            with np.load(path, allow_pickle=True) as cached:
                return cached["train"], cached["test"]
        train, test = view.build(self.dataset, "train"), view.build(self.dataset, "test")
        save_arrays_atomic(path, train=train, test=test)
        return train, test
