"""A challenge described in a spec file (challenge.toml): the built-in specs read by the same code, every mistake
one line naming the key, string labels and ids kept as the challenge gives them, probability submissions checked."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stackfold.competition import load_competition
from stackfold.competition.challenges import built_in_path, get_spec
from stackfold.competition.spec_file import class_codes, read_spec
from stackfold.errors import ConfigError, SubmissionError
from stackfold.submissions import score_submission, validate_submission, write_submission
from stackfold.synthetic.kaggle import write_kaggle_twin

SPEC = """train = "train.csv"
test = "test.csv"
sample_submission = "sample_submission.csv"
label = "category"
text = ["title", "description"]
image = "image"
metric = "log_loss"
"""
RUN = ["--models", "prior,tfidf_logreg", "--stackers", "mean", "--no-report"]


@pytest.fixture(scope="module")
def kaggle(tmp_path_factory) -> Path:
    """A small Kaggle-layout twin with 16 px images (read-only: tests copy what they change)."""
    root = tmp_path_factory.mktemp("kaggle")
    write_kaggle_twin(root, 120, seed=0, image_size=16)
    return root


@pytest.fixture
def folder(kaggle, tmp_path) -> Path:
    """A writable copy of the twin's tables (images linked, not copied) with the spec above."""
    target = tmp_path / "data"
    target.mkdir()
    for name in ("train.csv", "test.csv", "sample_submission.csv"):
        (target / name).write_bytes((kaggle / name).read_bytes())
    (target / "images").symlink_to(kaggle / "images")
    (target / "challenge.toml").write_text(SPEC)
    return target


def test_built_in_specs_are_spec_files_read_by_the_same_code():
    for name in ("rakuten", "cdiscount"):
        assert read_spec(built_in_path(name)).classes == get_spec(name).classes
    rakuten = get_spec("rakuten")
    assert rakuten.n_classes == 27 and rakuten.submission_header == ",prdtypecode"
    assert rakuten.title_column == "designation" and rakuten.languages == ("fr", "en")
    assert get_spec("cdiscount").n_classes == 5270 and get_spec("cdiscount").submission_header == "_id,category_id"


def test_a_spec_file_derives_classes_and_submission_from_the_sample_submission(folder):
    spec = read_spec(folder / "challenge.toml")
    sample = pd.read_csv(folder / "sample_submission.csv")
    assert spec.submission == "probabilities" and spec.submission_header == ",".join(sample.columns)
    assert spec.classes == tuple(range(27)) and list(spec.class_labels) == sorted(sample.columns[1:])
    assert spec.title_column == "title" and spec.has_images and spec.name == "data"


@pytest.mark.parametrize(("labels", "codes", "written"), [
    (["10", "2583", "40"], (10, 40, 2583), ("10", "40", "2583")),
    (["EAP", "MWS", "HPL"], (0, 1, 2), ("EAP", "HPL", "MWS")),
    (["010", "7"], (0, 1), ("010", "7")),  # not written as integers are: kept as strings
])
def test_class_codes(labels, codes, written):
    assert class_codes(labels) == (codes, written)


def _edit(name: str, old: str, new: str):
    def apply(folder: Path) -> None:
        path = folder / name
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))
    return apply


def _drop_test_images(folder: Path) -> None:
    frame = pd.read_csv(folder / "test.csv", dtype=str, keep_default_na=False)
    frame["image"] = "photos/" + frame["image"]
    frame.to_csv(folder / "test.csv", index=False)


def _label_in_test(folder: Path) -> None:
    frame = pd.read_csv(folder / "test.csv", dtype=str, keep_default_na=False)
    frame["category"] = "Pet Store > Dog Accessories and Food"
    frame.to_csv(folder / "test.csv", index=False)


