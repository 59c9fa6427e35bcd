"""What every keras model here shares: in-memory and streamed image batches, early stopping on an inner split,
a dense head over product-level features, standardisation statistics, declared parameters (a net's, and an inner
net's as a fusion names them), and the per-image keras model.

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


def array_batches(features: np.ndarray | sp.csr_matrix, y: np.ndarray | None, batch_size: int, seed: int | None):
    """Rows of in-memory ``features`` (dense, or CSR rows as ``tf.SparseTensor`` batches) and their labels, as a
    ``tf.data`` pipeline that reshuffles every epoch with ``seed`` (rows in order without one).

    Batches are cut, shuffled and prefetched inside TensorFlow, so no Python runs between steps: with a
    keras ``PyDataset`` building each batch in Python the nets spent more time there than computing (text_nn
    ~13 ms a step at 64 rows). A sparse matrix is never densified (85k x 20k floats would take 6.8 GB);
    dense rows are kept once, as one tensor, and gathered by shuffled positions.
    """
    import tensorflow as tf

    n = features.shape[0]
    if sp.issparse(features):
        coo = sp.csr_matrix(features, dtype=np.float32).sorted_indices().tocoo()  # TensorFlow needs row-major order
        rows = tf.data.Dataset.from_tensor_slices(
            tf.SparseTensor(np.column_stack([coo.row, coo.col]).astype(np.int64), coo.data, coo.shape))
        data = rows if y is None else tf.data.Dataset.zip(rows, tf.data.Dataset.from_tensor_slices(y))
        if seed is not None:
            data = data.shuffle(n, seed=seed, reshuffle_each_iteration=True)
        return data.batch(batch_size).prefetch(2)
    values = tf.constant(np.asarray(features, dtype=np.float32))
    labels = None if y is None else tf.constant(np.asarray(y))
    positions = tf.data.Dataset.range(n)
    if seed is not None:
        positions = positions.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    positions = positions.batch(batch_size)
    if labels is None:
        return positions.map(lambda p: tf.gather(values, p)).prefetch(2)
    return positions.map(lambda p: (tf.gather(values, p), tf.gather(labels, p))).prefetch(2)


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
    """The declared parameters of the early-stopped training loop every net here runs (:func:`fit_on_split`); the
    arguments are their defaults.

    Parameters:
        learning_rate: Adam's step size at ``batch_size`` (grown with the square root of a grown batch).
        batch_size: rows a training step reads, until an epoch would take more than ``max_steps_per_epoch`` steps.
        max_steps_per_epoch: past this many steps an epoch, batches grow to rows / ``max_steps_per_epoch``
            (:func:`grown_batches`): a large fold trains in fewer, larger steps.
        epochs: epochs at most; early stopping usually ends training sooner.
        patience: epochs without a lower loss on the inner validation split before training stops, keeping the best
            epoch's weights.
        validation_fraction: the share of the training fold's products held out, stratified, to stop on.
    """
    return {
        "learning_rate": positive(learning_rate),
        "batch_size": count(batch_size),
        "max_steps_per_epoch": count(250),
        "epochs": count(epochs),
        "patience": count(patience, low=0),
        "validation_fraction": fraction(0.1),
    }


def prefixed(prefix: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` of an inner net, named as its outer model (a fusion) declares them."""
    return {prefix + name: value for name, value in params.items()}


def unprefixed(prefix: str, params: dict[str, Any]) -> dict[str, Any]:
    """The outer model's parameters of the inner net named by ``prefix``, without the prefix."""
    return {name[len(prefix):]: value for name, value in params.items() if name.startswith(prefix)}


def grown_batches(params: dict[str, Any], n_rows: int) -> tuple[int, float]:
    """Batch size and learning rate for an epoch over ``n_rows``: ``batch_size`` and ``learning_rate`` until an
    epoch would take more than ``max_steps_per_epoch`` steps, then batches of ``n_rows / max_steps_per_epoch``
    and the learning rate grown with the square root of the batch (Adam's usual rule).

    Small data keeps the small batches it needs (the real rows' ~1,300 a fold: 21 steps of 64); at the
    challenge's size every step of text_nn updates 5M weights whatever its batch holds, so 4x fewer, 4x
    larger steps made it 3.7x faster for -0.2 points on a fold of the 20,000-product twin (batch 64 -> 256).
    """
    batch = max(params["batch_size"], math.ceil(n_rows / params["max_steps_per_epoch"]))
    return batch, params["learning_rate"] * math.sqrt(batch / params["batch_size"])


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


