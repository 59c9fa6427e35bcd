"""The synthetic Cdiscount twin: exact BSON layout, check-data round trip, same seed same bytes, photo counts,
long-tailed categories, atomic writes and the ``demo-data --layout cdiscount`` command."""

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import bson
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from stackfold.competition import load_competition
from stackfold.competition.bson_files import index_bson
from stackfold.competition.challenges import cdiscount
from stackfold.errors import DataError
from stackfold.synthetic import cdiscount as twin_module
from stackfold.synthetic.cdiscount import (
    COVER_ALL,
    PHOTO_PROBABILITIES,
    REAL_TRAIN_PHOTOS,
    REAL_TRAIN_PRODUCTS,
    category_names_bytes,
    category_probabilities,
    write_cdiscount_twin,
)

N, SEED = 300, 5
N_TEST = round(N * 1_768_182 / 7_069_896)
FILES = ["category_names.csv", "test.bson", "train.bson", "truth/test_categories.csv"]


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cdiscount-twin")
    written = write_cdiscount_twin(out, N, seed=SEED, processes=2)
    assert (written.train_products, written.test_products) == (N, N_TEST)
    return out


def _fake_photo(style, rng, size) -> bytes:
    """A few bytes instead of a JPEG: label and count tests need thousands of products, not their pixels."""
    return b"\xff\xd8" + bytes([int(rng.integers(256))])


def test_layout_fields_and_photos_are_the_real_ones(twin: Path) -> None:
    assert _files(twin) == FILES
    assert (twin / "category_names.csv").read_bytes() == category_names_bytes()
    train = bson.decode_all((twin / "train.bson").read_bytes())
    test = bson.decode_all((twin / "test.bson").read_bytes())
    assert (len(train), len(test)) == (N, N_TEST)
    assert {tuple(d) for d in train} == {("_id", "imgs", "category_id")}  # the real file's field order
    assert {tuple(d) for d in test} == {("_id", "imgs")}
    ids = [d["_id"] for d in train], [d["_id"] for d in test]
    assert all(np.diff(i).min() > 0 for i in ids) and not set(ids[0]) & set(ids[1])
    truth = pd.read_csv(twin / "truth" / "test_categories.csv")
    assert list(truth.columns) == ["_id", "category_id"] and list(truth["_id"]) == ids[1]
    assert set(truth["category_id"]) <= set(cdiscount().classes)
    pictures = [img["picture"] for d in train[:20] for img in d["imgs"]]
    for picture in pictures[:10]:
        image = Image.open(io.BytesIO(picture))
        assert (image.format, image.size, image.mode) == ("JPEG", (180, 180), "RGB")
    several = next(d["imgs"] for d in train if len(d["imgs"]) > 1)
    assert len({img["picture"] for img in several}) == len(several)  # a product's photos differ


def test_check_data_and_loading_round_trip(twin: Path, run_cli) -> None:
    code, out, err = run_cli("check-data", twin)
    assert code == 0, err
    assert "cdiscount" in out and f"{N}" in out and f"{N_TEST}" in out and "ok" in out
    data = load_competition(twin, cdiscount())
    assert (len(data.train), len(data.test)) == (N, N_TEST) and set(data.y) <= set(cdiscount().classes)


def test_same_seed_same_bytes_whatever_the_processes(twin: Path, tmp_path: Path) -> None:
    write_cdiscount_twin(tmp_path / "again", N, seed=SEED, processes=1)
    assert all((twin / f).read_bytes() == (tmp_path / "again" / f).read_bytes() for f in FILES)
    write_cdiscount_twin(tmp_path / "other", 40, seed=SEED + 1, processes=1)
    assert (tmp_path / "other" / "train.bson").read_bytes()[:20_000] != (twin / "train.bson").read_bytes()[:20_000]


