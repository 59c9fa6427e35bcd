"""Decode product images into square RGB arrays, and stream them in fixed-size batches.

Every image, whatever its mode, becomes a ``size x size x 3`` uint8 RGB array: transparency
is composited on white, the image is padded to a square with white, an optional border is
cut off, the square is narrowed to the product (product photos carry wide white margins),
then resized. A file is decoded by its content whatever its name says (a PNG named ``.jpg``
reads as the PNG it is). JPEGs are decoded in draft mode at the smallest scale that still leaves
enough pixels for the final crop, several times faster than a full decode.

A pass over many images never stops at the first unreadable one: it collects every failure
and then either raises one :class:`DataError` naming the first few (policy ``error``) or
puts a white image in their place and reports which (policy ``blank``).
"""

import contextvars
import io
import math
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TypeVar

import numpy as np
from PIL import Image

from stackfold.competition.images import (
    DECODE_ERRORS, BytesRef, ImageRef, ImageTable, check_on_bad_image, failure_reason,
)
from stackfold.errors import ConfigError, DataError
from stackfold.progress import progress_bar

WHITE = 255
T = TypeVar("T")

_SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N", "I")


@dataclass(frozen=True)
class ImageOptions:
    """How an image is cropped before resizing, and whether JPEGs are draft-decoded.

    ``border`` is the fraction cut from each side of the (square-padded) image before the
    content crop; ``background_threshold``: a pixel whose three channels are all at least
    this value is background (near-white) for the content crop.
    """

    content_crop: bool = True
    border: float = 0.0
    background_threshold: int = 240
    draft: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.border < 0.5:
            raise ConfigError(f"border = {self.border}: need 0 <= border < 0.5 (the fraction cut from each side)")
        if not 0 <= self.background_threshold <= 255:
            raise ConfigError(f"background_threshold = {self.background_threshold}: need a value in 0..255")


def read_image(ref: ImageRef, size: int, options: ImageOptions = ImageOptions()) -> np.ndarray:
    """The image at ``ref`` (a file or a byte range) as a ``size x size x 3`` uint8 RGB array.

    Raises a one-line :class:`DataError` naming ``ref`` if the image is missing or unreadable.
    """
    try:
        return _read(ref, size, options)
    except _Unreadable as e:
        if isinstance(e.__cause__, FileNotFoundError):
            raise DataError(f"{ref}: image file not found; restore it or remove its row") from e
        raise DataError(f"{ref}: not a readable image ({e}); replace the file") from e


class _Unreadable(Exception):
    """An image that could not be read or decoded; the message is the short reason, the cause Pillow's error."""


def _read(ref: ImageRef, size: int, options: ImageOptions) -> np.ndarray:
    """Read, decode, crop and resize; only reading and decoding failures are the image's fault (:class:`_Unreadable`)."""
    try:
        data = ref.read() if isinstance(ref, BytesRef) else Path(ref).read_bytes()
    except OSError as e:
        raise _Unreadable(failure_reason(e)) from e
    image, full_width = _decode(data, size, options, crop_side=None)
    top, left, side = _crop_box(image, options)
    scale = full_width / image.width
    if scale > 1 and side < size:
        # the product is small: decode again at the finer scale that leaves it ``size`` pixels
        image, _ = _decode(data, size, options, crop_side=side * scale)
        top, left, side = _crop_box(image, options)
    return np.asarray(_square_resized(image, top, left, side, size))


