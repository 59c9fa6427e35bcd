"""The shift check's views: what each reads, how it becomes one matrix of train and test rows, which classifier
tells the sides apart.

``terms``         the word 1-2-gram counts of a run (``word_counts``), TF-IDF fitted in each fold, logistic
                  regression: its coefficients name the terms, each pointing to the side it is more frequent on
``meta``          simple facts of each product: per text column its characters and words; per photo its file
                  bytes, width and height (read from the header only); LightGBM, its gain names the features
``sentence``      the sentence vectors (``sentence``), scaled, logistic regression; dimensions have no names
``color``         the colour statistics of the photos (``color``: mean RGB, histograms), LightGBM; a feature is
                  named by its channel and values, ``blue 224-255`` (the share of pixels there)
``efficientnet``  the EfficientNet features of the photos (``efficientnet``), scaled, logistic regression

The feature views come from the run's feature store (cached by content key: a run's own are reused). By default
a check reads ``terms`` and ``meta``, and the other views the run's models read (:func:`default_views`).
"""

import io
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
import scipy.sparse as sp
from PIL import Image

from stackfold.competition.images import DECODE_ERRORS, ImageTable
from stackfold.competition.load import Dataset
from stackfold.core.blocks import Block, ImageBlock
from stackfold.errors import ConfigError
from stackfold.features.image import color_feature_names


class ShiftSource(Protocol):
    """What a shift view reads: the data set, feature views (train and test blocks) and a count view's terms."""

    dataset: Dataset

    def get(self, name: str) -> tuple[Block, Block]: ...

    def terms(self, name: str) -> np.ndarray:
        """The terms of count view ``name``, in the order of its columns."""


@dataclass(frozen=True)
class Matrix:
    """A view's rows: ``train`` then ``test`` (sparse or dense, same columns) and the columns' names (``None``:
    they have none, as a network's dimensions)."""

    train: sp.csr_matrix | np.ndarray
    test: sp.csr_matrix | np.ndarray
    names: np.ndarray | None


@dataclass(frozen=True)
class ShiftView:
    """How one view is checked. ``needs``: ``"text"``, ``"images"`` or ``""`` (either); ``model``: ``"terms"``
    (TF-IDF and logistic regression), ``"trees"`` (LightGBM) or ``"linear"`` (scaled logistic regression)."""

    sources: tuple[str, ...]
    needs: str
    model: str
    matrix: Callable[[ShiftSource], Matrix]


def _terms(source: ShiftSource) -> Matrix:
    train, test = source.get("word_counts")
    return Matrix(train, test, np.sort(source.terms("word_counts")))  # columns are the terms in alphabetical order


def _dense(name: str, names: Callable[[int], np.ndarray] | None = None) -> Callable[[ShiftSource], Matrix]:
    """A view of one float row per product (an image view: the mean of the product's images)."""

    def matrix(source: ShiftSource) -> Matrix:
        blocks = [_product_rows(block) for block in source.get(name)]
        return Matrix(blocks[0], blocks[1], names(blocks[0].shape[1]) if names else None)

    return matrix


def _product_rows(block: Block) -> np.ndarray:
    if isinstance(block, ImageBlock):
        return np.asarray(block.per_product(block.materialize()), dtype=np.float32)
    return np.asarray(block, dtype=np.float32)


def _color_names(width: int) -> np.ndarray:
    """The colour features' names in words: ``mean red``, then each histogram bin's channel and values,
    ``blue 224-255`` (the share of pixels there), for :func:`~stackfold.features.image.color_features`' columns."""
    bins = (width - 3) // 3
    channels = {"r": "red", "g": "green", "b": "blue"}
    edges = [math.ceil(b * 255 / bins) for b in range(bins)] + [256]
    named = []
    for name in color_feature_names(bins):
        parts = name.split("_")
        named.append(f"mean {channels[parts[1]]}" if parts[0] == "mean" else
                     f"{channels[parts[1]]} {edges[int(parts[2])]}-{edges[int(parts[2]) + 1] - 1}")
    return np.array(named)


def _meta(source: ShiftSource) -> Matrix:
    dataset = source.dataset
    frames = []
    for split, products in (("train", dataset.train), ("test", dataset.test)):
        columns = {}
        for column in dataset.spec.text_columns:
            text = products[column].fillna("").astype(str)
            columns[f"{column} chars"] = text.str.len().to_numpy(np.float32)
            columns[f"{column} words"] = text.str.split().str.len().to_numpy(np.float32)
        if dataset.images:
            columns.update(photo_facts(dataset.image_table(split)))
        frames.append(pd.DataFrame(columns))
    train, test = frames
    return Matrix(train.to_numpy(np.float32), test.to_numpy(np.float32), np.array(train.columns, dtype=str))


def photo_facts(table: ImageTable) -> dict[str, np.ndarray]:
    """Each product's photo file bytes, width and height (means over its photos; NaN where none is readable),
    from the file's size and header: no photo is decoded."""
    facts = np.full((len(table), 3), np.nan)
    for i, image in enumerate(table.sources):
        try:
            if isinstance(image, os.PathLike):
                size, opened = os.stat(image).st_size, Image.open(image)
            else:
                size, opened = image.length, Image.open(io.BytesIO(image.read()))
            with opened:
                facts[i] = (size, *opened.size)
        except DECODE_ERRORS:
            continue
    sums = np.zeros((table.n_products, 3))
    counts = np.zeros((table.n_products, 3))
    known = ~np.isnan(facts)
    np.add.at(sums, table.owner, np.where(known, facts, 0.0))
    np.add.at(counts, table.owner, known)
    with np.errstate(invalid="ignore"):
        means = (sums / counts).astype(np.float32)
    return {"photo bytes": means[:, 0], "photo width": means[:, 1], "photo height": means[:, 2]}


SHIFT_VIEWS: dict[str, ShiftView] = {
    "terms": ShiftView(("word_counts",), "text", "terms", _terms),
    "meta": ShiftView((), "", "trees", _meta),
    "sentence": ShiftView(("sentence",), "text", "linear", _dense("sentence")),
    "color": ShiftView(("color",), "images", "trees", _dense("color", _color_names)),
    "efficientnet": ShiftView(("efficientnet",), "images", "linear", _dense("efficientnet")),
}


def check_views(names: tuple[str, ...], images: bool, text: bool, where: str = "shift_views") -> None:
    """Refuse, in one line, an unknown shift view or one the run cannot feed (photos without images, text on a
    challenge without text)."""
    for name in names:
        if name not in SHIFT_VIEWS:
            raise ConfigError(f"{where}: unknown shift view {name!r}; choose from: {', '.join(SHIFT_VIEWS)}")
        needs = SHIFT_VIEWS[name].needs
        if needs == "images" and not images:
            raise ConfigError(f"{where}: shift view {name!r} needs images, but images = false; remove it")
        if needs == "text" and not text:
            raise ConfigError(f"{where}: shift view {name!r} needs text, but the products have none; remove it")


def default_views(model_views: set[str], images: bool, text: bool) -> tuple[str, ...]:
    """The views a check reads unless told: ``terms`` (with text) and ``meta`` always, the others when the run's
    models read their feature view (``model_views``), so a run's check builds no view the run does not."""
    usable = {name: view for name, view in SHIFT_VIEWS.items()
              if (view.needs != "images" or images) and (view.needs != "text" or text)}
    return tuple(name for name, view in usable.items()
                 if name in ("terms", "meta") or set(view.sources) <= model_views)