SPEC_ERRORS = [
    ("unknown key", _edit("challenge.toml", "metric", 'colour = "red"\nmetric'),
     r"challenge\.toml: colour: unknown key"),
    ("missing key", _edit("challenge.toml", 'label = "category"\n', ""), r"challenge\.toml: label: missing"),
    ("wrong type", _edit("challenge.toml", 'text = ["title", "description"]', 'text = "title"'),
     r"challenge\.toml: text: must be a list"),
    ("not TOML", _edit("challenge.toml", "label =", "label"), r"challenge\.toml: not valid TOML"),
    ("unknown metric", _edit("challenge.toml", '"log_loss"', '"f2"'),
     r"challenge\.toml: metric: 'f2' is not one of: accuracy, weighted_f1, macro_f1, log_loss"),
    ("metric unfit for the submission", _edit("challenge.toml", 'metric = "log_loss"', 'metric = "accuracy"'),
     r"challenge\.toml: metric: accuracy scores labels, but submission = 'probabilities'; set submission = 'label'"),
    ("log loss over labels",
     _edit("challenge.toml", 'metric = "log_loss"', 'metric = "log_loss"\nsubmission = "label"'),
     r"challenge\.toml: metric: log_loss scores probabilities, but submission = 'label'"),
    ("text column not in the file", _edit("challenge.toml", '"description"]', '"body"]'),
     r"challenge\.toml: text: column 'body' is not in .*train\.csv \(its columns: id, title, description, image, "
     r"category\); fix the key or the file"),
    ("id column not in the file", _edit("challenge.toml", 'label =', 'id = "product"\nlabel ='),
     r"challenge\.toml: id: column 'product' is not in .*train\.csv"),
    ("label column in the test file", _label_in_test,
     r"challenge\.toml: label: the test file .*test\.csv has the label column 'category'"),
    ("image path that does not exist", _drop_test_images,
     r"challenge\.toml: image: the first test row's image .*photos/images/test/p\d+\.jpg does not exist"),
    ("title not a text column", _edit("challenge.toml", "label =", 'title = "name"\nlabel ='),
     r"challenge\.toml: title: 'name' is not one of the text columns \(title, description\); add it to text"),
    ("sample submission missing", _edit("challenge.toml", '"sample_submission.csv"', '"sample.csv"'),
     r"challenge\.toml: sample_submission: .*sample\.csv not found"),
    ("classes unlike the sample submission", _edit("challenge.toml", "label =", 'classes = ["a", "b"]\nlabel ='),
     r"challenge\.toml: sample_submission: its class columns .* are not the 2 classes"),
    ("unknown label in train", _edit("train.csv", ",Toys & Children > Toys\n", ",Toys\n"),
     r"train\.csv, row \d+ \(index p\d+\), column category: unknown class 'Toys'; expected one of the 27 classes"),
]


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.exists() else set()


@pytest.mark.parametrize(("mistake", "pattern"), [case[1:] for case in SPEC_ERRORS], ids=[c[0] for c in SPEC_ERRORS])
def test_each_spec_mistake_is_one_line_naming_the_key(folder, tmp_path, run_cli, mistake, pattern):
    mistake(folder)
    out = tmp_path / "run"
    code, stdout, stderr = run_cli("run", folder, "--out", out, *RUN)
    assert code == 1 and "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and re.search(pattern, " ".join(stderr.split())), stderr
    assert _files(out) <= {".lock"}  # nothing written


def test_string_labels_and_ids_round_trip_through_a_label_submission(folder, tmp_path):
    (folder / "challenge.toml").write_text(SPEC.replace('metric = "log_loss"', 'metric = "macro_f1"\n'
                                                                               'submission = "label"'))
    spec = read_spec(folder / "challenge.toml")
    dataset = load_competition(folder, spec, images=False)
    train = pd.read_csv(folder / "train.csv", dtype=str, keep_default_na=False)
    assert list(dataset.train.index) == list(train["id"])  # string ids, as given
    assert [spec.class_labels[spec.classes.index(c)] for c in dataset.y] == list(train["category"])
    path = tmp_path / "labels.csv"
    write_submission(path, spec, dataset.train.index, dataset.y)
    assert path.read_text().splitlines()[1] == f"{train['id'][0]},{train['category'][0]}"
    truth = tmp_path / "truth.csv"
    train[["id", "category"]].to_csv(truth, index=False)
    assert score_submission(path, truth, spec)["accuracy"] == 1.0