def _decode(data: bytes, size: int, options: ImageOptions, crop_side: float | None) -> tuple[Image.Image, int]:
    """RGB image (draft-decoded so that a crop of ``crop_side`` original pixels keeps ``size``) and the full width."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if options.draft:
                side = crop_side if crop_side is not None else max(width, height) * (1 - 2 * options.border)
                factor = size / max(side, 1.0)
                image.draft("RGB", (math.ceil(width * factor), math.ceil(height * factor)))
            return _to_rgb(image), width
    except DECODE_ERRORS as e:
        raise _Unreadable(failure_reason(e)) from e


def _to_rgb(image: Image.Image) -> Image.Image:
    """Any mode as RGB; transparent pixels become white, 16-bit grey is scaled to 8 bits."""
    image.load()
    if image.mode in _SIXTEEN_BIT or image.mode == "F":
        values = np.asarray(image)
        grey = (np.clip(values.astype(np.int64), 0, 65535) >> 8) if image.mode != "F" else np.clip(values, 0, 255)
        return Image.fromarray(grey.astype(np.uint8)).convert("RGB")
    if "A" in image.mode or "a" in image.mode or "transparency" in image.info:
        white = Image.new("RGBA", image.size, (WHITE, WHITE, WHITE, 255))
        return Image.alpha_composite(white, image.convert("RGBA")).convert("RGB")
    return image.convert("RGB")


def _crop_box(image: Image.Image, options: ImageOptions) -> tuple[int, int, int]:
    """Top, left and side of the square to keep; it may reach outside the image (filled with white)."""
    width, height = image.size
    side = max(height, width)
    cut = round(side * options.border)
    top, left, side = (height - side) // 2 + cut, (width - side) // 2 + cut, side - 2 * cut
    if not options.content_crop:
        return top, left, side
    r0, c0 = max(top, 0), max(left, 0)
    region = image.crop((c0, r0, min(left + side, width), min(top + side, height)))
    # non-zero where a channel is darker than the threshold; getbbox ignores RGB's padding byte
    foreground = region.point([WHITE if v < options.background_threshold else 0 for v in range(256)] * 3)
    bbox = foreground.getbbox()
    if bbox is None:
        return top, left, side
    x0, y0, x1, y1 = bbox
    box_h, box_w = y1 - y0, x1 - x0
    side = max(box_h, box_w)
    return r0 + y0 - (side - box_h) // 2, c0 + x0 - (side - box_w) // 2, side


def _square_resized(image: Image.Image, top: int, left: int, side: int, size: int) -> Image.Image:
    """The ``side``-pixel square at ``(top, left)``, white where it leaves the image, resized to ``size``."""
    width, height = image.size
    box = (left, top, left + side, top + side)
    if left >= 0 and top >= 0 and left + side <= width and top + side <= height:
        if (side, side) == (size, size) == image.size:
            return image
        return image.resize((size, size), Image.Resampling.BILINEAR, box=box)
    canvas = Image.new("RGB", (side, side), (WHITE, WHITE, WHITE))
    canvas.paste(image.crop((max(left, 0), max(top, 0), min(left + side, width), min(top + side, height))),
                 (max(left, 0) - left, max(top, 0) - top))
    return canvas.resize((size, size), Image.Resampling.BILINEAR)


class ImageBatch(NamedTuple):
    """Images ``start:start + len(pixels)`` of a table; ``blank[i]`` marks an unreadable image replaced by white."""

    start: int
    pixels: np.ndarray
    blank: np.ndarray


def image_batches(
    table: ImageTable, size: int, options: ImageOptions = ImageOptions(), batch_size: int = 256,
    on_bad: str = "error", skip: np.ndarray | None = None, description: str = "reading images",
) -> Iterator[ImageBatch]:
    """Batches ``[k * batch_size, (k + 1) * batch_size)`` of preprocessed images, one batch in memory at a time.

    Batches whose rows are all ``skip`` (already computed) are not read. With ``on_bad =
    "error"`` a batch holding an unreadable image is not yielded, the pass goes on, and one
    :class:`DataError` listing the failures is raised at the end; with ``"blank"`` such
    images are white and marked in :attr:`ImageBatch.blank`.
    """
    check_on_bad_image(on_bad)
    n = len(table)
    starts = [s for s in range(0, n, batch_size) if skip is None or not skip[s: s + batch_size].all()]
    failures: list[str] = []
    if not starts:
        return
    total = sum(min(batch_size, n - s) for s in starts)
    with progress_bar(description, total, unit="images") as advance:
        for start in starts:
            stop = min(start + batch_size, n)
            pixels = np.empty((stop - start, size, size, 3), dtype=np.uint8)
            blank = np.zeros(stop - start, dtype=bool)
            for i in range(start, stop):
                try:
                    pixels[i - start] = _read(table.sources[i], size, options)
                except _Unreadable as e:
                    failures.append(f"{table.sources[i]} ({e})")
                    pixels[i - start] = WHITE
                    blank[i - start] = True
                advance()
            if on_bad == "blank" or not blank.any():
                yield ImageBatch(start, pixels, blank)
    if failures and on_bad == "error":
        raise DataError(
            f"{len(failures)} of {n} images could not be read (first: {', '.join(failures[:3])}); "
            'fix or remove them, or set on_bad_image = "blank" in the config'
        )


def prefetched(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """``items`` produced ahead by a thread, up to ``depth`` at a time, while the caller works on the current one.

    Pillow decodes and resizes without holding the GIL, and so do the feature networks, so reading
    the next batch of images overlaps the network's work on this one. The thread runs in a copy of
    the caller's context (a Dask task's hidden progress bars stay hidden). An exception of ``items``
    reaches the caller where the item would have; a caller that stops early stops the thread.
    """
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(kind: str, value: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put((kind, value), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put("item", item):
                    return
            put("end", None)
        except BaseException as e:  # handed to the caller, raised there
            put("error", e)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=contextvars.copy_context().run, args=(produce,), daemon=True,
                              name="stackfold-prefetch")
    thread.start()
    try:
        while True:
            kind, value = handoff.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join()
