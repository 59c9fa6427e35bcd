"""Read Cdiscount's BSON files one document at a time, keeping where the images are, not their bytes.

A BSON file is a sequence of documents, each starting with its total length as a 4-byte
little-endian integer. The training file is 58 GB, so it is never read whole: each document
is decoded on its own, every JPEG is located inside it (a :class:`BytesRef` into the file),
and the bytes are dropped. Every problem is one :class:`DataError` line naming the file, the
document number (1-based) and its ``_id`` when known, and what to do.
"""

from array import array
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import bson
import numpy as np
from bson.errors import BSONError

from stackfold.competition.images import BytesRef, ImageTable
from stackfold.errors import DataError
from stackfold.hashing import content_key
from stackfold.io import save_arrays_atomic

INDEX_VERSION = 1
"""Bump when :class:`BsonIndex` or the checks of :func:`index_bson` change: saved indexes are then rebuilt."""
_PICTURE_FIELD = b"\x05picture\x00"  # BSON binary element named "picture"
_BINARY_GENERIC = b"\x00"  # binary subtype 0: plain bytes


@dataclass(frozen=True)
class BsonProduct:
    """One product document: its ``_id``, ``category_id`` (None in a test file) and its images."""

    id: int
    category_id: int | None
    images: tuple[BytesRef, ...]


@dataclass(frozen=True)
class BsonIndex:
    """Every product of one BSON file in file order, and where each of its images lies in the file.

    Image ``i`` is ``image_length[i]`` bytes at ``image_offset[i]`` and belongs to product
    position ``owner[i]``; a product's images are consecutive. Arrays, not objects, so the
    index of the 58 GB file (about 7 million products, 12 million images) stays small.
    """

    path: Path
    ids: np.ndarray
    categories: np.ndarray | None
    image_offset: np.ndarray
    image_length: np.ndarray
    owner: np.ndarray

    @property
    def n_products(self) -> int:
        return len(self.ids)

    @property
    def n_images(self) -> int:
        return len(self.owner)

    def n_categories(self) -> int:
        """Distinct categories among the products (0 for a test file, which has none)."""
        return 0 if self.categories is None else len(np.unique(self.categories))

    def images_per_product(self) -> np.ndarray:
        return np.bincount(self.owner, minlength=self.n_products)

    def products_by_image_count(self) -> dict[int, int]:
        """How many products have 1, 2, ... images (only counts that occur), by image count."""
        counts = np.bincount(self.images_per_product())
        return {n: int(products) for n, products in enumerate(counts.tolist()) if products}

    def image_table(self) -> ImageTable:
        """The images as :class:`BytesRef` sources with their owner product positions."""
        ranges = zip(self.image_offset.tolist(), self.image_length.tolist())
        sources = tuple(BytesRef(self.path, offset, length) for offset, length in ranges)
        return ImageTable(sources, self.owner, self.n_products)


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _documents(path: Path) -> Iterator[tuple[int, int, bytes, dict]]:
    """Number (1-based), file offset, raw bytes and decoded fields of every document of ``path``."""
    if not path.is_file():
        raise DataError(f"{path}: file not found; put the challenge file there or pass the right data folder")
    size = path.stat().st_size
    if size == 0:
        raise DataError(f"{path}: file is empty; download it again from the challenge site")
    with open(path, "rb") as f:
        offset, number = 0, 0
        while offset < size:
            number += 1
            where = f"{path}, document {number} at byte {offset}"
            prefix = f.read(4)
            length = int.from_bytes(prefix, "little", signed=True)
            if len(prefix) < 4 or offset + length > size:
                raise DataError(
                    f"{where}: file is truncated (the document runs past the end of the file, {size} bytes); "
                    "download it again"
                )
            if length < 5:
                raise DataError(
                    f"{where}: length prefix {length} is too small for a BSON document; "
                    "the file is corrupt, download it again"
                )
            raw = prefix + f.read(length - 4)
            try:
                fields = bson.decode(raw)
            except (BSONError, ValueError) as e:
                raise DataError(
                    f"{where}: not a valid BSON document ({e}); the file is corrupt, download it again"
                ) from e
            yield number, offset, raw, fields
            offset += length


