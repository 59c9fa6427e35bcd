"""Write a synthetic twin of Cdiscount's Image Classification Challenge in its exact BSON layout.

``train.bson`` holds one document per product, ``{_id, imgs: [{picture: JPEG}, ...], category_id}``
in that field order and by increasing ``_id`` as in the real file; ``test.bson`` the same without
``category_id``; ``category_names.csv`` is the real 5,270-category tree; ``truth/test_categories.csv``
holds the hidden test labels in the submission format (``_id,category_id``), so ``stackfold score``
reads it.

What is calibrated, and on what (the real per-category counts are not public):

- photos per product: 1, 2, 3 or 4 with probabilities 0.6180, 0.1596, 0.0768, 0.1456, the shares
  of the real training file as Kaggle kernels counted them (4,369,441 / 1,128,588 / 542,792 /
  1,029,075 products, which reproduce the published totals, 7,069,896 products and 12,371,293
  photos: a mean of 1.7499);
- category frequencies: a Zipf-Mandelbrot law, the category of rank ``r`` (1 to 5,270) having
  probability proportional to ``(r + 112.36) ** -2.2809``. The two constants are solved so that,
  at the real size of 7,069,896 products, the largest category has 80,000 products (about 1.1 %,
  the public figure for the most frequent category) and the smallest 12. That gives a flat head (the
  five largest 74,000-80,000), a median category of about 56 products and 661 categories above
  1,000. Which category gets which rank is a fixed draw, the same for every seed;
- every category appears at least once in ``train.bson`` when there are at least
  ``COVER_ALL`` x 5,270 training products (one product each is relabelled), never below.

Photos carry the class signal so a model can learn something: each category draws the pictures
of a Rakuten twin class (:func:`stackfold.synthetic.images.draw_product`) chosen by its level-1
department, so a department shares shapes and palettes, and most photos carry a two-colour
sticker in a corner whose colours and shape code the category within its department. Each photo
has its own generator seeded by ``(seed, split, product, photo)``, so a product's photos differ,
workers can draw them in any order and the same arguments give the same bytes.

Memory: the pictures are rendered by chunks of products in worker processes, at most a few chunks
ahead of the writer, and written as they come; what stays in memory is a few integers per product
(ids, labels, photo counts: about 20 bytes, and 24 more while the ids are drawn; under 0.5 GB at the
real 8.8 million products), never the photos.
"""

import colorsys
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from io import BytesIO
from pathlib import Path

import bson
import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from stackfold.io import atomic_file, write_text_atomic
from stackfold.progress import progress_bar
from stackfold.synthetic.catalogue import load_catalogue
from stackfold.synthetic.images import draw_product, encode_jpeg

REAL_TRAIN_PRODUCTS, REAL_TEST_PRODUCTS = 7_069_896, 1_768_182
REAL_TRAIN_PHOTOS, REAL_TEST_PHOTOS = 12_371_293, 3_095_080
REAL_IMAGE_SIZE = 180
PHOTO_COUNTS = np.array([4_369_441, 1_128_588, 542_792, 1_029_075])
"""Real training products with 1, 2, 3 and 4 photos."""
PHOTO_PROBABILITIES = PHOTO_COUNTS / PHOTO_COUNTS.sum()
ZIPF_OFFSET, ZIPF_EXPONENT = 112.36, 2.2809
RANK_SEED = 2017  # the fixed draw of which category gets which frequency rank
COVER_ALL = 4  # from 4 x 5,270 training products, every category appears at least once
ID_SPAN = 3  # _ids are drawn from 0 .. 3 x products, train and test interleaved, as in the real files
STICKER_SHARE = 0.85  # photos carrying the category sticker
CHUNK = 64  # products per rendering task
AHEAD = 4  # tasks in flight per worker process: bounds the photos held in memory
IMAGE_STREAM = 1
SPLITS = {"train": 0, "test": 1}


@dataclass(frozen=True)
class CdiscountTwin:
    """What :func:`write_cdiscount_twin` wrote: products and photos per split."""

    train_products: int
    test_products: int
    train_photos: int
    test_photos: int


