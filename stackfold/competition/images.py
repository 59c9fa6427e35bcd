"""Where a challenge's images are: files on disk or byte ranges inside a container file (BSON).

A product may have several images (Cdiscount) or exactly one (Rakuten); an
:class:`ImageTable` lists every image of a split with the position of the product it
belongs to, so image models can train per image and average their probabilities per product.
"""

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from stackfold.errors import ConfigError, DataError

ON_BAD_IMAGE = ("error", "blank")
"""What a pass does with images it cannot read: raise one error for all, or use white images (counted)."""


DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, Image.DecompressionBombError)
"""What Pillow raises on a missing, truncated, corrupt or oversized file (truncated JPEGs raise OSError)."""


def check_on_bad_image(on_bad: str) -> None:
    if on_bad not in ON_BAD_IMAGE:
        raise ConfigError(f"on_bad_image = {on_bad!r}; choose from: {', '.join(ON_BAD_IMAGE)}")


def failure_reason(error: BaseException) -> str:
    """A short reason why an image could not be read: missing, truncated, not an image, too many pixels, or Pillow's."""
    if isinstance(error, FileNotFoundError):
        return "missing"
    if isinstance(error, UnidentifiedImageError):
        return "not an image"
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    if isinstance(error, Image.DecompressionBombError):  # Pillow's message ends in ", could be decompression bomb..."
        return f"too many pixels: {message.split(',')[0]}"
    return "truncated" if "truncated" in message else message


def image_problem(path: Path) -> str | None:
    """Why the image file at ``path`` cannot be used (:func:`failure_reason`), or ``None``.

    Reads the header only (about 60 us an image): finds missing, empty, non-image and
    oversized files before a long run; a file cut short is found when it is decoded.
    """
    try:
        with Image.open(path):
            return None
    except DECODE_ERRORS as e:
        return failure_reason(e)


def check_image_files(paths: list[Path], split: str, index: pd.Index) -> None:
    """One :class:`DataError` naming the first missing or unreadable image of ``split`` and how many are."""
    problems = [(i, reason) for i, path in enumerate(paths) if (reason := image_problem(path))]
    if problems:
        first, reason = problems[0]
        state = "missing" if reason == "missing" else f"unreadable ({reason})"
        raise DataError(
            f"{paths[first]}: image of {split} row {first + 1} (index {index[first]}) is {state} "
            f"({len(problems)} of {len(paths)} {split} images missing or unreadable); "
            'add or replace the images, or set images = false (or on_bad_image = "blank") in the config'
        )


@dataclass(frozen=True, slots=True)
class BytesRef:
    """An image stored as ``length`` bytes at ``offset`` of ``path`` (e.g. a JPEG inside a BSON file)."""

    path: Path
    offset: int
    length: int

    def read(self) -> bytes:
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            return f.read(self.length)

    def __str__(self) -> str:
        return f"{self.path}@{self.offset}"


ImageRef = Path | BytesRef


@dataclass(frozen=True)
class ImageTable:
    """Every image of one split: ``sources[i]`` belongs to product row ``owner[i]`` (0-based position).

    ``owner`` is non-decreasing: a product's images are consecutive.
    """

    sources: tuple[ImageRef, ...]
    owner: np.ndarray
    n_products: int

    def __len__(self) -> int:
        return len(self.sources)

    @classmethod
    def one_per_product(cls, sources: list[ImageRef]) -> "ImageTable":
        return cls(tuple(sources), np.arange(len(sources)), len(sources))
