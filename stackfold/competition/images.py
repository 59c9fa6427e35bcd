"""Where a challenge's images are: files on disk or byte ranges inside a container file (BSON).

A product may have several images (Cdiscount) or exactly one (Rakuten); an
:class:`ImageTable` lists every image of a split with the position of the product it
belongs to, so image models can train per image and average their probabilities per product.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stackfold.errors import ConfigError

ON_BAD_IMAGE = ("error", "blank")
"""What a pass does with images it cannot read: raise one error for all, or use white images (counted)."""


def check_on_bad_image(on_bad: str) -> None:
    if on_bad not in ON_BAD_IMAGE:
        raise ConfigError(f"on_bad_image = {on_bad!r}; choose from: {', '.join(ON_BAD_IMAGE)}")


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