@pytest.mark.parametrize(("sample", "header"), [
    ("id,target\n", "id,target"),  # the sample submission names the label column otherwise than train.csv
    ("id,category\n", "id,category"),
    (None, "id,category"),  # a probability sample submission: the label column's own name
])
def test_a_label_submission_follows_the_sample_submission_header(folder, sample, header):
    if sample is not None:
        (folder / "sample_submission.csv").write_text(sample + "p999999,x\n")
    (folder / "challenge.toml").write_text(SPEC.replace('metric = "log_loss"', 'metric = "accuracy"\n'
                                                                               'submission = "label"'))
    assert read_spec(folder / "challenge.toml").submission_header == header


def test_a_probability_submission_keeps_the_sample_submission_header_and_scores_log_loss(folder, tmp_path):
    spec = read_spec(folder / "challenge.toml")
    dataset = load_competition(folder, spec, images=False)
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(spec.n_classes), size=len(dataset.train))
    labels = np.asarray(spec.classes)[proba.argmax(axis=1)]
    path = tmp_path / "proba.csv"
    write_submission(path, spec, dataset.train.index, labels, proba=proba)
    assert path.read_text().splitlines()[0] == (folder / "sample_submission.csv").read_text().splitlines()[0]
    truth = tmp_path / "truth.csv"
    pd.read_csv(folder / "train.csv", dtype=str)[["id", "category"]].to_csv(truth, index=False)
    positions = pd.Index(spec.classes).get_indexer(dataset.y)
    expected = -np.mean(np.log(proba[np.arange(len(proba)), positions]))
    assert score_submission(path, truth, spec)["log_loss"] == pytest.approx(expected, abs=1e-4)  # 6 digits written


def _first_row(change):
    def apply(text: str) -> str:
        lines = text.splitlines()
        cells = lines[1].split(",")
        lines[1] = ",".join(change(cells))
        return "\n".join(lines) + "\n"
    return apply


PROBABILITY_ERRORS = [
    ("header", lambda t: t.replace("id,", "row,", 1), r"line 1: header must be 'id,Books"),
    ("NaN", _first_row(lambda c: [c[0], "nan", *c[2:]]), r"line 2, column Books > Batches of Books and Magazines: "
     r"'nan' is not a probability"),
    ("negative", _first_row(lambda c: [c[0], "-0.5", *c[2:]]), r"line 2, column .*: '-0\.5' is not a probability"),
    ("row sum", _first_row(lambda c: [c[0], "0.5", *c[2:]]), r"line 2: probabilities sum to 1\.46\d*, not 1"),
    ("missing row", lambda t: "\n".join(t.splitlines()[:-1]) + "\n", r"has no prediction \(1 missing\)"),
]


@pytest.mark.parametrize(("change", "pattern"), [c[1:] for c in PROBABILITY_ERRORS],
                         ids=[c[0] for c in PROBABILITY_ERRORS])
def test_validate_checks_a_probability_submission_against_the_sample(folder, tmp_path, change, pattern):
    spec = read_spec(folder / "challenge.toml")
    dataset = load_competition(folder, spec, images=False)
    path = tmp_path / "sub.csv"
    path.write_text(change((folder / "sample_submission.csv").read_text()))
    with pytest.raises(SubmissionError, match=pattern):
        validate_submission(path, spec, dataset.test.index)


def test_the_sample_submission_itself_is_valid(folder):
    spec = read_spec(folder / "challenge.toml")
    dataset = load_competition(folder, spec, images=False)
    labels = validate_submission(folder / "sample_submission.csv", spec, dataset.test.index)
    assert len(labels) == len(dataset.test)


def test_an_unknown_challenge_names_the_way_out():
    with pytest.raises(ConfigError, match=r"unknown challenge 'kaggle'; give a spec file \(challenge\.toml"):
        get_spec("kaggle")
