"""Feature views: the unfitted inputs models consume, computed once per data set and cached.

A view is a pure function of the raw data (no statistics learned from labelled rows), so it
is computed for train and test together and reused by every model and fold. Whatever is
learned from rows (TF-IDF vocabularies and IDF, SVD, scalers) is fitted inside each fold by
the model (see :class:`stackfold.features.tfidf.FoldTfidf`).

Built-in views:

``rows``        frame without columns: just the products, for models that need no feature (``null``)
``text``        frame: ``text`` (HTML stripped), ``tokens`` (normalised), ``language``,
                ``token_len``, ``is_fr``, ``is_en``, ``lang_other``
``word_counts`` sparse counts of word 1-2-grams of ``tokens``, terms in >= 2 texts
``char_counts`` sparse counts of ``char_wb`` 1-4-grams of lower-cased ``text``, terms in >= 2 texts
``sentence``    float32 512-d multilingual sentence vectors of the title + the start of the description
                (see :mod:`stackfold.features.sentence`), encoded resumably

Image views hold one row per image (:class:`ImageBlock`), built from the split's
:class:`~stackfold.competition.images.ImageTable`. Each image is padded to a square, cut by
``border`` (fraction per side), cropped to the product if ``content_crop``, then resized:

``color``       float32 mean RGB and ``bins``-bin histograms per channel (:func:`color_feature_names`)
``pixels``      float32 ``size x size x 3`` pixels in [0, 1], then the colour features (random forest, SVC)
``images``      uint8 ``(size, size, 3)`` images, memory-mapped: the input of a CNN
``vgg16``       float32 512 features of a headless VGG16 (see :mod:`stackfold.features.vgg16`)
``efficientnet`` float32 1280 pooled features of EfficientNet-Lite0 with ImageNet weights, offline
                (see :mod:`stackfold.features.efficientnet`); ``flip`` averages the mirrored image's

Views are cached under the run's ``cache/`` folder by a content key of the raw files, the
view's parameters and the keys of the views it is built from (and, for image views, the
``on_bad_image`` policy). An image view is extracted straight into its cache folder
(``{split}.data.npy`` + ``{split}.data.state.npz``, then ``{split}.owner.npy`` and
``{split}.json``), so an interrupted extraction resumes; ``done`` is written once both
splits are complete, and the arrays are then memory-mapped read-only.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

from stackfold.competition.load import Dataset
from stackfold.errors import ConfigError
from stackfold.features.efficientnet import N_FEATURES as EFFICIENTNET_FEATURES
from stackfold.features.efficientnet import EfficientNetFeatures
from stackfold.features.image import ImageFeature, color_feature, extract, pixel_array_feature, pixel_feature
from stackfold.features.image_block import ImageBlock
from stackfold.competition.images import check_on_bad_image
from stackfold.features.image_io import ImageOptions
from stackfold.features.language import LANGUAGE_FLAG_NAMES, detect_languages, language_flags
from stackfold.features.sentence import SentenceEncoder, encode_texts, sentence_inputs
from stackfold.features.text import title_descr
from stackfold.features.tokens import normalise_texts, token_lengths
from stackfold.features.vgg16 import N_FEATURES as VGG16_FEATURES
from stackfold.features.vgg16 import VGG16Features
from stackfold.hashing import content_key
from stackfold.io import atomic_file, write_json_atomic
from stackfold.progress import console

VIEW_VERSION = 2

Block = pd.DataFrame | sp.csr_matrix | np.ndarray | ImageBlock


@dataclass(frozen=True)
class View:
    """How to build one view from the data set and the views it requires.

    A view has either ``build`` (train and test blocks at once, kept in memory then saved)
    or ``image`` (the per-image feature to extract, resumably, into the cache folder).
    """

    build: Callable[["FeatureStore", dict[str, Any]], tuple[Block, Block]] | None = None
    defaults: dict[str, Any] = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    needs_images: bool = False
    needs_text: bool = False
    image: Callable[["FeatureStore", dict[str, Any]], ImageFeature] | None = None


class Views:
    """Row-aligned named blocks handed to a base model: ``X["text"]``, ``X["word_counts"]``..."""

    def __init__(self, blocks: dict[str, Block]):
        lengths = {name: block.shape[0] for name, block in blocks.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"views have different row counts: {lengths}")
        self.blocks = blocks

    def __getitem__(self, name: str) -> Block:
        return self.blocks[name]

    @property
    def shape(self) -> tuple[int]:
        return (next(iter(self.blocks.values())).shape[0],)

    def take(self, rows: np.ndarray) -> "Views":
        """The same views restricted to ``rows`` (positions)."""
        return Views({name: take_rows(block, rows) for name, block in self.blocks.items()})


def take_rows(X: Any, rows: np.ndarray) -> Any:
    """Rows ``rows`` (positions) of a frame, array, sparse matrix or :class:`Views`."""
    if isinstance(X, pd.DataFrame):
        return X.iloc[rows]
    if isinstance(X, Views | ImageBlock):
        return X.take(rows)
    return X[rows]


def _split(dataset: Dataset, split: str) -> pd.DataFrame:
    return dataset.train if split == "train" else dataset.test


def _text(store: "FeatureStore", params: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    frames = []
    for split in ("train", "test"):
        text = title_descr(_split(store.dataset, split), store.dataset.spec.text_columns, f"cleaning text ({split})")
        languages = detect_languages(text, threshold=params["language_threshold"])
        tokens = normalise_texts(
            text, languages, lemmatize=params["lemmatize"], remove_stop_words=params["remove_stop_words"],
            fold_accents=params["fold_accents"], token_pattern=params["token_pattern"],
        )
        frame = pd.DataFrame({"text": text, "tokens": tokens, "language": languages, "token_len": token_lengths(tokens)})
        frame[list(LANGUAGE_FLAG_NAMES)] = language_flags(languages)
        frames.append(frame)
    return frames[0], frames[1]


def _sentence(store: "FeatureStore", params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    encoder = SentenceEncoder(store.n_jobs)
    columns = store.dataset.spec.text_columns
    blocks = []
    for split in ("train", "test"):
        texts = sentence_inputs(_split(store.dataset, split), columns, params["description_chars"])
        path = store.folder("sentence") / f"{split}{PARTIAL_SUFFIX}"
        blocks.append(encode_texts(texts, encoder, path, params["batch_size"], split))
    return blocks[0], blocks[1]


def _rows(store: "FeatureStore", params: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.DataFrame(index=store.dataset.train.index), pd.DataFrame(index=store.dataset.test.index)


def _counts(column: str, **vectorizer: Any) -> Callable[["FeatureStore", dict[str, Any]], tuple[Block, Block]]:
    def build(store: "FeatureStore", params: dict[str, Any]) -> tuple[Block, Block]:
        train, test = store.get("text")
        texts = pd.concat([train[column], test[column]]).to_numpy(dtype=object)
        with console.status(f"counting n-grams of {column} ({len(texts)} texts)"):
            counts = CountVectorizer(
                **vectorizer, ngram_range=(params["ngram_min"], params["ngram_max"]), min_df=params["min_df"],
                lowercase=True, dtype=np.float32,
            ).fit_transform(texts)
        return counts[: len(train)], counts[len(train):]

    return build


CROP_DEFAULTS = {"content_crop": True, "border": 0.0}


def _options(params: dict[str, Any]) -> ImageOptions:
    return ImageOptions(content_crop=params["content_crop"], border=params["border"])


def _color(store: "FeatureStore", params: dict[str, Any]) -> ImageFeature:
    return color_feature(params["bins"], _options(params))


def _pixels(store: "FeatureStore", params: dict[str, Any]) -> ImageFeature:
    return pixel_feature(params["size"], params["bins"], _options(params))


def _images(store: "FeatureStore", params: dict[str, Any]) -> ImageFeature:
    return pixel_array_feature(params["size"], _options(params))


def _efficientnet(store: "FeatureStore", params: dict[str, Any]) -> ImageFeature:
    extractor = EfficientNetFeatures(params["size"], params["weights"], store.n_jobs, params["seed"], params["flip"])
    return ImageFeature(params["size"], (EFFICIENTNET_FEATURES,), "float32", extractor, _options(params),
                        params["batch_size"])


def _vgg16(store: "FeatureStore", params: dict[str, Any]) -> ImageFeature:
    extractor = VGG16Features(params["size"], params["weights"], store.n_jobs, params["seed"])
    return ImageFeature(params["size"], (VGG16_FEATURES,), "float32", extractor, _options(params), params["batch_size"])


VIEWS: dict[str, View] = {
    "rows": View(_rows),
    "text": View(_text, {"language_threshold": 0.9999, "lemmatize": True, "remove_stop_words": False,
                         "fold_accents": True, "token_pattern": r"\w+"}, needs_text=True),
    "word_counts": View(_counts("tokens", analyzer="word", token_pattern=r"\S+"),
                        {"ngram_min": 1, "ngram_max": 2, "min_df": 2}, requires=("text",)),
    "char_counts": View(_counts("text", analyzer="char_wb"), {"ngram_min": 1, "ngram_max": 4, "min_df": 2},
                        requires=("text",)),
    "sentence": View(_sentence, {"description_chars": 600, "batch_size": 256}, needs_text=True),
    "color": View(defaults={"bins": 8, **CROP_DEFAULTS}, needs_images=True, image=_color),
    "pixels": View(defaults={"size": 16, "bins": 8, **CROP_DEFAULTS}, needs_images=True, image=_pixels),
    "images": View(defaults={"size": 100, **CROP_DEFAULTS}, needs_images=True, image=_images),
    "vgg16": View(defaults={"size": 64, "weights": "imagenet", "batch_size": 32, "seed": 0, **CROP_DEFAULTS},
                  needs_images=True, image=_vgg16),
    "efficientnet": View(defaults={"size": 224, "weights": "package", "flip": False, "batch_size": 32, "seed": 0,
                                   **CROP_DEFAULTS}, needs_images=True, image=_efficientnet),
}


def reads_text(name: str) -> bool:
    """Whether view ``name`` reads the products' text, itself or through the views it is built from."""
    view = VIEWS[name]
    return view.needs_text or any(reads_text(r) for r in view.requires)


