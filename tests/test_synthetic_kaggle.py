"""The Kaggle-layout twin: files and headers, ids, sample submission, pictures, string labels, determinism."""

import filecmp
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import stackfold
from stackfold.synthetic import LAYOUTS, write_kaggle_twin
from stackfold.synthetic.catalogue import load_catalogue
from stackfold.synthetic.kaggle import class_names

N, SIZE, SEED = 60, 32, 3
N_TEST = round(N * 13812 / 84916)
CSVS = {
    "train.csv": "id,title,description,image,category",
    "test.csv": "id,title,description,image",
    "truth/test_labels.csv": "id,category",
}


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("kaggle")
    write_kaggle_twin(out, N, seed=SEED, image_size=SIZE)
    return out


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False)


def all_files(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def test_files_and_headers(twin: Path) -> None:
    for name, header in CSVS.items():
        assert (twin / name).read_text(encoding="utf-8").split("\n", 1)[0] == header
    csvs = [p for p in all_files(twin) if p.suffix != ".jpg"]
    assert csvs == sorted(Path(name) for name in [*CSVS, "sample_submission.csv"])
    assert LAYOUTS["kaggle"].write is write_kaggle_twin


def test_same_seed_same_bytes_other_seed_other_data(twin: Path, tmp_path: Path) -> None:
    write_kaggle_twin(tmp_path / "again", N, seed=SEED, image_size=SIZE)
    files = all_files(twin)
    assert all_files(tmp_path / "again") == files
    _, mismatch, errors = filecmp.cmpfiles(twin, tmp_path / "again", [str(p) for p in files], shallow=False)
    assert not mismatch and not errors
    write_kaggle_twin(tmp_path / "other", N, seed=SEED + 1, image_size=SIZE)
    assert (tmp_path / "other" / "train.csv").read_bytes() != (twin / "train.csv").read_bytes()


def test_ids_unique_disjoint_and_sorted_per_split(twin: Path) -> None:
    train, test = read(twin / "train.csv"), read(twin / "test.csv")
    assert (len(train), len(test)) == (N, N_TEST)
    ids = [*train["id"], *test["id"]]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"p\d{6}", i) for i in ids)
    assert list(train["id"]) == sorted(train["id"]) and list(test["id"]) == sorted(test["id"])
    assert list(read(twin / "truth" / "test_labels.csv")["id"]) == list(test["id"])


def test_sample_submission_is_uniform_over_sorted_classes(twin: Path) -> None:
    submission = pd.read_csv(twin / "sample_submission.csv")
    classes = sorted(class_names().values())
    assert list(submission.columns) == ["id", *classes] and len(classes) == 27
    assert list(submission["id"]) == list(read(twin / "test.csv")["id"])
    np.testing.assert_allclose(submission[classes].to_numpy(), 1 / 27)


def test_every_image_path_exists_and_no_other(twin: Path) -> None:
    train, test = read(twin / "train.csv"), read(twin / "test.csv")
    for split, frame in (("train", train), ("test", test)):
        assert list(frame["image"]) == [f"images/{split}/{i}.jpg" for i in frame["id"]]
    paths = [*train["image"], *test["image"]]
    assert sorted(map(Path, paths)) == [p for p in all_files(twin) if p.suffix == ".jpg"]
    with Image.open(twin / paths[0]) as image:
        assert image.format == "JPEG" and image.size == (SIZE, SIZE)


def test_string_labels_with_spaces_round_trip(twin: Path) -> None:
    names = set(class_names().values())
    assert len(names) == 27 and all(" " in name for name in names)
    train, truth = read(twin / "train.csv"), read(twin / "truth" / "test_labels.csv")
    for labels in (train["category"], truth["category"]):
        assert pd.api.types.is_string_dtype(labels) and set(labels) <= names
    assert train["title"].str.len().min() > 0 and (train["description"] == "").any()


def test_class_frequencies_are_roughly_the_real_ones(tmp_path: Path) -> None:
    n = 1000
    write_kaggle_twin(tmp_path, n, seed=0, images=False)
    train = read(tmp_path / "train.csv")
    assert "image" not in train.columns and not (tmp_path / "images").exists()
    catalogue, names = load_catalogue(), class_names()
    real = pd.Series(catalogue.probabilities, index=[names[c] for c in catalogue.codes])
    observed = train["category"].value_counts(normalize=True).reindex(real.index, fill_value=0)
    assert (observed > 0).all() and (observed - real).abs().sum() / 2 < 0.1  # uniform: 0.25


def test_cli_and_api_write_the_same_twin(tmp_path: Path, run_cli) -> None:
    code, out, err = run_cli("demo-data", "--help")
    assert code == 0 and "kaggle" in out
    code, _, err = run_cli("demo-data", tmp_path / "cli", "--layout", "kaggle", "--products", 20, "--image-size", 16)
    assert code == 0, err
    assert stackfold.demo_data(tmp_path / "api", products=20, image_size=16, layout="kaggle") == tmp_path / "api"
    files = all_files(tmp_path / "cli")
    assert files == all_files(tmp_path / "api") and Path("train.csv") in files
    assert all((tmp_path / "cli" / f).read_bytes() == (tmp_path / "api" / f).read_bytes() for f in files)
    with pytest.raises(ValueError, match="at least 1"):
        write_kaggle_twin(tmp_path / "none", 0)
