"""Image embeddings from a headless VGG16: 512 global-average-pooled convolution features per image.

Extraction is not fitted on labels (the network is pretrained on ImageNet, or random), so
extracting features for all train and test images at once, outside the folds, leaks nothing;
only the models fitted on them are fitted inside the folds.

``weights``: ``"imagenet"`` (downloaded once by keras into ``~/.keras/models``), the path of
a local ``vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5``, or ``"none"``: random
(seeded) weights, whose features are weak, for offline runs and tests only.
"""

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from stackfold.errors import ConfigError
from stackfold.progress import console

SECTION = "[features.vgg16]"
"""The config table of this feature's parameters, named in its errors."""

N_FEATURES = 512
MIN_SIZE = 32
WEIGHTS_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
WEIGHTS_URL = f"https://storage.googleapis.com/tensorflow/keras-applications/vgg16/{WEIGHTS_FILE}"
WEIGHTS_HASH = "6d6bbae143d832006294945121d1f1fc"
_OFFLINE_HINT = (f"put {WEIGHTS_FILE} in ~/.keras/models, or set [features.vgg16] weights = \"/path/file.h5\", "
                 "or weights = \"none\" (random, weak features)")


def check_params(size: int, weights: str) -> None:
    """One-line :class:`ConfigError` for a size VGG16 cannot take or a weights file that is not there."""
    if size < MIN_SIZE:
        raise ConfigError(f"size = {size}: VGG16 needs at least {MIN_SIZE} pixels", where=SECTION)
    if weights not in ("imagenet", "none") and not Path(weights).expanduser().is_file():
        raise ConfigError(f"weights = {weights!r}: file not found; {_OFFLINE_HINT}", where=SECTION)


def _weights_path(keras: Any, weights: str) -> str | None:
    """Local file of the weights (downloading ImageNet's if needed), or None for random weights."""
    if weights == "none":
        message = 'vgg16 with weights = "none" uses random weights: its features are weak (offline runs and tests only)'
        warnings.warn(message, stacklevel=3)
        console.print(f"[yellow]warning:[/] {message}")
        return None
    if weights != "imagenet":
        return str(Path(weights).expanduser())
    try:
        return keras.utils.get_file(WEIGHTS_FILE, WEIGHTS_URL, cache_subdir="models", file_hash=WEIGHTS_HASH)
    except Exception as e:  # keras raises a bare Exception on URL failures
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ConfigError(f"could not download the VGG16 ImageNet weights ({reason}); {_OFFLINE_HINT}") from e


def vgg16_model(size: int, weights: str, n_threads: int, seed: int) -> Any:
    """Headless VGG16 on ``size x size x 3`` inputs followed by global average pooling (512 outputs)."""
    from stackfold.core.tf_runtime import keras as seeded_keras  # imports TensorFlow: only when needed

    check_params(size, weights)
    keras = seeded_keras(n_threads, seed)
    path = _weights_path(keras, weights)
    base = keras.applications.VGG16(include_top=False, input_shape=(size, size, 3), weights=None)
    if path is not None:
        try:
            base.load_weights(path)
        except (OSError, ValueError) as e:
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise ConfigError(f"weights = {weights!r}: not VGG16 notop weights ({reason})", where=SECTION) from e
    return keras.Model(base.input, keras.layers.GlobalAveragePooling2D()(base.output), name="vgg16_features")


class VGG16Features:
    """Turns uint8 image batches ``(b, size, size, 3)`` into float32 ``(b, 512)``; builds the network on first use."""

    def __init__(self, size: int, weights: str, n_threads: int, seed: int):
        check_params(size, weights)
        self.size, self.weights, self.n_threads, self.seed = size, weights, n_threads, seed
        self._model: Any = None

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        if self._model is None:
            self._model = vgg16_model(self.size, self.weights, self.n_threads, self.seed)
        from keras.applications.vgg16 import preprocess_input

        inputs = preprocess_input(pixels.astype(np.float32))
        # predict_on_batch runs the compiled graph: twice the images/s of an eager call on 2 cores
        return np.asarray(self._model.predict_on_batch(inputs), dtype=np.float32)