def test_photo_counts_mean_the_real_one(twin: Path) -> None:
    assert np.isclose((PHOTO_PROBABILITIES * np.arange(1, 5)).sum(), REAL_TRAIN_PHOTOS / REAL_TRAIN_PRODUCTS)
    splits = (("train.bson", frozenset(cdiscount().classes)), ("test.bson", None))
    counts = np.concatenate([index_bson(twin / name, classes).images_per_product() for name, classes in splits])
    assert counts.min() >= 1 and counts.max() <= 4 and set(counts) == {1, 2, 3, 4}
    assert abs(counts.mean() - 1.75) < 0.25  # 4 standard errors at 375 products


def test_category_law_matches_the_assumed_public_figures() -> None:
    expected = category_probabilities() * REAL_TRAIN_PRODUCTS
    assert len(expected) == 5270 and np.isclose(expected.sum(), REAL_TRAIN_PRODUCTS)
    assert abs(expected.max() - 80_000) < 200 and abs(expected.min() - 12) < 0.5
    top = np.sort(expected)[::-1]
    assert top[:53].sum() / REAL_TRAIN_PRODUCTS > 0.3  # the largest 1 % of categories hold a third of the products


def test_every_category_appears_above_the_cover_size_with_a_long_tail(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(twin_module, "_photo", _fake_photo)
    n = COVER_ALL * 5270
    write_cdiscount_twin(tmp_path / "big", n, seed=1, processes=1)
    counts = pd.Series(index_bson(tmp_path / "big" / "train.bson", frozenset(cdiscount().classes)).categories)
    frequencies = counts.value_counts()
    assert len(frequencies) == 5270 and frequencies.sum() == n
    assert frequencies.iloc[0] > 100 > frequencies.median() and frequencies.iloc[:53].sum() > 0.2 * n
    write_cdiscount_twin(tmp_path / "small", n - 1, seed=1, processes=1)
    small = index_bson(tmp_path / "small" / "train.bson", frozenset(cdiscount().classes))
    assert small.n_categories() < 5270  # below the cover size the law alone decides


def test_a_failed_write_leaves_no_train_file(tmp_path: Path, monkeypatch) -> None:
    calls = []

    def failing(job):
        calls.append(job)
        if len(calls) == 3:
            raise RuntimeError("disk gone")
        return [[b"\xff\xd8"] * int(count) for count in job[4]]

    monkeypatch.setattr(twin_module, "_render_chunk", failing)
    with pytest.raises(RuntimeError, match="disk gone"):
        write_cdiscount_twin(tmp_path, 200, seed=0, processes=1)
    assert _files(tmp_path) == ["category_names.csv", "test.bson", "truth/test_categories.csv"]  # train.bson last


def test_a_killed_write_leaves_no_train_file(tmp_path: Path) -> None:
    code = ("from stackfold.synthetic import write_cdiscount_twin; "
            f"write_cdiscount_twin({str(tmp_path)!r}, 20000, test_ratio=1e-4, processes=1)")
    process = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".train.bson.*.tmp")) and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert list(tmp_path.glob(".train.bson.*.tmp")) and not (tmp_path / "train.bson").exists()
    with pytest.raises(DataError, match=r"train\.bson: file not found"):
        load_competition(tmp_path, cdiscount())


def test_demo_data_command_writes_either_layout(tmp_path: Path, run_cli) -> None:
    code, _, err = run_cli("demo-data", tmp_path / "cd", "--layout", "cdiscount", "--products", 40, "--seed", 1)
    assert code == 0, err
    assert _files(tmp_path / "cd") == FILES
    picture = bson.decode_all((tmp_path / "cd" / "test.bson").read_bytes())[0]["imgs"][0]["picture"]
    assert Image.open(io.BytesIO(picture)).size == (180, 180)  # the real size by default
    code, _, err = run_cli("demo-data", tmp_path / "x", "--layout", "amazon", "--products", 40)
    assert code == 1 and err.count("\n") == 1 and "unknown layout; choose one of: rakuten, cdiscount" in err
