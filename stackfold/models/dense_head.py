"""The dense head over an embedding: standardise -> Dropout -> Dense relu -> Dropout -> Dense relu (``embedding``)
-> Dropout -> softmax, on feature rows held in memory.

What a row is sets the path: a product (:class:`DenseHeadNN` over a product-level matrix, such as sentence
vectors), or an image (:class:`ImageFeatureHeadNN` over per-image features, trained per image and averaged per
product like every image model).
"""

from types import ModuleType
from typing import Any

import numpy as np

from stackfold.core.blocks import ImageBlock, Views
from stackfold.core.estimator import BaseModel
from stackfold.core.params import Param, count, fraction
from stackfold.core.tf_runtime import keras
from stackfold.models.keras_support import (
    Batches, array_batches, fit_on_inner_split, standardisation, training_parameters,
)
from stackfold.models.per_image import PerImageModel


def head_parameters(dropout: float, batch_size: int, epochs: int, patience: int) -> dict[str, Param]:
    """The declared parameters of a dense head: its layers' widths and dropout, and its training loop's.

    Parameters:
        units: width of the first hidden ReLU layer.
        embedding_units: width of the second, the ``embedding`` layer.
        dropout: share of the inputs dropped at each training step, before each dense layer.
        learning_rate, batch_size, max_steps_per_epoch, epochs, patience, validation_fraction: see
            :func:`stackfold.models.keras_support.training_parameters`.
    """
    return {
        "units": count(512),
        "embedding_units": count(256),
        "dropout": fraction(dropout),
        **training_parameters(batch_size=batch_size, epochs=epochs, patience=patience),
    }


class DenseHeadNN(BaseModel):
    """The dense head on feature rows, standardised with the mean and variance of the rows it is fitted on; a
    subclass says what the rows are (its ``_fit`` calls :meth:`_fit_head`, its predictions :meth:`_predict_rows`).

    Pretrained features can vary little around their mean: those of random (offline) VGG16 weights vary by ~2%,
    and the unscaled head learned nothing from them (0.08 CV weighted F1 on a 2,000-product twin).

    Parameters:
        *: see :func:`stackfold.models.dense_head.head_parameters`.
    """

    cpu_dispatched = True  # a keras net: TensorFlow's kernels

    def _fit_head(self, features: np.ndarray, y: np.ndarray, batches: Batches) -> None:
        """Build the head for ``features`` (all the training rows) and fit it on ``batches`` of the products of
        ``y``, early-stopped on an inner split of them."""
        self.mean_, self.variance_ = standardisation(features)
        k = keras(self.n_jobs, self.seed)
        self.model_ = self.network(k, features.shape[1:], len(self.classes))
        self.epochs_ = fit_on_inner_split(k, self.model_, batches, y, self.params, self.seed)

    def _predict_rows(self, features: np.ndarray) -> np.ndarray:
        """Probabilities of every row of ``features``."""
        return self.model_.predict(array_batches(features, None, self.params["batch_size"], None), verbose=0)

    def network(self, keras_module: ModuleType, input_shape: tuple[int, ...], n_classes: int) -> Any:
        """The uncompiled head, from one row's features to softmax probabilities over ``n_classes``."""
        k, p = keras_module, self.params
        return k.Sequential([
            k.Input(shape=input_shape),
            k.layers.Normalization(mean=self.mean_, variance=self.variance_),
            k.layers.Dropout(p["dropout"]),
            k.layers.Dense(p["units"], activation="relu"),
            k.layers.Dropout(p["dropout"]),
            k.layers.Dense(p["embedding_units"], activation="relu", name="embedding"),
            k.layers.Dropout(p["dropout"]),
            k.layers.Dense(n_classes, activation="softmax"),
        ])


class ImageFeatureHeadNN(PerImageModel, DenseHeadNN):
    """The dense head on the per-image features of ``image_view`` (a few hundred floats an image: held in memory),
    each image a row labelled with its product's class; a product gets the mean over its images."""

    def _fit_images(self, block: ImageBlock, y: np.ndarray) -> None:
        features = block.materialize()
        held = ImageBlock(features, np.arange(block.n_images), block.owner, block.n_products)

        def batches(products: np.ndarray, seed: int | None, batch_size: int) -> Any:
            taken = held.take(products)
            return array_batches(taken.materialize(), taken.image_labels(y[products]), batch_size, seed)

        self._fit_head(features, y, batches)

    def _predict_images(self, block: ImageBlock) -> np.ndarray:
        return self._predict_rows(block.materialize())

    def embed(self, X: Views) -> np.ndarray:
        """The ``embedding`` layer's output for every product: the mean over the product's images."""
        block = self._block(X)
        k = keras(self.n_jobs, self.seed)
        embedding = k.Model(self.model_.inputs, self.model_.get_layer("embedding").output)
        rows = embedding.predict(array_batches(block.materialize(), None, self.params["batch_size"], None), verbose=0)
        return block.per_product(rows)
