"""Feature views: the unfitted inputs models consume, computed once per data set and cached.

A view is a pure function of the raw data (no statistics learned from labelled rows), so it
is computed for train and test together and reused by every model and fold. Whatever is
learned from rows (TF-IDF vocabularies and IDF, SVD, scalers) is fitted inside each fold by
the model (see :class:`stackfold.features.tfidf.FoldTfidf`).

Built-in views:

``rows``        frame without columns: just the products, for models that need no feature (``prior``)
``text``        frame: ``text`` (HTML stripped), ``tokens`` (normalised), ``language``,
                ``token_len``, ``is_fr``, ``is_en``, ``lang_other``
``word_counts`` sparse counts of word 1-2-grams of ``tokens``, terms in >= 2 texts
``char_counts`` sparse counts of ``char_wb`` 1-4-grams of lower-cased ``text``, terms in >= 2 texts
``sentence``    float32 512-d multilingual sentence vectors of the title + the start of the description
                (see :mod:`stackfold.features.sentence`), encoded resumably

Image views hold one row per image (:class:`~stackfold.core.blocks.ImageBlock`), built from the split's
:class:`~stackfold.competition.images.ImageTable`. Each image is padded to a square, cut by
``border`` (fraction per side), cropped to the product if ``content_crop``, then resized:

``color``       float32 mean RGB and ``bins``-bin histograms per channel (:func:`color_feature_names`)
``pixels``      float32 ``size x size x 3`` pixels in [0, 1], then the colour features (random forest, SVC)
``images``      uint8 ``(size, size, 3)`` images, memory-mapped: the input of a CNN
``vgg16``       float32 512 features of a headless VGG16 (see :mod:`stackfold.features.vgg16`)
``efficientnet`` float32 1280 pooled features of EfficientNet-Lite0 with ImageNet weights, offline
                (see :mod:`stackfold.features.efficientnet`); ``flip`` averages the mirrored image's

They are built and cached by :class:`~stackfold.features.store.FeatureStore`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import scipy.sparse as sp

from stackfold.competition.load import Dataset
from stackfold.core.blocks import Block
from stackfold.core.params import Param, check_params, count, declare, fraction, resolve_params
from stackfold.features.counts import count_over, count_terms
from stackfold.features.efficientnet import EfficientNetFeatures
from stackfold.features.efficientnet import MIN_SIZE as EFFICIENTNET_MIN_SIZE
from stackfold.features.efficientnet import N_FEATURES as EFFICIENTNET_FEATURES
from stackfold.features.image import ImageFeature, color_feature, pixel_array_feature, pixel_feature
from stackfold.features.image_cache import ResumableArray
from stackfold.features.image_io import ImageOptions
from stackfold.features.language import LANGUAGE_FLAG_NAMES, detect_languages, language_flags
from stackfold.features.sentence import N_FEATURES as SENTENCE_FEATURES
from stackfold.features.sentence import SentenceEncoder, encode_texts, sentence_inputs
from stackfold.features.text import title_descr
from stackfold.features.tokens import normalise_texts, token_lengths
from stackfold.features.vgg16 import MIN_SIZE as VGG16_MIN_SIZE
from stackfold.features.vgg16 import N_FEATURES as VGG16_FEATURES
from stackfold.features.vgg16 import VGG16Features
from stackfold.progress import Cost, console



class Extraction(Protocol):
    """Somewhere else to compute the rows of slow views, in row partitions (a Dask cluster: ``stackfold.cluster``).

    The array methods compute the rows ``array`` (a :class:`~stackfold.features.image_cache.ResumableArray`)
    lacks and write them into it as they arrive, so the cache stays resumable.
    """

    def image_rows(self, table: Any, feature: ImageFeature, array: Any, on_bad: str, heavy: bool) -> None: ...

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


@dataclass(frozen=True)
class View:
    """How to build one view from the data set and the views it requires.

    A view has either ``build`` (train and test blocks at once, kept in memory then saved)
    or ``image`` (the per-image feature to extract, resumably, into the cache folder).
    """

    build: Callable[[ViewSource, dict[str, Any]], tuple[Block, Block]] | None = None
    parameters: dict[str, Param] = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    needs_images: bool = False
    needs_text: bool = False
    image: Callable[[ViewSource, dict[str, Any]], ImageFeature] | None = None
    pretrained: bool = False
    """A pretrained network computes it: on a cluster its partitions ask for the configured worker resources."""
    cost: Cost = Cost(5.0)
    """What building it for the challenge's 98,728 products takes on the reference machine (the run's ETA)."""
    cost_scale: Callable[[dict[str, Any]], float] | None = None
    """How its parameters scale ``cost`` (a network's input size)."""
    cpu_dispatched: bool = False
    """Computed in kernels picked for the CPU at run time (XNNPACK, oneDNN): equal across CPUs up to float rounding."""
    learns: bool = False
    """It learns something from the run's rows (a vocabulary), kept to build new rows' view (``ViewSource.learn``)."""


def _split(dataset: Dataset, split: str) -> pd.DataFrame:
    return dataset.train if split == "train" else dataset.test


def text_rows(frame: pd.DataFrame, columns: tuple[str, ...], params: dict[str, Any], split: str) -> pd.DataFrame:
    """The ``text`` view's rows of ``frame``: each row is computed from its own product alone, so
    row partitions concatenated (with a fresh index) are the whole split's view."""
    text = title_descr(frame, columns, f"cleaning text ({split})")
    languages = detect_languages(text, threshold=params["language_threshold"])
    tokens = normalise_texts(
        text, languages, lemmatize=params["lemmatize"], remove_stop_words=params["remove_stop_words"],
        fold_accents=params["fold_accents"], token_pattern=params["token_pattern"],
    )
    rows = pd.DataFrame({"text": text, "tokens": tokens, "language": languages, "token_len": token_lengths(tokens)})
    rows[list(LANGUAGE_FLAG_NAMES)] = language_flags(languages)
    return rows


def _text(store: ViewSource, params: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    columns = store.dataset.spec.text_columns
    frames = []
    for split in ("train", "test"):
        products = _split(store.dataset, split)[list(columns)]
        rows = partial(text_rows, columns=columns, params=params, split=split)
        frames.append(rows(products) if store.extraction is None else store.extraction.frame_rows(products, rows))
    return frames[0], frames[1]


def _sentence(store: ViewSource, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    encoder = SentenceEncoder(store.n_jobs)
    columns = store.dataset.spec.text_columns
    blocks = []
    for split in ("train", "test"):
        texts = sentence_inputs(_split(store.dataset, split), columns, params["description_chars"])
        path = store.folder("sentence") / f"{split}{PARTIAL_SUFFIX}"
        if store.extraction is None:
            blocks.append(encode_texts(texts, encoder, path, params["batch_size"], split))
            continue
        array = ResumableArray(path, (len(texts), SENTENCE_FEATURES), "float32")
        store.extraction.sentence_rows(texts, array, params["batch_size"])
        blocks.append(array.result())
    return blocks[0], blocks[1]


def _rows(store: ViewSource, params: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.DataFrame(index=store.dataset.train.index), pd.DataFrame(index=store.dataset.test.index)


def _counts(name: str, column: str, **vectorizer: Any) -> Callable[[ViewSource, dict[str, Any]], tuple[Block, Block]]:
    """The builder of count view ``name``: its vocabulary is learned from the run's texts (train and test, a pure
    count: no label is read) and kept; rows predicted later are counted over that vocabulary."""

    def build(store: ViewSource, params: dict[str, Any]) -> tuple[Block, Block]:
        train, test = store.get("text")
        texts = pd.concat([train[column], test[column]]).to_numpy(dtype=object)
        options = {**vectorizer, "ngram_range": (params["ngram_min"], params["ngram_max"]), "lowercase": True,
                   "dtype": np.float32}
        learned = store.learned(name)
        if learned is not None:
            counts = count_over(learned, texts, options)
        else:
            with console.status(f"counting n-grams of {column} ({len(texts)} texts)"):
                counts, terms = count_terms(texts, options, params["min_df"])
            if not len(terms):
                console.print(f"[yellow]warning[/yellow]: no n-gram of {column} is in {params['min_df']} texts; "
                              "the models reading it learn the class prior only")
            store.learn(name, terms)
        return counts[: len(train)], counts[len(train):]

    return build


CROP_PARAMETERS = {"content_crop": Param(True), "border": Param(0.0, low=0, below=0.5)}


def _options(params: dict[str, Any]) -> ImageOptions:
    return ImageOptions(content_crop=params["content_crop"], border=params["border"])


def _color(store: ViewSource, params: dict[str, Any]) -> ImageFeature:
    return color_feature(params["bins"], _options(params))


def _pixels(store: ViewSource, params: dict[str, Any]) -> ImageFeature:
    return pixel_feature(params["size"], params["bins"], _options(params))


def _images(store: ViewSource, params: dict[str, Any]) -> ImageFeature:
    return pixel_array_feature(params["size"], _options(params))


def _efficientnet(store: ViewSource, params: dict[str, Any]) -> ImageFeature:
    extractor = EfficientNetFeatures(params["size"], params["weights"], store.n_jobs, params["seed"], params["flip"],
                                     params["engine"])
    return ImageFeature(params["size"], (EFFICIENTNET_FEATURES,), "float32", extractor, _options(params),
                        params["batch_size"])


def _vgg16(store: ViewSource, params: dict[str, Any]) -> ImageFeature:
    extractor = VGG16Features(params["size"], params["weights"], store.n_jobs, params["seed"])
    return ImageFeature(params["size"], (VGG16_FEATURES,), "float32", extractor, _options(params), params["batch_size"])


COUNT_PARAMETERS = {"ngram_min": count(1), "ngram_max": count(2), "min_df": count(2)}

PRODUCTS = 98_728
"""Training and test products of the Rakuten challenge: the size at which a view's ``cost`` is measured."""
PHOTO_DECODING = Cost(300.0, rows=PRODUCTS)
"""Reading and resizing one 500 px photo per product on 2 cores (a view that only summarises pixels)."""


def _efficientnet_scale(params: dict[str, Any]) -> float:
    """Network work grows with the input's area; a flipped copy doubles it, and Keras runs at about half LiteRT's pace."""
    return (params["size"] / 224) ** 2 * (2 if params["flip"] else 1) * (2 if params["engine"] == "keras" else 1)


VIEWS: dict[str, View] = {
    "rows": View(_rows, cost=Cost(0.1)),
    "text": View(_text, declare({"language_threshold": fraction(0.9999), "lemmatize": True, "remove_stop_words": False,
                                 "fold_accents": True, "token_pattern": r"\w+"}), needs_text=True,
                 cost=Cost(64.0, rows=PRODUCTS)),
    "word_counts": View(_counts("word_counts", "tokens", analyzer="word", token_pattern=r"\S+"), COUNT_PARAMETERS,
                        requires=("text",), cost=Cost(10.0, rows=PRODUCTS), learns=True),
    "char_counts": View(_counts("char_counts", "text", analyzer="char_wb"), {**COUNT_PARAMETERS,
                        "ngram_max": count(4)}, requires=("text",), cost=Cost(45.0, rows=PRODUCTS), learns=True),
    "sentence": View(_sentence, {"description_chars": count(600, low=0), "batch_size": count(256)}, needs_text=True,
                     pretrained=True, cost=Cost(460.0, rows=PRODUCTS)),
    "color": View(parameters={"bins": count(8), **CROP_PARAMETERS}, needs_images=True, image=_color,
                  cost=PHOTO_DECODING),
    "pixels": View(parameters={"size": count(16), "bins": count(8), **CROP_PARAMETERS}, needs_images=True,
                   image=_pixels, cost=PHOTO_DECODING),
    "images": View(parameters={"size": count(100), **CROP_PARAMETERS}, needs_images=True, image=_images,
                   cost=PHOTO_DECODING),
    "vgg16": View(parameters=declare({"size": count(64, low=VGG16_MIN_SIZE), "weights": "imagenet",
                                      "batch_size": count(32), "seed": 0, **CROP_PARAMETERS}),
                  needs_images=True, image=_vgg16, pretrained=True, cpu_dispatched=True,
                  cost=Cost(600.0, rows=PRODUCTS), cost_scale=lambda params: (params["size"] / 64) ** 2),
    "efficientnet": View(parameters=declare({"size": count(224, low=EFFICIENTNET_MIN_SIZE), "weights": "package",
                                             "flip": False, "engine": Param("litert", choices=("litert", "keras")),
                                             "batch_size": count(32), "seed": 0, **CROP_PARAMETERS}),
                         needs_images=True, image=_efficientnet, pretrained=True, cpu_dispatched=True,
                         cost=Cost(850.0, rows=PRODUCTS), cost_scale=_efficientnet_scale),
}


def reads_text(name: str) -> bool:
    """Whether view ``name`` reads the products' text, itself or through the views it is built from."""
    view = VIEWS[name]
    return view.needs_text or any(reads_text(r) for r in view.requires)


def view_params(name: str, overrides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Parameters of view ``name``: its declared defaults updated with ``overrides[name]``, checked."""
    view = VIEWS[name]
    given = overrides.get(name, {})
    check_params(view.parameters, given, f"[features.{name}]")
    return resolve_params(view, configured=given)


PARTIAL_STEM = ".partial"
PARTIAL_SUFFIX = f"{PARTIAL_STEM}.npy"
"""A view built in resumable steps keeps its unfinished arrays in its folder under this suffix."""
