"""The feature builder's store: views built on demand, cached by content key, loaded back.

Views are cached under the run's ``cache/`` folder by a content key of the raw files, the
view's parameters and the keys of the views it is built from (and, for image views, the
``on_bad_image`` policy). An image view is extracted straight into its cache folder
(``{split}.data.npy`` + ``{split}.data.state.npz``, then ``{split}.owner.npy`` and
``{split}.json``), so an interrupted extraction resumes; ``done`` is written once both
splits are complete, and the arrays are then memory-mapped read-only.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from stackfold.competition.images import ImageTable, check_on_bad_image
from stackfold.competition.load import Dataset
from stackfold.core.blocks import Block, ImageBlock, Views
from stackfold.core.estimator import DEFAULT_N_JOBS
from stackfold.errors import ConfigError, RunFolderError
from stackfold.features.image import ImageFeature, extract
from stackfold.features.image_cache import ResumableArray
from stackfold.features.views import PARTIAL_STEM, VIEWS, Extraction, View, view_params
from stackfold.hashing import content_key
from stackfold.io import atomic_file, write_json_atomic
from stackfold.progress import Pace

VIEW_VERSION = 2

_SUFFIXES = {pd.DataFrame: ".parquet", np.ndarray: ".npy", sp.csr_matrix: ".npz"}


def _suffix(block: Block) -> str:
    return next(suffix for kind, suffix in _SUFFIXES.items() if isinstance(block, kind))


def _saved(folder: Path, split: str) -> Path:
    """The finished block file of ``split`` in a view's folder."""
    return next(path for suffix in _SUFFIXES.values() if (path := folder / f"{split}{suffix}").is_file())


def _save(path: Path, block: Block) -> None:
    with atomic_file(path) as f:
        if isinstance(block, pd.DataFrame):
            block.to_parquet(f)
        elif isinstance(block, np.ndarray):
            np.save(f, np.asarray(block))
        else:
            sp.save_npz(f, block, compressed=False)


def _load(path: Path) -> Block:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".npy":
        return np.load(path, mmap_mode="r")
    return sp.load_npz(path).tocsr()


def _file_stamps(params: dict[str, Any]) -> list[tuple[int, int]]:
    """Size and modification time of a local weights file among ``params``: replacing the file renews the key."""
    weights = params.get("weights")
    if weights in (None, "imagenet", "none", "package"):
        return []
    path = Path(weights).expanduser()
    if not path.is_file():
        return []
    stat = path.stat()
    return [(stat.st_size, stat.st_mtime_ns)]


@dataclass(frozen=True)
class ViewStates:
    """Where views keep what they learned from a run's rows (``View.learns``): ``folder/<view>-<key>.npy``.

    Building the run's views writes them under the views' own keys. To predict new rows, ``run_keys`` gives
    the run's key of each view: its state is read from there, and never learned from the new rows.
    """

    folder: Path
    run_keys: dict[str, str] | None = None

    def path(self, name: str, key: str) -> Path:
        return self.folder / f"{name}-{(self.run_keys or {}).get(name, key)}.npy"


