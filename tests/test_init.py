"""`stackfold init DATA`: a first challenge.toml guessed from the files, each key with its reason, read back by
read_spec, and (the common case needs no edit) a plain `stackfold run DATA` on it."""

import shutil
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stackfold.competition.guess import guess_spec, spec_file_text
from stackfold.competition.spec_file import KEYS, read_spec
from stackfold.synthetic import write_kaggle_twin

N_TWIN = 80
AUTHORS = {
    "EAP": "raven midnight dreary chamber tapping door lenore nevermore ghastly bird",
    "HPL": "eldritch cyclopean abyss ancient horror unspeakable cult ocean stars madness",
    "MWS": "creature creator misery lake geneva mountains friend ice sorrow monster",
}
COMMON = "the and of a to in was it that with his my upon which as when this night there".split()
RUN = ("--models", "prior,tfidf_logreg", "--stackers", "mean", "--no-report")


def _sentence(rng: np.random.Generator, author: str) -> str:
    words = [*rng.choice(COMMON, 9), *rng.choice(AUTHORS[author].split(), 5)]
    rng.shuffle(words)
    return " ".join(words).capitalize() + "."


@pytest.fixture(scope="module")
def twin_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("twin")
    write_kaggle_twin(out, N_TWIN, seed=0, image_size=16)
    return out


@pytest.fixture
def twin(twin_source: Path, tmp_path: Path) -> Path:
    """A writable copy of the Kaggle twin: train.csv id,title,description,image,category; probability columns."""
    return Path(shutil.copytree(twin_source, tmp_path / "twin"))


@pytest.fixture
def spooky(tmp_path: Path) -> Path:
    """A text-only Kaggle folder shaped like Spooky Author: train id,text,author; sample id,EAP,HPL,MWS."""
    rng = np.random.default_rng(0)
    data = tmp_path / "spooky"
    data.mkdir()
    authors = rng.choice(list(AUTHORS), 90)
    train = pd.DataFrame({"id": [f"id{k:05d}" for k in range(90)], "text": [_sentence(rng, a) for a in authors],
                          "author": authors})
    test = pd.DataFrame({"id": [f"id{k:05d}" for k in range(90, 120)],
                         "text": [_sentence(rng, a) for a in rng.choice(list(AUTHORS), 30)]})
    train.to_csv(data / "train.csv", index=False)
    test.to_csv(data / "test.csv", index=False)
    test[["id"]].assign(EAP=0.4, HPL=0.3, MWS=0.3).to_csv(data / "sample_submission.csv", index=False)
    return data


@pytest.fixture
def reviews(tmp_path: Path) -> Path:
    """Parquet files, integer labels, imbalanced (60/15/15), a numeric and a categorical column; sample id,target."""
    rng = np.random.default_rng(1)
    data = tmp_path / "reviews"
    data.mkdir()

    def frame(ids: range) -> pd.DataFrame:
        return pd.DataFrame({"id": list(ids), "stars": rng.integers(1, 6, len(ids)),
                             "colour": rng.choice(["red", "blue", "green"], len(ids)),
                             "review": [_sentence(rng, a) for a in rng.choice(list(AUTHORS), len(ids))]})

    frame(range(90)).assign(target=[0] * 60 + [1] * 15 + [2] * 15).to_parquet(data / "train.parquet")
    frame(range(1000, 1030)).to_parquet(data / "test.parquet")
    pd.DataFrame({"id": range(1000, 1030), "target": 0}).to_csv(data / "sample_submission.csv", index=False)
    return data


def _init(run_cli, data: Path, *args: str) -> tuple[dict, str, str]:
    """`stackfold init DATA`: the keys the written file sets, its text, and what was printed."""
    code, out, err = run_cli("init", data, *args)
    assert code == 0, err
    assert f"wrote {data / 'challenge.toml'}" in out and f"stackfold run {data} --out runs/first" in out
    text = (data / "challenge.toml").read_text(encoding="utf-8")
    keys = tomllib.loads(text)
    for key in keys:
        assert f"│ {key} " in out
    return keys, text, out


def _drop_image_column(twin: Path) -> None:
    """The twin with its pictures named images/{split}/{id}.jpg but no column of their paths."""
    for name in ("train.csv", "test.csv"):
        frame = pd.read_csv(twin / name, dtype=str, keep_default_na=False)
        frame.drop(columns="image").to_csv(twin / name, index=False)


def _header(path: Path) -> str:
    return path.read_text(encoding="utf-8").split("\n", 1)[0]


def test_kaggle_twin(twin: Path, run_cli) -> None:
    keys, text, _ = _init(run_cli, twin)
    assert keys == {
        "train": "train.csv", "test": "test.csv", "sample_submission": "sample_submission.csv", "id": "id",
        "label": "category", "text": ["title", "description"], "title": "title", "languages": keys["languages"],
        "image": "image", "metric": "log_loss", "submission": "probabilities"}
    assert keys["languages"][0] == "fr"
    assert 'image = "image"  # its values are image files' in text and "evaluation page" in text
    spec = read_spec(twin / "challenge.toml", twin)
    assert spec.submission_header == _header(twin / "sample_submission.csv")
    assert spec.n_classes == len(_header(twin / "sample_submission.csv").split(",")) - 1
    assert (spec.image_column, spec.title_column, spec.metric) == ("image", "title", "log_loss")


