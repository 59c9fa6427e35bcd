"""Load a challenge's raw files into validated frames.

Every problem a user can have with the files becomes one :class:`DataError` line naming
the file, the row or column, and what to do. Nothing here guesses: a file either loads
exactly as the challenge distributes it or is rejected.
"""

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from stackfold.competition.bson_files import BsonIndex, index_bson_cached
from stackfold.competition.csv_files import describe_row, integer_column
from stackfold.competition.images import ImageTable, check_image_files, check_on_bad_image
from stackfold.competition.spec import CompetitionSpec
from stackfold.competition.spec_file import check_columns
from stackfold.competition.tables import read_challenge_table
from stackfold.errors import DataError


@dataclass(frozen=True)
class Dataset:
    """Validated train and test frames of one challenge, indexed by the original row index.

    For a BSON challenge (Cdiscount) the frames are indexed by ``_id`` with one column
    ``n_images``, and ``bson`` holds each split's :class:`BsonIndex` (where the images are).
    """

    spec: CompetitionSpec
    root: Path
    train: pd.DataFrame
    y: np.ndarray
    test: pd.DataFrame
    images: bool
    fingerprint: str
    bson: Mapping[str, BsonIndex] | None = None

    def image_paths(self, split: str) -> list[Path]:
        """Absolute image path of every product of ``split`` (``train`` or ``test``); image files only."""
        if self.bson is not None:
            raise ValueError(f"{self.spec.name} images are inside its BSON files, not files; use image_table")
        frame = self.train if split == "train" else self.test
        columns = [self.spec.image_column] if self.spec.image_column else list(self.spec.id_columns)
        rows = frame[columns].to_dict("records")
        if self.spec.id_column:  # a template may name the id too: "{id}.jpg"
            rows = [{self.spec.id_column: index, **row} for index, row in zip(frame.index, rows)]
        return [self.root / self.spec.image_path(split, row) for row in rows]

    def image_table(self, split: str) -> ImageTable:
        """Every image of ``split`` with the product it belongs to (one image file per product for CSV challenges)."""
        if self.bson is not None:
            return self.bson[split].image_table()
        return ImageTable.one_per_product(self.image_paths(split))


def _validate_products(path: Path, frame: pd.DataFrame, spec: CompetitionSpec) -> pd.DataFrame:
    frame = frame.copy()
    for column in spec.id_columns:
        frame[column] = integer_column(path, frame[column], column).to_numpy()
        duplicated = frame[column].duplicated().to_numpy()
        if duplicated.any():
            position = int(np.flatnonzero(duplicated)[0])
            raise DataError(
                f"{path}, {describe_row(position, frame.index[position])}, column {column}: "
                f"{frame[column].iloc[position]} appears twice; ids must be unique"
            )
    for column in spec.required_text_columns:
        empty = frame[column].str.strip() == ""
        if empty.any():
            position = int(np.flatnonzero(empty.to_numpy())[0])
            raise DataError(
                f"{path}, {describe_row(position, frame.index[position])}, column {column}: empty; "
                f"every product needs a {column}"
            )
    return frame[list(spec.product_columns)]


def _validate_labels(
    path: Path, labels: pd.DataFrame, train: pd.DataFrame, train_path: Path, spec: CompetitionSpec
) -> np.ndarray:
    """The class code of every training row, in ``train``'s order; labels are read from ``labels`` (a separate
    label file keyed like the training file, or the training frame itself)."""
    missing = train.index.difference(labels.index, sort=False)
    if len(missing):
        position = int(train.index.get_loc(missing[0]))
        raise DataError(
            f"{path}: no label for {train_path.name} {describe_row(position, missing[0])}; "
            "the label file must list the same index as the training file"
        )
    extra = labels.index.difference(train.index, sort=False)
    if len(extra):
        position = int(labels.index.get_loc(extra[0]))
        raise DataError(
            f"{path}, {describe_row(position, extra[0])}: index not in {train_path.name}; "
            "the label file must list the same index as the training file"
        )
    labels = labels.loc[train.index]
    if spec.integer_labels:  # integer labels: their own codes
        codes = integer_column(path, labels[spec.label_column], spec.label_column).to_numpy()
        unknown = ~np.isin(codes, spec.classes)
        shown = [str(code) for code in codes]
    else:
        given = labels[spec.label_column].to_numpy(dtype=object)
        codes = pd.Series(given).map(spec.label_of).to_numpy()
        unknown = pd.isna(codes)
        codes, shown = np.where(unknown, -1, codes).astype(np.int64), [repr(label) for label in given]
    if unknown.any():
        position = int(np.flatnonzero(unknown)[0])
        raise DataError(
            f"{path}, {describe_row(position, labels.index[position])}, column {spec.label_column}: "
            f"unknown class {shown[position]}; expected one of the {spec.n_classes} classes of {spec.name}"
        )
    return codes