@dataclass(frozen=True)
class _Style:
    """How one category's photos look: a Rakuten twin class and a sticker (two colours, round or square)."""

    code: int
    outer: tuple[int, int, int]
    inner: tuple[int, int, int]
    round: bool


def category_names_bytes() -> bytes:
    """The real ``category_names.csv`` (the packaged table the Cdiscount spec reads), byte for byte."""
    return (files("stackfold.competition") / "data" / "cdiscount_categories.csv").read_bytes()


@cache
def categories() -> pd.DataFrame:
    """The 5,270 categories sorted by ``category_id`` (the spec's class order), with their hierarchy."""
    table = pd.read_csv(BytesIO(category_names_bytes()), dtype={"category_id": "int64"})
    return table.sort_values("category_id", ignore_index=True)


@cache
def category_probabilities() -> np.ndarray:
    """The sampling probability of every category, in :func:`categories` order (see the module docstring)."""
    ranks = np.random.default_rng(RANK_SEED).permutation(len(categories())) + 1
    weights = (ranks + ZIPF_OFFSET) ** -ZIPF_EXPONENT
    return weights / weights.sum()


@cache
def _styles() -> tuple[_Style, ...]:
    """Every category's style: department ``d`` draws Rakuten class ``d mod 27``; the sticker numbers the
    category inside its department (21 x 21 colour pairs, then round or square)."""
    table = categories()
    codes = load_catalogue().codes
    departments = {name: d for d, name in enumerate(sorted(table["category_level1"].unique()))}
    palette = [_hue(k / 21) for k in range(21)]
    styles, seen = [], dict.fromkeys(departments, 0)
    for department in table["category_level1"]:
        j = seen[department]
        seen[department] += 1
        styles.append(_Style(codes[departments[department] % len(codes)], palette[j % 21],
                             palette[(j // 21 + 7) % 21], (j // 441) % 2 == 1))
    return tuple(styles)


def _hue(h: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h, 0.85, 0.9)
    return (round(r * 255), round(g * 255), round(b * 255))


def write_cdiscount_twin(
    out: Path, n_products: int, seed: int = 0, test_ratio: float = REAL_TEST_PRODUCTS / REAL_TRAIN_PRODUCTS,
    processes: int = 2, image_size: int = REAL_IMAGE_SIZE,
) -> CdiscountTwin:
    """Write ``n_products`` training products and ``round(n_products * test_ratio)`` (at least one) test
    products in the Cdiscount layout under ``out``, rendering photos in ``processes`` worker processes
    (1: in this process).

    Small files first, ``train.bson`` last; each file is written to a temporary file and renamed, so an
    interrupted run leaves no half-written file and no ``train.bson``.
    """
    if n_products < 1:
        raise ValueError(f"n_products must be at least 1, got {n_products}")
    if image_size < 8:
        raise ValueError(f"image_size must be at least 8 pixels, got {image_size}")
    out = Path(out)
    train, test = _draw_products(np.random.default_rng(seed), n_products, max(1, round(n_products * test_ratio)))
    category_ids = categories()["category_id"].to_numpy()

    with atomic_file(out / "category_names.csv") as f:
        f.write(category_names_bytes())
    truth = pd.DataFrame({"_id": test[0], "category_id": category_ids[test[1]]})
    write_text_atomic(out / "truth" / "test_categories.csv", truth.to_csv(index=False, lineterminator="\n"))
    with _Renderer(processes) as render:
        _write_bson(out / "test.bson", "test", *test, None, seed, image_size, render)
        _write_bson(out / "train.bson", "train", *train, category_ids, seed, image_size, render)
    return CdiscountTwin(n_products, len(test[0]), int(train[2].sum()), int(test[2].sum()))


_Products = tuple[np.ndarray, np.ndarray, np.ndarray]  # _ids (increasing), category positions, photo counts


def _draw_products(rng: np.random.Generator, n_train: int, n_test: int) -> tuple[_Products, _Products]:
    """Every product's ``_id``, category (a position in :func:`categories`) and photo count, train then test."""
    n_categories, total = len(categories()), n_train + n_test
    labels = rng.choice(n_categories, size=total, p=category_probabilities()).astype(np.int16)
    if n_train >= COVER_ALL * n_categories:
        labels[rng.choice(n_train, size=n_categories, replace=False)] = rng.permutation(n_categories)
    photos = (rng.choice(len(PHOTO_PROBABILITIES), size=total, p=PHOTO_PROBABILITIES) + 1).astype(np.int8)
    ids = np.sort(rng.choice(ID_SPAN * total, size=total, replace=False))
    is_test = np.zeros(total, dtype=bool)
    is_test[rng.choice(total, size=n_test, replace=False)] = True
    return (ids[~is_test], labels[:n_train], photos[:n_train]), (ids[is_test], labels[n_train:], photos[n_train:])


_Job = tuple[int, int, int, np.ndarray, np.ndarray, int]  # seed, split, first product, labels, photo counts, size
_Render = Callable[[Iterable[_Job]], Iterator[list[list[bytes]]]]


class _Renderer:
    """Render jobs in order: in this process (``processes`` 1), or in a pool with at most ``AHEAD`` jobs per
    worker in flight (``Pool.imap`` would queue every job and, with a slow writer, pile up every result)."""

    def __init__(self, processes: int):
        self.pool = multiprocessing.Pool(processes) if processes > 1 else None
        self.window = AHEAD * processes

    def __enter__(self) -> _Render:
        return self._render

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()

    def _render(self, jobs: Iterable[_Job]) -> Iterator[list[list[bytes]]]:
        if self.pool is None:
            yield from map(_render_chunk, jobs)
            return
        pending: deque = deque()
        for job in jobs:
            pending.append(self.pool.apply_async(_render_chunk, (job,)))
            if len(pending) >= self.window:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def _write_bson(path: Path, split: str, ids: np.ndarray, labels: np.ndarray, photos: np.ndarray,
                category_ids: np.ndarray | None, seed: int, size: int, render: _Render) -> None:
    """Write one split's documents in ``_id`` order, atomically, with a progress bar of photos."""
    jobs = ((seed, SPLITS[split], start, labels[start:start + CHUNK], photos[start:start + CHUNK], size)
            for start in range(0, len(ids), CHUNK))
    with atomic_file(path) as f, progress_bar(f"synthetic {path.name}", int(photos.sum()), "photos") as advance:
        position = 0
        for chunk in render(jobs):
            for pictures in chunk:
                document: dict = {"_id": int(ids[position]), "imgs": [{"picture": p} for p in pictures]}
                if category_ids is not None:
                    document["category_id"] = int(category_ids[labels[position]])
                f.write(bson.encode(document))
                position += 1
            advance(sum(len(p) for p in chunk))


def _render_chunk(job: _Job) -> list[list[bytes]]:
    """The JPEG photos of a chunk of products (runs in a worker)."""
    seed, split, start, labels, photos, size = job
    styles = _styles()
    return [
        [_photo(styles[label], np.random.default_rng([seed, IMAGE_STREAM, split, start + i, k]), size)
         for k in range(count)]
        for i, (label, count) in enumerate(zip(labels.tolist(), photos.tolist()))
    ]


def _photo(style: _Style, rng: np.random.Generator, size: int) -> bytes:
    """One photo: the department's drawing, and most often the category's sticker in a corner."""
    image = draw_product(style.code, rng, size)
    if rng.random() < STICKER_SHARE:
        _sticker(image, style, rng)
    return encode_jpeg(image)


def _sticker(image: Image.Image, style: _Style, rng: np.random.Generator) -> None:
    """A two-colour tag (outer ring, inner disc or square) of 16-24 % of the side, in a random corner."""
    size = image.size[0]
    side = size * rng.uniform(0.16, 0.24)
    margin = size * 0.03
    x0 = margin if rng.random() < 0.5 else size - margin - side
    y0 = margin if rng.random() < 0.5 else size - margin - side
    outer, inner = (x0, y0, x0 + side, y0 + side), (x0 + side * 0.3, y0 + side * 0.3, x0 + side * 0.7, y0 + side * 0.7)
    draw = ImageDraw.Draw(image)
    shape = draw.ellipse if style.round else draw.rectangle
    shape(outer, fill=style.outer)
    shape(inner, fill=style.inner)
