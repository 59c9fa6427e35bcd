"""Cheap colour features of product images: mean RGB and per-channel histograms.

JPEGs are decoded in draft mode at a reduced scale, which is several times faster than
a full 500x500 decode and loses nothing for colour statistics.
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from stackfold.errors import DataError
from stackfold.progress import track

THUMBNAIL_SIZE = 64


def load_thumbnail(path: Path, size: int = THUMBNAIL_SIZE) -> np.ndarray:
    """Return the image at ``path`` as a ``size x size x 3`` uint8 RGB array."""
    try:
        with Image.open(path) as image:
            image.draft("RGB", (size, size))
            return np.asarray(image.convert("RGB").resize((size, size), Image.BILINEAR))
    except FileNotFoundError as e:
        raise DataError(f"{path}: image file not found; restore it or run with images = false") from e
    except (UnidentifiedImageError, OSError) as e:
        raise DataError(f"{path}: not a readable image ({e}); replace the file") from e


def color_features(thumbnail: np.ndarray, bins: int = 8) -> np.ndarray:
    """Mean RGB (3 values) then a normalised histogram of each channel (3 x ``bins``)."""
    pixels = thumbnail.reshape(-1, 3).astype(np.float32) / 255.0
    histograms = [np.histogram(pixels[:, c], bins=bins, range=(0.0, 1.0))[0] for c in range(3)]
    hist = np.concatenate(histograms).astype(np.float32) / len(pixels)
    return np.concatenate([pixels.mean(axis=0), hist])


def color_feature_names(bins: int = 8) -> list[str]:
    """Column names matching :func:`color_features`."""
    names = ["mean_r", "mean_g", "mean_b"]
    return names + [f"hist_{c}_{b}" for c in "rgb" for b in range(bins)]


def color_feature_matrix(paths: Sequence[Path], bins: int = 8, description: str = "colour features") -> np.ndarray:
    """Colour features of every image, one row per path, as float32."""
    out = np.empty((len(paths), 3 + 3 * bins), dtype=np.float32)
    for i, path in enumerate(track(paths, description)):
        out[i] = color_features(load_thumbnail(Path(path)), bins)
    return out
