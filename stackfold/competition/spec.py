"""Declarative description of a challenge: its files, columns, classes, metric and submission.

A spec is data, not code: loaders, folds, models and submissions read what they need
from it, so a new challenge of the same shape is a new spec, not a new pipeline.
"""

from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import pandas as pd

from stackfold.errors import ConfigError


@dataclass(frozen=True)
class CompetitionSpec:
    """Everything stackfold needs to know about one challenge's files and scoring."""

    name: str
    train_file: str
    labels_file: str
    test_file: str
    text_columns: tuple[str, ...]
    required_text_columns: tuple[str, ...]
    id_columns: tuple[str, ...]
    label_column: str
    classes: tuple[int, ...]
    class_names: tuple[str, ...]
    image_template: str
    train_image_dir: str
    test_image_dir: str
    metric: str
    submission_index_name: str = ""
    format: str = "csv"
    """``csv``: text CSVs plus one image file per product; ``bson``: products and their images in BSON files."""

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def submission_header(self) -> str:
        """First line of a valid submission file, e.g. ``,prdtypecode``."""
        return f"{self.submission_index_name},{self.label_column}"

    def image_path(self, split: str, row: pd.Series | dict) -> str:
        """Relative path of the image of one product row, ``split`` being ``train`` or ``test``."""
        folder = self.train_image_dir if split == "train" else self.test_image_dir
        return f"{folder}/{self.image_template.format(**row)}"


def _rakuten_categories() -> pd.DataFrame:
    with (files("stackfold.competition") / "data" / "rakuten_categories.csv").open(encoding="utf-8") as f:
        return pd.read_csv(f)


@cache
def rakuten() -> CompetitionSpec:
    """The Rakuten France Multimodal Product Data Classification challenge (ENS challenge 35)."""
    categories = _rakuten_categories()
    return CompetitionSpec(
        name="rakuten",
        train_file="X_train_update.csv",
        labels_file="Y_train_CVw08PX.csv",
        test_file="X_test_update.csv",
        text_columns=("designation", "description"),
        required_text_columns=("designation",),
        id_columns=("productid", "imageid"),
        label_column="prdtypecode",
        classes=tuple(int(c) for c in categories["prdtypecode"]),
        class_names=tuple(categories["label_en"]),
        image_template="image_{imageid}_product_{productid}.jpg",
        train_image_dir="images/image_train",
        test_image_dir="images/image_test",
        metric="weighted_f1",
    )


def _cdiscount_categories() -> pd.DataFrame:
    with (files("stackfold.competition") / "data" / "cdiscount_categories.csv").open(encoding="utf-8") as f:
        return pd.read_csv(f, dtype={"category_id": "int64"}).sort_values("category_id", ignore_index=True)


@cache
def cdiscount() -> CompetitionSpec:
    """Cdiscount's Image Classification Challenge (Kaggle, 2017): images only, 5,270 categories."""
    categories = _cdiscount_categories()
    return CompetitionSpec(
        name="cdiscount",
        train_file="train.bson",
        labels_file="",
        test_file="test.bson",
        text_columns=(),
        required_text_columns=(),
        id_columns=(),
        label_column="category_id",
        classes=tuple(int(c) for c in categories["category_id"]),
        class_names=tuple(categories["category_level3"]),
        image_template="",
        train_image_dir="",
        test_image_dir="",
        metric="accuracy",
        submission_index_name="_id",
        format="bson",
    )


def cdiscount_hierarchy() -> pd.DataFrame:
    """The 3-level hierarchy of Cdiscount's categories, indexed by ``category_id`` in :func:`cdiscount` class order.

    Columns ``category_level1``, ``category_level2``, ``category_level3`` (coarse to fine), e.g. to
    group the 5,270 classes by level-1 department.
    """
    return _cdiscount_categories().set_index("category_id")


def class_frequencies() -> dict[int, int]:
    """Training-set count of every Rakuten class, from the official label file."""
    categories = _rakuten_categories()
    return dict(zip(categories["prdtypecode"].astype(int), categories["n_train"].astype(int)))


SPECS = {"cdiscount": cdiscount, "rakuten": rakuten}


def get_spec(name: str) -> CompetitionSpec:
    """Look up a built-in challenge spec by name."""
    try:
        return SPECS[name]()
    except KeyError as e:
        known = ", ".join(sorted(SPECS))
        raise ConfigError(f"unknown competition {name!r}; choose one of: {known}") from e
