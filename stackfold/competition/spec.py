"""Declarative description of a challenge: its files, columns, classes, metric and submission.

A spec is data, not code: loaders, folds, models and submissions read what they need from it,
so a new challenge of the same shape is a new spec file (``challenge.toml``, read by
:mod:`stackfold.competition.spec_file`), not a new pipeline. The built-in challenges are spec
files shipped in the package (``competition/data/<name>.toml``, :mod:`stackfold.competition.challenges`),
read by the same code.

Classes: inside stackfold every class is an integer code, in sorted order. A challenge whose labels
are all integers (Rakuten's ``prdtypecode``) uses them as the codes; one with other labels (author
or category names) codes them 0..K-1 in the sorted order of the labels, and ``class_labels`` holds
each class as the challenge's files write it, so labels are read and written back unchanged.
"""

from dataclasses import dataclass
from importlib.resources import files

import pandas as pd

SUBMISSION_KINDS = ("label", "probabilities")
"""A submission holds each test row's predicted label, or one probability column per class."""
FORMATS = ("table", "bson")
"""``table``: CSV or Parquet files plus image files (or none); ``bson``: products and their images in BSON files."""


@dataclass(frozen=True)
class CompetitionSpec:
    """Everything stackfold needs to know about one challenge's files and scoring."""

    name: str
    train_file: str
    test_file: str
    label_column: str
    classes: tuple[int, ...]
    """The integer code of every class, sorted (see the module's docstring)."""
    class_labels: tuple[str, ...]
    """Each class as the challenge's files write it, in ``classes`` order."""
    class_names: tuple[str, ...]
    """Each class's display name (reports), in ``classes`` order."""
    metric: str
    labels_file: str = ""
    """A separate label file keyed like the training file; ``""``: the labels are a column of the training file."""
    id_column: str = ""
    """The id column of every file; ``""``: the files' unnamed first column (Rakuten's index)."""
    text_columns: tuple[str, ...] = ()
    required_text_columns: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    """The texts' languages (ISO 639-1), majority first: one skips language detection; several send uncertain
    texts to the likelier of them; none keeps the detector's answer."""
    title_column: str = ""
    """The short text column (a product title) read by the title views; ``""``: none."""
    id_columns: tuple[str, ...] = ()
    """Integer columns unique per row in train and test together (Rakuten's product and image ids)."""
    image_column: str = ""
    """A column holding each row's image path, relative to the data folder."""
    image_template: str = ""
    """Or an image file name built from columns (``image_{imageid}_product_{productid}.jpg``)."""
    train_image_dir: str = ""
    test_image_dir: str = ""
    submission: str = "label"
    submission_index_name: str = ""
    """The id column's header in a submission (Rakuten's is empty: ``,prdtypecode``)."""
    submission_columns: tuple[str, ...] = ()
    """A probability submission's class columns, in the sample submission's order (``class_labels`` by default);
    a label submission's label column when the sample submission names it otherwise than the training file."""
    sample_submission: str = ""
    format: str = "table"
    source: str = ""
    """The user's spec file it was read from (named in errors; its columns are checked against the files' headers
    before loading); ``""`` for a built-in challenge."""

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def has_images(self) -> bool:
        """Whether rows come with pictures (an image column, a file-name template or BSON files)."""
        return bool(self.image_column or self.image_template or self.format == "bson")

    @property
    def integer_labels(self) -> bool:
        """Whether the labels are integers, each its own class code (else strings coded 0..K-1)."""
        return self.class_labels == tuple(map(str, self.classes))

    def column_names(self) -> list[int | str]:
        """A probability frame's column for each class: its code for integer labels, else its label."""
        return list(self.classes) if self.integer_labels else list(self.class_labels)

    @property
    def label_of(self) -> dict[str, int]:
        """Class code of each label as the files write it."""
        return dict(zip(self.class_labels, self.classes))

    @property
    def submission_header(self) -> str:
        """First line of a valid submission file, e.g. ``,prdtypecode`` or ``id,EAP,HPL,MWS``."""
        if self.submission == "probabilities":
            return ",".join((self.submission_index_name, *self.submission_columns))
        return f"{self.submission_index_name},{self.submission_label}"

    @property
    def submission_label(self) -> str:
        """A label submission's label column: the sample submission's name for it, else the label column's."""
        return self.submission_columns[0] if self.submission == "label" and self.submission_columns else \
            self.label_column

    @property
    def label_header(self) -> str:
        """First line of a file of true labels (a truth file): the id column, then the label column."""
        return f"{self.submission_index_name},{self.label_column}"

    @property
    def product_columns(self) -> tuple[str, ...]:
        """The columns of a products file stackfold reads besides the id and the label."""
        image = (self.image_column,) if self.image_column else ()
        return (*self.text_columns, *self.id_columns, *image)

    def image_path(self, split: str, row: pd.Series | dict) -> str:
        """Relative path of the image of one product row, ``split`` being ``train`` or ``test``."""
        if self.image_column:
            return str(row[self.image_column])
        folder = self.train_image_dir if split == "train" else self.test_image_dir
        return f"{folder}/{self.image_template.format(**row)}"


def _categories(name: str) -> pd.DataFrame:
    with (files("stackfold.competition") / "data" / name).open(encoding="utf-8") as f:
        return pd.read_csv(f)


def cdiscount_hierarchy() -> pd.DataFrame:
    """The 3-level hierarchy of Cdiscount's categories, indexed by ``category_id`` in :func:`cdiscount` class order.

    Columns ``category_level1``, ``category_level2``, ``category_level3`` (coarse to fine), e.g. to
    group the 5,270 classes by level-1 department.
    """
    categories = _categories("cdiscount_categories.csv").astype({"category_id": "int64"})
    return categories.sort_values("category_id", ignore_index=True).set_index("category_id")


def class_frequencies() -> dict[int, int]:
    """Training-set count of every Rakuten class, from the official label file."""
    categories = _categories("rakuten_categories.csv")
    return dict(zip(categories["prdtypecode"].astype(int), categories["n_train"].astype(int)))