def _check_image_key(dataset: Dataset) -> None:
    """A spec file's image key against the files: when a split's first image is missing the key (or the folder
    it names) is the likely mistake, said in one line naming it; single missing files are the image check's."""
    spec = dataset.spec
    for split in ("train", "test"):
        paths = dataset.image_paths(split)
        if paths and not paths[0].is_file():
            key = "image" if spec.image_column else f"{split}_images"
            raise DataError(f"{spec.source}: {key}: the first {split} row's image {paths[0]} does not exist; image "
                            "paths are relative to the data folder: fix the key, or run with --no-images")


_MB = 1 << 20


def _sampled_digest(paths: tuple[Path, ...]) -> str:
    """Hash of each file's name, size, first and last MB: a fingerprint of 58 GB files read in milliseconds.

    An edit that keeps a file's size and both ends goes unnoticed; challenge files are not edited in place.
    """
    digest = hashlib.sha256()
    for path in paths:
        size = path.stat().st_size
        digest.update(f"{path.name}:{size}".encode())
        with open(path, "rb") as f:
            digest.update(f.read(_MB))
            f.seek(max(size - _MB, 0))
            digest.update(f.read(_MB))
    return digest.hexdigest()[:16]


def _load_bson(
    root: Path, spec: CompetitionSpec, images: bool, index_file: Callable[[Path, str], Path] | None
) -> Dataset:
    train_path, test_path = root / spec.train_file, root / spec.test_file
    train = index_bson_cached(train_path, frozenset(spec.classes), index_file)
    test = index_bson_cached(test_path, None, index_file)
    shared = np.isin(test.ids, train.ids)
    if shared.any():
        position = int(np.flatnonzero(shared)[0])
        raise DataError(
            f"{test_path}, document {position + 1} (_id {test.ids[position]}): _id also in {spec.train_file}; "
            "train and test must not share products"
        )
    frames = [
        pd.DataFrame({"n_images": index.images_per_product()}, index=pd.Index(index.ids, name="_id"))
        for index in (train, test)
    ]
    fingerprint = _sampled_digest((train_path, test_path))
    bson = {"train": train, "test": test}
    return Dataset(spec, root, frames[0], train.categories, frames[1], images, fingerprint, bson)


def load_competition(
    root: Path, spec: CompetitionSpec, images: bool = True, on_bad_image: str = "error",
    index_file: Callable[[Path, str], Path] | None = None,
) -> Dataset:
    """Read and validate the train, label and test files (and, if asked, the images).

    With ``images`` and ``on_bad_image="error"`` every image file must exist and open as an image
    (:func:`check_image_files`); ``"blank"`` skips that check: the run replaces bad images by blank
    ones. BSON challenges carry their images inside the files; with ``index_file(bson_path, key)``
    their index (where every image lies) is saved there and reused while the file is unchanged,
    instead of reading the whole file again.
    """
    check_on_bad_image(on_bad_image)
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: data folder not found; pass the folder holding {spec.train_file}")
    if spec.format == "bson":
        return _load_bson(root, spec, images, index_file)
    if spec.source:
        check_columns(spec, root)
    images = images and spec.has_images
    train_path, test_path = root / spec.train_file, root / spec.test_file
    labels_path = root / spec.labels_file if spec.labels_file else train_path
    train_columns = spec.product_columns + (() if spec.labels_file else (spec.label_column,))
    train_table = read_challenge_table(train_path, train_columns, spec.id_column)
    train = _validate_products(train_path, train_table, spec)
    labels = (read_challenge_table(labels_path, (spec.label_column,), spec.id_column) if spec.labels_file
              else train_table)
    y = _validate_labels(labels_path, labels, train, train_path, spec)
    test = _validate_products(test_path, read_challenge_table(test_path, spec.product_columns, spec.id_column), spec)
    overlap = test.index.intersection(train.index)
    if len(overlap):
        position = int(test.index.get_loc(overlap[0]))
        raise DataError(
            f"{test_path}, {describe_row(position, overlap[0])}: index also used in {spec.train_file}; "
            "train and test must not share rows"
        )
    for column in spec.id_columns:
        shared = np.intersect1d(train[column].to_numpy(), test[column].to_numpy())
        if len(shared):
            position = int(np.flatnonzero(test[column].to_numpy() == shared[0])[0])
            raise DataError(
                f"{test_path}, {describe_row(position, test.index[position])}, column {column}: "
                f"{shared[0]} also appears in {spec.train_file}; train and test must not share products"
            )
    digest = hashlib.sha256()
    for path in dict.fromkeys((train_path, labels_path, test_path)):  # a label column of train: hashed once
        digest.update(path.read_bytes())
    dataset = Dataset(spec, root, train, y, test, images, digest.hexdigest()[:16])
    if images and spec.source:
        _check_image_key(dataset)
    if images and on_bad_image == "error":
        for split, frame in (("train", train), ("test", test)):
            check_image_files(dataset.image_paths(split), split, frame.index)
    return dataset


