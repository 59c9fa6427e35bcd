"""Image embeddings from EfficientNet-Lite networks pretrained on ImageNet: 1280 pooled features per image and net.

The networks and their offline weights are :mod:`stackfold.features.efficientnet_lite`'s. ``nets``
names them: ``("lite0",)``, the default, or several side by side (``("lite0", "lite2")``: 2560
columns, Lite0's then Lite2's). Each net sees the image at its own side, the one it was trained
at in proportion to ``size`` (Lite0's): ``size`` 224 gives Lite0 224 px, Lite1 240 and Lite2 260.
The images are read at the largest of those sides and resized down (bilinear) for the smaller.

As with :mod:`stackfold.features.vgg16`, extraction is not fitted on labels, so it runs once
for all images, outside the folds. ``weights``: ``"package"`` (each net's pip package's file) or
the path of a PyTorch state dict of the one net named (same names and shapes).
"""

import functools
import itertools
from typing import Any

import numpy as np
from PIL import Image

from stackfold.errors import ConfigError
from stackfold.features.efficientnet_lite import N_FEATURES, NETS, SECTION, efficientnet_model, weights_path

__all__ = ["MIN_SIZE", "NET_CHOICES", "N_FEATURES", "EfficientNetFeatures", "check_params", "net_side", "nets_work"]

MIN_SIZE = 32
NET_CHOICES = tuple(list(chosen) for n in range(1, len(NETS) + 1) for chosen in itertools.combinations(NETS, n))
"""The values ``nets`` takes: one net or several side by side, in the order of :data:`NETS`."""
PREDICT_CHUNK = 8
"""Images per network call: at 224 px an image's first activations take ~5 MB, and chunks of 8 ran
1.6x the images/s of batches of 32 on 2 cores (still in cache)."""


def check_params(size: int, weights: str, nets: tuple[str, ...] | list[str] = ("lite0",)) -> None:
    """One-line :class:`ConfigError` for a size the networks cannot take, nets not offered, or weights not there."""
    if list(nets) not in NET_CHOICES:
        raise ConfigError(f"nets = {list(nets)!r}: expected one of {', '.join(map(repr, NET_CHOICES))}", where=SECTION)
    if size < MIN_SIZE:
        raise ConfigError(f"size = {size}: {NETS[nets[0]].title} needs at least {MIN_SIZE} pixels", where=SECTION)
    if weights != "package" and len(nets) > 1:
        raise ConfigError(f"weights = {weights!r}: a weights file holds one net, and nets = {list(nets)!r} names "
                          f'{len(nets)}; use weights = "package"', where=SECTION)
    for net in nets:
        weights_path(weights, NETS[net])


def net_side(net: str, size: int) -> int:
    """The side of ``net``'s input when Lite0's is ``size``: its training side in proportion."""
    return round(size * NETS[net].side / NETS["lite0"].side)


def nets_work(nets: list[str]) -> float:
    """CPU time of the features of ``nets`` at their own sides, Lite0's = 1 (the images are decoded once)."""
    return sum(NETS[net].work for net in nets)


def _converted(net: str, size: int, weights: str, n_threads: int) -> bytes:
    """The feature network as a LiteRT flatbuffer, converted once per process (~10 s for Lite0) for each net, size
    and weights file (a file replaced since is converted again)."""
    stat = weights_path(weights, NETS[net]).stat()
    return _converted_once(net, size, weights, n_threads, (stat.st_size, stat.st_mtime_ns))


@functools.lru_cache(maxsize=4)
def _converted_once(net: str, size: int, weights: str, n_threads: int, stamp: tuple[int, int]) -> bytes:
    from stackfold.features.litert import convert

    return convert(efficientnet_model(size, weights, n_threads, seed=0, net=net))  # pretrained: nothing random


def _resized(pixels: np.ndarray, side: int) -> np.ndarray:
    """uint8 images ``(b, s, s, 3)`` at ``side`` (bilinear, as photos are read); as they are if already there."""
    if pixels.shape[1] == side:
        return pixels
    resized = [np.asarray(Image.fromarray(p).resize((side, side), Image.Resampling.BILINEAR)) for p in pixels]
    return np.stack(resized) if resized else np.empty((0, side, side, 3), dtype=np.uint8)


class EfficientNetFeatures:
    """Turns uint8 RGB batches ``(b, input_size, input_size, 3)`` into float32 ``(b, 1280 x len(nets))``; builds the
    networks on first use.

    ``engine``: ``"litert"`` runs them with LiteRT's XNNPACK kernels (:mod:`stackfold.features.litert`, 2x the
    images/s of keras on CPU cores), ``"keras"`` with TensorFlow (a GPU, when TensorFlow sees one).
    ``flip`` averages each image's features with its horizontal mirror's (test-time augmentation, 2x the work).
    """

    def __init__(self, size: int, weights: str, n_threads: int, seed: int, flip: bool = False,
                 engine: str = "litert", nets: tuple[str, ...] | list[str] = ("lite0",)):
        check_params(size, weights, nets)
        self.size, self.weights, self.n_threads, self.seed, self.flip = size, weights, n_threads, seed, flip
        self.engine, self.nets = engine, tuple(nets)
        self._networks: list[Any] | None = None

    @property
    def input_size(self) -> int:
        """The side the images come at: the largest net's."""
        return max(net_side(net, self.size) for net in self.nets)

    @property
    def n_features(self) -> int:
        return N_FEATURES * len(self.nets)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_networks": None}  # a copy (a Dask worker's) builds its own networks

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        if self._networks is None:
            self._networks = [self._build(net) for net in self.nets]
        columns = [self._features(network, _resized(pixels, net_side(net, self.size)))
                   for net, network in zip(self.nets, self._networks)]
        return columns[0] if len(columns) == 1 else np.concatenate(columns, axis=1)

    def _features(self, network: Any, pixels: np.ndarray) -> np.ndarray:
        inputs = pixels.astype(np.float32)
        if self.flip:
            inputs = np.concatenate([inputs, inputs[:, :, ::-1]])
        features = network(inputs).astype(np.float32, copy=False)
        return (features[: len(pixels)] + features[len(pixels):]) / 2 if self.flip else features

    def _build(self, net: str) -> Any:
        side = net_side(net, self.size)
        if self.engine == "litert":
            from stackfold.features.litert import LiteNetwork

            return LiteNetwork(_converted(net, side, self.weights, self.n_threads), self.n_threads)
        model = efficientnet_model(side, self.weights, self.n_threads, self.seed, net=net)

        def run(inputs: np.ndarray) -> np.ndarray:
            # predict_on_batch runs the compiled graph: twice the images/s of an eager call on 2 cores
            chunks = [model.predict_on_batch(inputs[start: start + PREDICT_CHUNK])
                      for start in range(0, len(inputs), PREDICT_CHUNK)]
            return np.concatenate(chunks or [np.empty((0, N_FEATURES), dtype=np.float32)])

        return run
