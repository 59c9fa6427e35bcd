"""The saved stratified fold assignment, and the inner splits taken from a training fold."""

import numpy as np
import pandas as pd
import pytest

from stackfold.competition.folds import SmallClassWarning, load_folds, make_folds, save_folds
from stackfold.core.splits import inner_folds
from stackfold.errors import ConfigError, DataError


def test_stratified_seeded_and_balanced():
    y = np.repeat([10, 40, 50], [50, 30, 20])
    folds = make_folds(y, 5, seed=3)
    assert np.array_equal(folds, make_folds(y, 5, seed=3))
    assert not np.array_equal(folds, make_folds(y, 5, seed=4))
    for label, count in ((10, 50), (40, 30), (50, 20)):
        assert np.bincount(folds[y == label], minlength=5).tolist() == [count // 5] * 5


def test_small_class_warns_with_name_and_count():
    y = np.array([10] * 20 + [40] * 20 + [2220])
    with pytest.warns(SmallClassWarning, match=r"2220 \(1 rows\)"):
        folds = make_folds(y, 5, seed=0)
    assert set(folds) == set(range(5))


def test_a_warning_about_thousands_of_small_classes_names_ten_and_counts_the_rest():
    y = np.concatenate([np.repeat([1, 2], 10), np.arange(100, 2100)])  # Cdiscount-like: 2,000 one-row classes
    expected = r"^2000 classes .*: 100 \(1 rows\), .*109 \(1 rows\) and 1990 more;"
    with pytest.warns(SmallClassWarning, match=expected) as record:
        make_folds(y, 3, seed=0)
    assert len(str(record[0].message)) < 300


@pytest.mark.parametrize(
    "y, n_folds, error, pattern",
    [
        (np.array([1, 2, 3]), 5, DataError, "only 3 training rows for 5 folds"),
        (np.arange(10) % 2, 1, ConfigError, "need at least 2 folds"),
    ],
)
def test_bad_fold_requests(y, n_folds, error, pattern):
    with pytest.raises(error, match=pattern):
        make_folds(y, n_folds)


def test_save_and_reload(tmp_path):
    index = pd.Index([5, 7, 9, 11])
    folds, labels = np.array([0, 1, 0, 1]), np.array([10, 40, 10, 40])
    save_folds(tmp_path / "folds.csv", index, folds, labels)
    saved = load_folds(tmp_path / "folds.csv")
    assert saved.index.equals(index) and np.array_equal(saved.folds, folds) and np.array_equal(saved.labels, labels)
    (tmp_path / "old.csv").write_text("index,fold\n5,0\n")
    with pytest.raises(DataError, match="expected columns index,fold,label"):
        load_folds(tmp_path / "old.csv")


@pytest.mark.parametrize("n_folds", [1, 2, 3])
def test_inner_folds_cover_every_row_once_stratified(n_folds):
    y = np.repeat([0, 1, 2], [50, 30, 2])
    splits = inner_folds(y, n_folds, seed=0)
    assert len(splits) == n_folds
    for train, valid in splits:
        assert np.intersect1d(train, valid).size == 0 and len(train) + len(valid) == len(y)
    if n_folds == 1:  # one holdout of a fifth of each class (the 2-row class stays in training)
        (train, valid), = splits
        assert np.bincount(y[valid], minlength=3).tolist() == [10, 6, 0]
    else:
        assert sorted(np.concatenate([valid for _, valid in splits]).tolist()) == list(range(len(y)))