def test_spooky_text_only(spooky: Path, run_cli) -> None:
    keys, text, _ = _init(run_cli, spooky)
    assert keys == {
        "train": "train.csv", "test": "test.csv", "sample_submission": "sample_submission.csv", "id": "id",
        "label": "author", "text": ["text"], "languages": ["en"], "metric": "log_loss", "submission": "probabilities"}
    assert '# image = ""  # default: none' in text
    spec = read_spec(spooky / "challenge.toml", spooky)
    assert spec.class_labels == ("EAP", "HPL", "MWS") and spec.submission_header == "id,EAP,HPL,MWS"
    assert (spec.title_column, spec.image_column, spec.languages) == ("", "", ("en",))


def test_parquet_label_submission(reviews: Path, run_cli) -> None:
    keys, text, out = _init(run_cli, reviews)
    assert keys == {
        "train": "train.parquet", "test": "test.parquet", "sample_submission": "sample_submission.csv", "id": "id",
        "label": "target", "text": ["review"], "languages": keys["languages"], "metric": "weighted_f1",
        "submission": "label"}
    assert "largest class 60 rows, smallest 15: more than 3x" in text
    for line in ("ignored: column stars (numeric)", "ignored: column colour (categorical: 3 distinct values)"):
        assert f"# {line}\n" in text and f"{line}\n" in out
    spec = read_spec(reviews / "challenge.toml", reviews)
    assert spec.classes == (0, 1, 2) and spec.submission_header == "id,target" and spec.submission == "label"


def test_spec_file_comments_every_key_and_reads_as_toml(spooky: Path) -> None:
    guess = guess_spec(spooky)
    text = spec_file_text(guess)
    assert tomllib.loads(text) == guess.keys and list(guess.reasons) == list(KEYS)
    for key in KEYS:
        assert f"# {key}: " in text
    assert '# title = ""  # default' in text and 'label = "author"  # ' in text
    assert '# classes = ["EAP", "HPL", "MWS"]  # default: the sample submission\'s class columns (3 classes)' in text
    assert guess.lines()[0] == 'train = "train.csv": named train.csv'
    uncommented = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert all("  # " in line for line in uncommented)


def test_image_template_from_file_names(twin: Path) -> None:
    """No image column, but images/train/{id}.jpg and images/test/{id}.jpg: a template."""
    _drop_image_column(twin)
    keys = guess_spec(twin).keys
    assert (keys["image_template"], keys["train_images"], keys["test_images"]) == (
        "{id}.jpg", "images/train", "images/test")
    assert "image" not in keys and "id_columns" not in keys


def test_image_template_spec_loads(twin: Path) -> None:
    """The guessed `{id}.jpg` template is what KEYS documents; loading its images needs the id in the template's row."""
    from stackfold.competition import load_competition

    _drop_image_column(twin)
    (twin / "challenge.toml").write_text(spec_file_text(guess_spec(twin)), encoding="utf-8")
    dataset = load_competition(twin, read_spec(twin / "challenge.toml", twin), images=True)
    assert dataset.image_paths("train")[0] == twin / "images" / "train" / f"{dataset.train.index[0]}.jpg"


def test_labels_file_beside_train(spooky: Path) -> None:
    """Rakuten's layout: X_train.csv without labels, Y_train.csv holding the id and the label."""
    train = pd.read_csv(spooky / "train.csv")
    train.drop(columns="author").to_csv(spooky / "X_train.csv", index=False)
    train[["id", "author"]].to_csv(spooky / "Y_train.csv", index=False)
    (spooky / "train.csv").unlink()
    keys = guess_spec(spooky).keys
    assert (keys["train"], keys["labels"], keys["label"]) == ("X_train.csv", "Y_train.csv", "author")


@pytest.mark.parametrize(("remove", "message"), [
    ("train.csv", "no train file"), ("test.csv", "no test file"), ("author", "no label column")])
def test_refusals_are_one_line(spooky: Path, run_cli, remove: str, message: str) -> None:
    if remove == "author":
        pd.read_csv(spooky / "train.csv").drop(columns="author").to_csv(spooky / "train.csv", index=False)
    else:
        (spooky / remove).unlink()
    code, out, err = run_cli("init", spooky)
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1, err
    key = {"author": "label", "train.csv": "train", "test.csv": "test"}[remove]
    assert f'{key} = "' in err and not (spooky / "challenge.toml").exists()


def test_refuses_to_overwrite_without_force(spooky: Path, run_cli) -> None:
    (spooky / "challenge.toml").write_text("# mine\n")
    code, _, err = run_cli("init", spooky)
    assert code == 1 and "--force" in err and (spooky / "challenge.toml").read_text() == "# mine\n"
    assert _init(run_cli, spooky, "--force")[0]["label"] == "author"
    assert read_spec(spooky / "challenge.toml").label_column == "author"


@pytest.mark.parametrize("layout", ["twin", "spooky"])
def test_init_then_plain_run(layout: str, request: pytest.FixtureRequest, run_cli, tmp_path: Path) -> None:
    """The common case needs no edit: init, then `stackfold run DATA` writes a submission in the sample's format."""
    data = request.getfixturevalue(layout)
    _init(run_cli, data)
    code, _, err = run_cli("run", data, "--out", tmp_path / "run", *RUN)
    assert code == 0, err
    best = tmp_path / "run" / "submissions" / "best.csv"
    assert _header(best) == _header(data / "sample_submission.csv")
