"""Per-image features: colour statistics, small pixel vectors, and how any of them is extracted to disk.

An :class:`ImageFeature` says which rows a view computes from batches of preprocessed
images; :func:`extract` streams an :class:`~stackfold.competition.images.ImageTable` through
it into a resumable on-disk array, so an interrupted extraction continues where it stopped.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from stackfold.competition.images import ImageTable
from stackfold.features.image_cache import ResumableArray
from stackfold.features.image_io import ImageOptions, image_batches, prefetched, read_image

THUMBNAIL_SIZE = 64
"""Side of the image colour statistics are computed on."""


@dataclass(frozen=True)
class ImageFeature:
    """Rows of ``shape`` and ``dtype`` computed by ``compute`` from uint8 batches ``(b, size, size, 3)``."""

    size: int
    shape: tuple[int, ...]
    dtype: str
    compute: Callable[[np.ndarray], np.ndarray]
    options: ImageOptions
    batch_size: int = 256


def extract(
    table: ImageTable, feature: ImageFeature, path: Path, on_bad: str = "error", description: str = "images"
) -> tuple[np.ndarray, int]:
    """Rows of ``feature`` for every image of ``table``, kept at ``path`` (resumed if partly there).

    Returns the finished array, memory-mapped read-only, and how many images were
    unreadable and replaced by white (only with ``on_bad = "blank"``; ``"error"`` raises).
    """
    array = ResumableArray(path, (len(table), *feature.shape), feature.dtype)
    batches = image_batches(table, feature.size, feature.options, feature.batch_size, on_bad, array.done, description)
    data = array.fill((b.start, feature.compute(b.pixels), b.blank) for b in prefetched(batches))
    return data, int(array.flagged.sum())


def compute_partition(table: ImageTable, feature: ImageFeature, start: int, stop: int, on_bad: str = "error"
                      ) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """``(start, rows, blank)`` of every batch of ``feature`` in rows ``start:stop`` of ``table`` (one partition).

    The batches are those :func:`extract` makes (``start`` is a multiple of the batch size), so a
    partitioned extraction writes the same bytes; an unreadable image raises as in :func:`extract`.
    """
    outside = np.ones(len(table), dtype=bool)
    outside[start:stop] = False
    batches = image_batches(table, feature.size, feature.options, feature.batch_size, on_bad, outside,
                            f"images {start}-{stop}")
    return [(b.start, feature.compute(b.pixels), b.blank) for b in prefetched(batches)]


def color_feature_names(bins: int = 8) -> list[str]:
    """Column names matching :func:`color_features`."""
    names = ["mean_r", "mean_g", "mean_b"]
    return names + [f"hist_{c}_{b}" for c in "rgb" for b in range(bins)]


def color_features(pixels: np.ndarray, bins: int = 8) -> np.ndarray:
    """Mean RGB in [0, 1] then each channel's normalised ``bins``-bin histogram, for uint8 images ``(b, h, w, 3)``."""
    n = len(pixels)
    flat = pixels.reshape(n, -1, 3)
    mean = flat.mean(axis=1, dtype=np.float64) / 255.0
    bin_of = np.minimum(flat.astype(np.int64) * bins // 255, bins - 1)
    offsets = (np.arange(n)[:, None] * 3 + np.arange(3)[None, :]) * bins
    counts = np.bincount((bin_of + offsets[:, None, :]).ravel(), minlength=n * 3 * bins).reshape(n, 3 * bins)
    return np.concatenate([mean, counts / flat.shape[1]], axis=1).astype(np.float32)


def pixel_features(pixels: np.ndarray, side: int = 16, bins: int = 8) -> np.ndarray:
    """Each image area-averaged to ``side x side x 3`` and scaled to [0, 1], then its colour features."""
    small = np.stack([np.asarray(Image.fromarray(p).resize((side, side), Image.Resampling.BOX)) for p in pixels])
    vectors = small.reshape(len(pixels), -1).astype(np.float32) / 255.0
    return np.concatenate([vectors, color_features(pixels, bins)], axis=1)


def color_feature(bins: int, options: ImageOptions) -> ImageFeature:
    return ImageFeature(THUMBNAIL_SIZE, (3 + 3 * bins,), "float32", lambda p: color_features(p, bins), options)


def pixel_feature(side: int, bins: int, options: ImageOptions) -> ImageFeature:
    size = max(side, THUMBNAIL_SIZE)
    return ImageFeature(size, (side * side * 3 + 3 + 3 * bins,), "float32", lambda p: pixel_features(p, side, bins),
                        options)


def pixel_array_feature(size: int, options: ImageOptions) -> ImageFeature:
    """The preprocessed images themselves, ``(size, size, 3)`` uint8: the input of a CNN."""
    return ImageFeature(size, (size, size, 3), "uint8", lambda p: p, options)


def load_thumbnail(path: Path, size: int = THUMBNAIL_SIZE) -> np.ndarray:
    """The whole image at ``path`` (no crop) as a ``size x size x 3`` uint8 RGB array."""
    return read_image(Path(path), size, ImageOptions(content_crop=False))


def color_feature_matrix(paths: Sequence[Path], bins: int = 8, description: str = "colour features") -> np.ndarray:
    """Colour features of whole images (no crop), one float32 row per path."""
    table = ImageTable.one_per_product([Path(p) for p in paths])
    batches = image_batches(table, THUMBNAIL_SIZE, ImageOptions(content_crop=False), description=description)
    return np.concatenate([color_features(b.pixels, bins) for b in batches] or [np.empty((0, 3 + 3 * bins), "f4")])
