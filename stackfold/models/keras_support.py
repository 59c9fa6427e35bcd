"""What every keras model here shares: sparse and image batches, early stopping on an inner split,
a dense head over product-level features, standardisation statistics, and the per-image keras model.

TensorFlow (:func:`stackfold.core.tf_runtime.keras`) is imported only when a neural model is
fitted (the import alone costs ~5 s).
"""

import math
from abc import abstractmethod
from collections.abc import Callable
from types import ModuleType
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from stackfold.core.blocks import ImageBlock
from stackfold.core.params import Param, count, fraction, positive
from stackfold.core.splits import inner_split
from stackfold.core.tf_runtime import keras
from stackfold.models.per_image import PerImageModel


def sparse_batches(keras_module: ModuleType, X: sp.csr_matrix, y: np.ndarray | None, batch_size: int, seed: int | None):
    """A keras ``PyDataset`` of CSR rows as ``tf.SparseTensor`` batches, for a model whose input is ``sparse=True``.

    The matrix is never densified (85k x 20k floats would take 6.8 GB); sparse batches also
    made an epoch ~30% faster than dense ones here. With ``seed`` the row order is
    reshuffled, reproducibly, after every epoch.
    """
    import tensorflow as tf

    class SparseBatches(keras_module.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__()
            self.rng = np.random.default_rng(seed) if seed is not None else None
            self.order = self.rng.permutation(X.shape[0]) if self.rng is not None else np.arange(X.shape[0])

        def __len__(self) -> int:
            return math.ceil(X.shape[0] / batch_size)

        def __getitem__(self, index: int) -> Any:
            rows = self.order[index * batch_size : (index + 1) * batch_size]
            batch = X[rows].tocoo()
            indices = np.column_stack([batch.row, batch.col]).astype(np.int64)
            tensor = tf.SparseTensor(indices, batch.data.astype(np.float32), batch.shape)
            return (tensor,) if y is None else (tensor, y[rows])

        def on_epoch_end(self) -> None:
            if self.rng is not None:
                self.order = self.rng.permutation(X.shape[0])

    return SparseBatches()


def image_batches(
    keras_module: ModuleType, block: ImageBlock, y: np.ndarray | None, batch_size: int, seed: int | None,
    divisor: float = 1.0,
):
    """A keras ``PyDataset`` of the images of ``block`` as float32 divided by ``divisor``, with their labels.

    ``y`` holds one label per product; each image gets its product's. Images are read one batch
    at a time through :meth:`ImageBlock.batch`, so a memory-mapped block larger than RAM is never
    loaded whole, and pixels are scaled on the fly. With ``seed`` the products are reshuffled,
    reproducibly, after every epoch (their images stay together).
    """

    class ImageBatches(keras_module.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__()
            self.rng = np.random.default_rng(seed) if seed is not None else None
            self.block, self.labels = self._ordered()

        def _ordered(self) -> tuple[ImageBlock, np.ndarray | None]:
            products = self.rng.permutation(block.n_products) if self.rng is not None else np.arange(block.n_products)
            ordered = block.take(products)
            return ordered, None if y is None else ordered.image_labels(y[products])

        def __len__(self) -> int:
            return math.ceil(block.n_images / batch_size)

        def __getitem__(self, index: int) -> Any:
            start, stop = index * batch_size, min((index + 1) * batch_size, block.n_images)
            images = self.block.batch(start, stop).astype(np.float32) / np.float32(divisor)
            return (images,) if self.labels is None else (images, self.labels[start:stop])

        def on_epoch_end(self) -> None:
            if self.rng is not None:
                self.block, self.labels = self._ordered()

    return ImageBatches()


def training_parameters(batch_size: int, epochs: int, patience: int, learning_rate: float = 1e-3) -> dict[str, Param]:
    """The declared parameters of the early-stopped training loop every net here runs (:func:`fit_on_split`)."""
    return {
        "learning_rate": positive(learning_rate),
        "batch_size": count(batch_size),
        "epochs": count(epochs),
        "patience": count(patience, low=0),
        "validation_fraction": fraction(0.1),
    }


def standardisation(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of ``features`` (rows) for a keras ``Normalization`` layer.

    A feature constant on these rows (blank images, a single row) gets variance 1, as in
    scikit-learn's ``StandardScaler``: keras divides by ``max(std, 1e-7)``, and the float32 variance
    of a constant is 0 or a rounding error (1e-15), so a new row where the feature differs would
    reach the softmax multiplied by 1e7.
    """
    variance = features.var(axis=0)
    variance[(features == features[:1]).all(axis=0)] = 1
    return features.mean(axis=0), variance


def fit_on_inner_split(
    keras_module: ModuleType, model: Any, batches: Callable[[np.ndarray, int | None], Any], y: np.ndarray,
    params: dict[str, Any], seed: int,
) -> int:
    """Fit ``model`` on most products of ``y``, stopping on the loss of a stratified inner split; return epochs run.

    ``batches(products, seed)`` gives a ``PyDataset`` of those products' rows (shuffled with a
    seed, in order without). Splitting products, not images, keeps a product's images on one
    side, so validation images never have a twin in training.
    """
    train, valid = inner_split(y, params["validation_fraction"], seed)
    return fit_on_split(keras_module, model, batches, train, valid, params, seed)


def fit_on_split(
    keras_module: ModuleType, model: Any, batches: Callable[[np.ndarray, int | None], Any], train: np.ndarray,
    valid: np.ndarray, params: dict[str, Any], seed: int,
) -> int:
    """Fit ``model`` on products ``train`` for at most ``params["epochs"]``, keeping the weights of the
    epoch with the lowest loss on products ``valid`` (none: every epoch); return epochs run."""
    callbacks = [keras_module.callbacks.EarlyStopping(patience=params["patience"], restore_best_weights=True)]
    history = model.fit(
        batches(train, seed),
        validation_data=batches(valid, None) if len(valid) else None,
        epochs=params["epochs"],
        callbacks=callbacks if len(valid) else [],
        verbose=0,
    )
    return len(history.history["loss"])


def fit_dense_head(
    keras_module: ModuleType, model: Any, features: np.ndarray, y: np.ndarray, train: np.ndarray, valid: np.ndarray,
    params: dict[str, Any], seed: int,
) -> int:
    """Compile ``model`` (Adam, cross-entropy) and fit it on rows ``train`` of the product-level ``features``,
    stopping on rows ``valid``; return epochs run."""
    model.compile(optimizer=keras_module.optimizers.Adam(params["learning_rate"]), loss="sparse_categorical_crossentropy")
    rows = ImageBlock.one_per_product(features)
    return fit_on_split(
        keras_module, model,
        lambda products, seed: image_batches(keras_module, rows.take(products), y[products], params["batch_size"], seed),
        train, valid, params, seed,
    )


class KerasImageModel(PerImageModel):
    """A keras net trained per image on batches streamed from the block, early-stopped on an inner split.

    ``divisor`` scales the stored values into the net's input (255 for uint8 pixels).
    """

    divisor: ClassVar[float] = 1.0

    def _fit_images(self, block: ImageBlock, y: np.ndarray) -> None:
        k = keras(self.n_jobs, self.seed)
        self.model_ = self.network(k, block.data.shape[1:], len(self.classes))
        self.model_.compile(
            optimizer=k.optimizers.Adam(self.params["learning_rate"]), loss="sparse_categorical_crossentropy"
        )
        self.epochs_ = fit_on_inner_split(
            k, self.model_,
            lambda products, seed: image_batches(
                k, block.take(products), y[products], self.params["batch_size"], seed, self.divisor
            ),
            y, self.params, self.seed,
        )

    def _predict_images(self, block: ImageBlock) -> np.ndarray:
        return self.model_.predict(self._batches(block), verbose=0)

    def _batches(self, block: ImageBlock) -> Any:
        """Unlabelled batches of every image of ``block``, in order."""
        k = keras(self.n_jobs, self.seed)
        return image_batches(k, block, None, self.params["batch_size"], None, self.divisor)

    @abstractmethod
    def network(self, keras_module: ModuleType, input_shape: tuple[int, ...], n_classes: int) -> Any:
        """The uncompiled net, from one image's shape to softmax probabilities over ``n_classes``."""