class FeatureStore:
    """Builds views on demand and keeps them under ``cache_dir`` by content key.

    ``on_bad_image`` (``"error"`` or ``"blank"``) is the run's policy for unreadable images;
    :attr:`bad_images` counts, per image view obtained, the images replaced by white.
    ``n_jobs`` bounds the threads of feature extraction networks; with ``extraction`` (a
    cluster), image and sentence views are computed there in row partitions. With ``pace`` (the
    run's), every view built is a step of the run, timed on its own. ``states``: where views keep what they
    learn from the run's rows (:class:`ViewStates`; ``None``: nowhere, they learn it each time they are built).
    """

    def __init__(
        self, dataset: Dataset, cache_dir: Path, options: dict[str, dict[str, Any]] | None = None,
        on_bad_image: str = "error", n_jobs: int = DEFAULT_N_JOBS, extraction: Extraction | None = None,
        pace: Pace | None = None, states: ViewStates | None = None,
    ):
        check_on_bad_image(on_bad_image)
        self.dataset = dataset
        self.cache_dir = Path(cache_dir)
        self.options = options or {}
        self.on_bad_image = on_bad_image
        self.n_jobs = n_jobs
        self.extraction = extraction
        self.pace = pace or Pace()
        self.states = states
        self.bad_images: dict[str, int] = {}
        self._memory: dict[str, tuple[Block, Block]] = {}

    def key(self, name: str) -> str:
        """Content key of a view: raw files, parameters, builder version, required views' keys (and image policy;
        for new rows, the key of the run's view whose learned state builds them)."""
        view = self._view(name)
        params = view_params(name, self.options)
        policy = [self.on_bad_image] if view.image is not None else []
        run_keys = self.states.run_keys if self.states is not None else None
        learned_from = [run_keys.get(name)] if view.learns and run_keys is not None else []
        spec = self.dataset.spec
        text = [spec.text_columns, spec.title_column, spec.languages] if view.needs_text else []
        return content_key(name, self.dataset.fingerprint, VIEW_VERSION, view.key_params(params),
                           [self.key(r) for r in view.requires],
                           *policy, *_file_stamps(params), *learned_from, *text)

    def get(self, name: str) -> tuple[Block, Block]:
        """Train and test blocks of view ``name``."""
        view = self._view(name)
        if name not in self._memory:
            if self.is_built(name):
                self._memory[name] = self._load_or_build(name, view)
            else:
                for required in view.requires:  # built first, as steps of their own
                    self.get(required)
                with self.pace.step("view", name):
                    self._memory[name] = self._load_or_build(name, view)
        return self._memory[name]

    def is_built(self, name: str) -> bool:
        """Whether view ``name`` is complete in the cache (loading it does no work), with what it learned kept."""
        states = self.states
        learning = self._view(name).learns and states is not None and states.run_keys is None
        return (self.folder(name) / "done").is_file() and (not learning or self._state_path(states, name).is_file())

    def learned(self, name: str) -> np.ndarray | None:
        """The state view ``name`` learned from the run's rows, when predicting new rows (else, or if the view
        learns nothing, ``None``)."""
        if self.states is None or self.states.run_keys is None or not self._view(name).learns:
            return None
        path = self._state_path(self.states, name)
        if not path.is_file():
            raise RunFolderError(f"{path}: what view {name!r} learned from the run's rows is not kept (a run made "
                                 "before stackfold kept it); rerun `stackfold run` to predict with it")
        return np.load(path, allow_pickle=False)

    def learn(self, name: str, state: np.ndarray) -> None:
        """Keep what view ``name`` learned from the run's rows, atomically (no-op without ``states``)."""
        if self.states is not None and self.states.run_keys is None:
            with atomic_file(self._state_path(self.states, name)) as f:
                np.save(f, state, allow_pickle=False)

    def _state_path(self, states: ViewStates, name: str) -> Path:
        return states.path(name, self.key(name))

    def missing(self, names: tuple[str, ...]) -> list[str]:
        """The views among ``names`` and those they are built from that are not in the cache, each once."""
        found: list[str] = []
        for name in names:
            if not self.is_built(name) and name not in self._memory:
                found += [v for v in self.missing(self._view(name).requires) if v not in found]
                found += [name] if name not in found else []
        return found

    def expected_seconds(self, name: str) -> float:
        """What building view ``name`` takes on the reference machine (:class:`~stackfold.progress.Cost`)."""
        view = self._view(name)
        params = view_params(name, self.options)
        rows = len(self.dataset.train) + len(self.dataset.test)
        if view.image is not None and self.dataset.bson is not None:
            rows = sum(len(self.dataset.image_table(split)) for split in ("train", "test"))
        return view.cost.at(rows, view.cost_scale(params) if view.cost_scale else 1.0)

    def blank_images(self, name: str) -> int:
        """Images of view ``name`` (train and test) replaced by white under ``on_bad_image = "blank"``; 0 for others."""
        if self._view(name).image is None:
            return 0
        self.get(name)
        return self.bad_images[name]

    def views(self, names: tuple[str, ...]) -> tuple[Views, Views]:
        """Train and test :class:`Views` holding the named blocks."""
        pairs = {name: self.get(name) for name in names}
        return Views({n: p[0] for n, p in pairs.items()}), Views({n: p[1] for n, p in pairs.items()})

    def folder(self, name: str) -> Path:
        """Cache folder of view ``name`` under its current key."""
        return self.cache_dir / f"{name}-{self.key(name)}"

    def _view(self, name: str) -> View:
        if name not in VIEWS:
            raise ConfigError(f"unknown feature view {name!r}; known: {', '.join(VIEWS)}")
        view = VIEWS[name]
        if view.needs_images and not self.dataset.images:
            raise ConfigError(f"feature view {name!r} needs images, but this run has images = false")
        return view

    def _load_or_build(self, name: str, view: View) -> tuple[Block, Block]:
        folder = self.folder(name)
        done = folder / "done"
        if view.image is not None:
            return self._image_view(name, view, folder)
        if self.is_built(name):
            return tuple(_load(_saved(folder, split)) for split in ("train", "test"))
        train, test = view.build(self, view_params(name, self.options))
        _save(folder / f"train{_suffix(train)}", train)
        _save(folder / f"test{_suffix(test)}", test)
        done.touch()
        for partial in folder.glob(f"*{PARTIAL_STEM}*"):
            partial.unlink()
        return train, test

    def _extract(self, table: ImageTable, feature: ImageFeature, path: Path, description: str, heavy: bool) -> int:
        """Extract ``feature`` of every image of ``table`` into ``path``, here or by ``extraction``; the blanks made."""
        if self.extraction is None:
            return extract(table, feature, path, self.on_bad_image, description)[1]
        array = ResumableArray(path, (len(table), *feature.shape), feature.dtype)
        self.extraction.image_rows(table, feature, array, self.on_bad_image, heavy)
        array.result()
        return int(array.flagged.sum())

    def _image_view(self, name: str, view: View, folder: Path) -> tuple[ImageBlock, ImageBlock]:
        """Extract (or resume, or load) an image view in ``folder``; record its blank images."""
        done = folder / "done"
        if not done.is_file():
            params = view_params(name, self.options)
            try:
                feature = view.image(self, params)
            except ConfigError as e:
                if e.where is not None:
                    raise
                raise e.at(f"[features.{name}]") from e
            for split in ("train", "test"):
                table = self.dataset.image_table(split)
                path = folder / f"{split}.data.npy"
                blank = self._extract(table, feature, path, f"{name} ({split})", view.pretrained)
                with atomic_file(folder / f"{split}.owner.npy") as f:
                    np.save(f, np.asarray(table.owner, dtype=np.int64))
                write_json_atomic(folder / f"{split}.json", {"n_products": table.n_products, "blank": blank})
            done.touch()
        blocks, blanks = [], 0
        for split in ("train", "test"):
            meta = json.loads((folder / f"{split}.json").read_text())
            data = np.load(folder / f"{split}.data.npy", mmap_mode="r")
            blocks.append(ImageBlock.whole(data, np.load(folder / f"{split}.owner.npy"), meta["n_products"]))
            blanks += meta["blank"]
        self.bad_images[name] = blanks
        return blocks[0], blocks[1]