def view_params(name: str, overrides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Defaults of view ``name`` updated with ``overrides[name]``; unknown names are an error."""
    view = VIEWS[name]
    given = overrides.get(name, {})
    unknown = sorted(set(given) - set(view.defaults))
    if unknown:
        raise ConfigError(f"[features.{name}] has no parameter {unknown[0]!r}; known: {', '.join(view.defaults)}")
    for param, value in given.items():
        _check_param(name, param, value, view.defaults[param])
    return {**view.defaults, **given}


POSITIVE = ("size", "bins", "batch_size", "ngram_min", "ngram_max", "min_df")
"""Integer view parameters that must be at least 1."""
NON_NEGATIVE = ("description_chars",)
"""Integer view parameters that must be at least 0."""


def _check_param(view: str, param: str, value: Any, default: Any) -> None:
    """One-line :class:`ConfigError` for a value of another type than the default's, or a count below 1."""
    where = f"[features.{view}] {param} = {value!r}"
    if isinstance(default, bool) or not isinstance(default, float):
        fits = type(value) is type(default)
    else:  # a float parameter takes an integer too
        fits = isinstance(value, int | float) and not isinstance(value, bool)
    if not fits:
        raise ConfigError(f"{where}: expected {type(default).__name__}, like the default {default!r}")
    if param in POSITIVE and value < 1:
        raise ConfigError(f"{where}: must be at least 1")
    if param in NON_NEGATIVE and value < 0:
        raise ConfigError(f"{where}: must be at least 0")


PARTIAL_STEM = ".partial"
PARTIAL_SUFFIX = f"{PARTIAL_STEM}.npy"
"""A view built in resumable steps keeps its unfinished arrays in its folder under this suffix."""
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


class FeatureStore:
    """Builds views on demand and keeps them under ``cache_dir`` by content key.

    ``on_bad_image`` (``"error"`` or ``"blank"``) is the run's policy for unreadable images;
    :attr:`bad_images` counts, per image view obtained, the images replaced by white.
    ``n_jobs`` bounds the threads of feature extraction networks.
    """

    def __init__(
        self, dataset: Dataset, cache_dir: Path, options: dict[str, dict[str, Any]] | None = None,
        on_bad_image: str = "error", n_jobs: int = 1,
    ):
        check_on_bad_image(on_bad_image)
        self.dataset = dataset
        self.cache_dir = Path(cache_dir)
        self.options = options or {}
        self.on_bad_image = on_bad_image
        self.n_jobs = n_jobs
        self.bad_images: dict[str, int] = {}
        self._memory: dict[str, tuple[Block, Block]] = {}

    def key(self, name: str) -> str:
        """Content key of a view: raw files, parameters, builder version, required views' keys (and image policy)."""
        view = self._view(name)
        params = view_params(name, self.options)
        policy = [self.on_bad_image] if view.image is not None else []
        return content_key(name, self.dataset.fingerprint, VIEW_VERSION, params, [self.key(r) for r in view.requires],
                           *policy, *_file_stamps(params))

    def get(self, name: str) -> tuple[Block, Block]:
        """Train and test blocks of view ``name``."""
        view = self._view(name)
        if name not in self._memory:
            self._memory[name] = self._load_or_build(name, view)
        return self._memory[name]

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
        if done.is_file():
            return tuple(_load(_saved(folder, split)) for split in ("train", "test"))
        train, test = view.build(self, view_params(name, self.options))
        _save(folder / f"train{_suffix(train)}", train)
        _save(folder / f"test{_suffix(test)}", test)
        done.touch()
        for partial in folder.glob(f"*{PARTIAL_STEM}*"):
            partial.unlink()
        return train, test

    def _image_view(self, name: str, view: View, folder: Path) -> tuple[ImageBlock, ImageBlock]:
        """Extract (or resume, or load) an image view in ``folder``; record its blank images."""
        done = folder / "done"
        if not done.is_file():
            params = view_params(name, self.options)
            try:
                feature = view.image(self, params)
            except ConfigError as e:
                if str(e).startswith("[features."):
                    raise
                raise ConfigError(f"[features.{name}] {e}") from e
            for split in ("train", "test"):
                table = self.dataset.image_table(split)
                _, blank = extract(table, feature, folder / f"{split}.data.npy", self.on_bad_image, f"{name} ({split})")
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