Batches = Callable[[np.ndarray, int | None, int], Any]
"""``batches(products, seed, batch_size)``: those products' rows in batches (reshuffled every epoch with a seed,
in order without), as a ``tf.data`` pipeline or a keras ``PyDataset``."""


def row_batches(features: np.ndarray, y: np.ndarray) -> Batches:
    """Batches of rows of the product-level ``features`` held in memory, with their labels ``y``
    (:func:`array_batches`)."""
    return lambda rows, seed, batch_size: array_batches(features[rows], y[rows], batch_size, seed)


def fit_on_inner_split(
    keras_module: ModuleType, model: Any, batches: Batches, y: np.ndarray, params: dict[str, Any], seed: int,
) -> int:
    """Fit ``model`` on most products of ``y``, stopping on the loss of a stratified inner split; return epochs run.

    Splitting products, not images, keeps a product's images on one side, so validation images never
    have a twin in training.
    """
    train, valid = inner_split(y, params["validation_fraction"], seed)
    return fit_on_split(keras_module, model, batches, train, valid, params, seed)


def fit_on_split(
    keras_module: ModuleType, model: Any, batches: Batches, train: np.ndarray, valid: np.ndarray,
    params: dict[str, Any], seed: int,
) -> int:
    """Compile ``model`` (Adam, cross-entropy) and fit it on products ``train`` for at most ``params["epochs"]``,
    in batches grown with the rows (:func:`grown_batches`), keeping the weights of the epoch with the lowest
    loss on products ``valid`` (none: every epoch); return epochs run."""
    batch_size, learning_rate = grown_batches(params, len(train))
    model.compile(optimizer=keras_module.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy")
    callbacks = [keras_module.callbacks.EarlyStopping(patience=params["patience"], restore_best_weights=True)]
    history = model.fit(
        batches(train, seed, batch_size),
        validation_data=batches(valid, None, batch_size) if len(valid) else None,
        epochs=params["epochs"],
        callbacks=callbacks if len(valid) else [],
        shuffle=False,  # the batches reshuffle themselves, with the seed
        verbose=0,
    )
    return len(history.history["loss"])


def fit_dense_head(
    keras_module: ModuleType, model: Any, features: np.ndarray, y: np.ndarray, train: np.ndarray, valid: np.ndarray,
    params: dict[str, Any], seed: int,
) -> int:
    """Fit ``model`` on rows ``train`` of the product-level ``features``, stopping on rows ``valid``
    (:func:`fit_on_split`); return epochs run."""
    return fit_on_split(keras_module, model, row_batches(features, y), train, valid, params, seed)


class KerasImageModel(PerImageModel):
    """A keras net trained per image on batches streamed from the block, early-stopped on an inner split.

    ``divisor`` scales the stored values into the net's input (255 for uint8 pixels).
    """

    divisor: ClassVar[float] = 1.0
    cpu_dispatched = True  # a keras net: TensorFlow's kernels

    def _fit_images(self, block: ImageBlock, y: np.ndarray) -> None:
        k = keras(self.n_jobs, self.seed)
        self.model_ = self.network(k, block.data.shape[1:], len(self.classes))
        self.epochs_ = fit_on_inner_split(
            k, self.model_,
            lambda products, seed, batch_size: self._batches(block.take(products), batch_size, y[products], seed),
            y, self.params, self.seed,
        )

    def _predict_images(self, block: ImageBlock) -> np.ndarray:
        return self.model_.predict(self._batches(block, self.params["batch_size"]), verbose=0)

    def _batches(self, block: ImageBlock, batch_size: int, y: np.ndarray | None = None, seed: int | None = None
                 ) -> Any:
        """Batches of the images of ``block`` with their products' labels ``y`` (none: in order, unlabelled),
        streamed from the block (pixels are too many to hold)."""
        k = keras(self.n_jobs, self.seed)
        return image_batches(k, block, y, batch_size, seed, self.divisor)

    @abstractmethod
    def network(self, keras_module: ModuleType, input_shape: tuple[int, ...], n_classes: int) -> Any:
        """The uncompiled net, from one image's shape to softmax probabilities over ``n_classes``."""