def load_test(root: Path, spec: CompetitionSpec, images: bool = True, on_bad_image: str = "error",
              index_file: Callable[[Path, str], Path] | None = None) -> Dataset:
    """The test file of data folder ``root`` alone, as a dataset with no training rows: what a saved run predicts.

    It is checked as :func:`load_competition` checks a test file (and its images, if asked)."""
    check_on_bad_image(on_bad_image)
    root, test_path = Path(root), Path(root) / spec.test_file
    if not test_path.is_file():
        raise DataError(f"{test_path}: not found; pass the folder holding the products to predict as "
                        f"{spec.test_file}")
    fingerprint = "test-" + (_sampled_digest((test_path,)) if spec.format == "bson"
                             else hashlib.sha256(test_path.read_bytes()).hexdigest()[:16])
    if spec.format == "bson":
        test = index_bson_cached(test_path, None, index_file)
        none = np.empty(0, dtype=np.int64)
        bson = {"train": BsonIndex(test_path, none, none, none, none, none), "test": test}
        frame = pd.DataFrame({"n_images": test.images_per_product()}, index=pd.Index(test.ids, name="_id"))
        return Dataset(spec, root, frame.iloc[:0], none, frame, images, fingerprint, bson)
    test = _validate_products(test_path, read_challenge_table(test_path, spec.product_columns, spec.id_column), spec)
    return products_dataset(test, spec, root, images and spec.has_images, on_bad_image, fingerprint)


def products_dataset(test: pd.DataFrame, spec: CompetitionSpec, root: Path, images: bool, on_bad_image: str,
                     fingerprint: str) -> Dataset:
    """Validated test products (and their images under ``root``, in the spec's layout) as a dataset with no
    training rows."""
    dataset = Dataset(spec, Path(root), test.iloc[:0], np.empty(0, dtype=np.int64), test, images, fingerprint)
    if images and on_bad_image == "error":
        check_image_files(dataset.image_paths("test"), "test", test.index)
    return dataset


def validate_products(frame: pd.DataFrame, spec: CompetitionSpec, source: str) -> pd.DataFrame:
    """Products given as a frame (``source`` names it in errors), checked as a test file's rows are."""
    missing = [c for c in spec.product_columns if c not in frame.columns]
    if missing:
        raise DataError(f"{source}: no column {missing[0]!r}; products need the columns "
                        f"{', '.join(spec.product_columns)}")
    frame = frame.copy()
    for column in spec.text_columns:
        frame[column] = frame[column].fillna("").astype(str)
    for column in (*spec.id_columns, *([spec.image_column] if spec.image_column else [])):  # as a file's strings
        frame[column] = frame[column].astype(str)
    return _validate_products(Path(source), frame, spec)


def image_coverage(dataset: Dataset) -> dict[str, tuple[int, int]]:
    """Found and total image count per split, for reporting on data loaded without images."""
    if dataset.bson is not None:
        return {split: (len(index.image_offset),) * 2 for split, index in dataset.bson.items()}
    coverage = {}
    for split in ("train", "test"):
        paths = dataset.image_paths(split)
        files = {folder: _files_in(folder) for folder in {p.parent for p in paths}}
        coverage[split] = (sum(p.name in files[p.parent] for p in paths), len(paths))
    return coverage


def _files_in(folder: Path) -> set[str]:
    """Names of the files in ``folder`` (none if it is missing): one listing instead of a stat per image."""
    try:
        with os.scandir(folder) as entries:
            return {entry.name for entry in entries if entry.is_file()}
    except (FileNotFoundError, NotADirectoryError):
        return set()