def _image_refs(path: Path, where: str, fields: dict, raw: bytes, offset: int) -> tuple[BytesRef, ...]:
    imgs = fields.get("imgs")
    if not isinstance(imgs, list) or not imgs:
        raise DataError(f"{where}: no images (field 'imgs' is missing or empty); fix or remove that document")
    refs, start = [], 0
    for k, image in enumerate(imgs, start=1):
        picture = image.get("picture") if isinstance(image, dict) else None
        if type(picture) is not bytes or not picture:
            raise DataError(
                f"{where}: image {k} has no JPEG bytes in 'picture' (found {type(picture).__name__}); "
                "fix or remove that document"
            )
        header = _PICTURE_FIELD + len(picture).to_bytes(4, "little") + _BINARY_GENERIC
        found = raw.find(header + picture, start)
        if found < 0:
            raise DataError(
                f"{where}: image {k} is not stored as a plain 'picture' binary field; fix or remove that document"
            )
        start = found + len(header)
        refs.append(BytesRef(path, offset + start, len(picture)))
        start += len(picture)
    return tuple(refs)


def iter_products(path: Path, classes: Collection[int] | None) -> Iterator[BsonProduct]:
    """Every product document of ``path`` in file order, validated on its own.

    ``classes`` are the valid categories of a training file; ``None`` reads a test file
    (no ``category_id``). Duplicated ``_id``s span documents: :func:`index_bson` checks them.
    """
    path = Path(path)
    for number, offset, raw, fields in _documents(path):
        where = f"{path}, document {number}"
        if "_id" not in fields:
            raise DataError(f"{where}: no '_id' field; every product needs one, fix or remove that document")
        product_id = fields["_id"]
        if not _is_integer(product_id):
            raise DataError(f"{where}: _id {product_id!r} is not an integer; fix or remove that document")
        where = f"{where} (_id {product_id})"
        category = None
        if classes is not None:
            if "category_id" not in fields:
                raise DataError(
                    f"{where}: no 'category_id'; every training product needs one (is this a test file?)"
                )
            category = fields["category_id"]
            if not _is_integer(category) or category not in classes:
                raise DataError(
                    f"{where}: unknown category_id {category!r}; expected one of the {len(classes)} known "
                    "categories, fix or remove that document"
                )
        yield BsonProduct(product_id, category, _image_refs(path, where, fields, raw, offset))


def index_bson(path: Path, classes: Collection[int] | None) -> BsonIndex:
    """Scan ``path`` once (see :func:`iter_products`) into a :class:`BsonIndex`, rejecting duplicated ``_id``s.

    Duplicates are found with numpy after the scan rather than with a set during it: a set
    of 7 million Python ints would cost about half a gigabyte.
    """
    path = Path(path)
    ids, categories, offsets, lengths, owner = (array("q") for _ in range(5))
    for position, product in enumerate(iter_products(path, classes)):
        ids.append(product.id)
        if classes is not None:
            categories.append(product.category_id)
        for ref in product.images:
            offsets.append(ref.offset)
            lengths.append(ref.length)
            owner.append(position)
    index = BsonIndex(
        path,
        np.array(ids, dtype=np.int64),
        np.array(categories, dtype=np.int64) if classes is not None else None,
        np.array(offsets, dtype=np.int64),
        np.array(lengths, dtype=np.int64),
        np.array(owner, dtype=np.int64),
    )
    order = np.argsort(index.ids, kind="stable")
    repeated = np.flatnonzero(index.ids[order][1:] == index.ids[order][:-1])
    if len(repeated):
        second = int(order[1:][repeated].min())
        first = int(np.flatnonzero(index.ids == index.ids[second])[0])
        raise DataError(
            f"{path}, document {second + 1} (_id {index.ids[second]}): _id already used by document {first + 1}; "
            "each product needs exactly one document"
        )
    return index


def index_bson_cached(
    path: Path, classes: Collection[int] | None, index_file: Callable[[Path, str], Path] | None
) -> BsonIndex:
    """:func:`index_bson`, saved at ``index_file(path, key)`` (if given; the run folder decides where) and
    reused while the file keeps its size and time.

    Indexing reads the whole file (58 GB for Cdiscount's training set); a run whose results are
    all cached should not pay that again.
    """
    path = Path(path)
    if index_file is None or not path.is_file():  # a missing file: index_bson's error names it
        return index_bson(path, classes)
    stat = path.stat()
    known = sorted(classes) if classes is not None else None
    key = content_key(INDEX_VERSION, str(path.resolve()), stat.st_size, stat.st_mtime_ns, known)
    saved = index_file(path, key)
    if saved.is_file():
        with np.load(saved) as arrays:
            categories = arrays["categories"] if classes is not None else None
            return BsonIndex(path, arrays["ids"], categories, arrays["image_offset"], arrays["image_length"],
                             arrays["owner"])
    index = index_bson(path, classes)
    no_categories = np.empty(0, dtype=np.int64)
    save_arrays_atomic(saved, ids=index.ids, image_offset=index.image_offset, image_length=index.image_length,
                       owner=index.owner, categories=index.categories if classes is not None else no_categories)
    return index
