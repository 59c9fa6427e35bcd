"""Cdiscount as a second challenge: BSON loading, check-data, corrupted files and submissions."""

import io
from pathlib import Path

import bson
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from stackfold.competition import get_spec, load_competition, rakuten
from stackfold.competition.bson_files import index_bson
from stackfold.competition.metric import LABEL_METRICS
from stackfold.competition.spec import cdiscount_hierarchy
from stackfold.competition.challenges import cdiscount
from stackfold.config import DEFAULT_TOP_K
from stackfold.core.topk import TopK
from stackfold.errors import ConfigError, DataError, SubmissionError
from stackfold.probability_files import read_probabilities
from stackfold.run_folder import RunFolder
from stackfold.submissions import validate_submission, write_submission
from stackfold.submissions.validate import parse_submission

N_TRAIN = 60


def _raw_documents(path: Path) -> list[bytes]:
    raw = path.read_bytes()
    documents, offset = [], 0
    while offset < len(raw):
        length = int.from_bytes(raw[offset:offset + 4], "little")
        documents.append(raw[offset:offset + length])
        offset += length
    return documents


@pytest.fixture
def challenge(cdiscount_sample, tmp_path) -> Path:
    """A challenge folder: the first 60 real documents as train.bson, the other 22 without labels as test.bson."""
    documents = _raw_documents(cdiscount_sample / "train_example.bson")
    folder = tmp_path / "cdiscount"
    folder.mkdir()
    (folder / "train.bson").write_bytes(b"".join(documents[:N_TRAIN]))
    test = [bson.decode(d) for d in documents[N_TRAIN:]]
    unlabelled = [{k: v for k, v in d.items() if k != "category_id"} for d in test]
    (folder / "test.bson").write_bytes(b"".join(bson.encode(d) for d in unlabelled))
    return folder


def test_spec_has_the_5270_categories_and_their_hierarchy():
    spec = get_spec("cdiscount")
    assert spec is cdiscount() and spec.n_classes == 5270 and len(set(spec.classes)) == 5270
    assert spec.submission_header == "_id,category_id" and spec.text_columns == () and spec.format == "bson"
    hierarchy = cdiscount_hierarchy()
    assert list(hierarchy.columns) == ["category_level1", "category_level2", "category_level3"]
    assert tuple(hierarchy.index) == spec.classes
    assert tuple(hierarchy["category_level3"]) == spec.class_names
    assert hierarchy.loc[1000021794, "category_level1"] == "ABONNEMENT / SERVICES"
    assert LABEL_METRICS[spec.metric](np.array([1, 2]), np.array([1, 3])) == 0.5


def test_challenge_folder_loads_with_every_image(cdiscount_sample, challenge):
    truth = bson.decode_all((cdiscount_sample / "train_example.bson").read_bytes())
    data = load_competition(challenge, cdiscount())
    assert (len(data.train), len(data.test)) == (N_TRAIN, 82 - N_TRAIN)
    assert list(data.train.index) == [d["_id"] for d in truth[:N_TRAIN]] and data.train.index.name == "_id"
    assert list(data.test.index) == [d["_id"] for d in truth[N_TRAIN:]]
    assert list(data.y) == [d["category_id"] for d in truth[:N_TRAIN]]
    tables = {split: data.image_table(split) for split in ("train", "test")}
    assert len(tables["train"]) + len(tables["test"]) == 110
    pictures = [img["picture"] for d in truth for img in d["imgs"]]
    assert [ref.read() for t in tables.values() for ref in t.sources] == pictures
    for split, table in tables.items():
        frame = data.train if split == "train" else data.test
        assert table.n_products == len(frame) and np.all(np.diff(table.owner) >= 0)
        assert list(np.bincount(table.owner)) == list(frame["n_images"]) and frame["n_images"].min() >= 1
    image = Image.open(io.BytesIO(tables["test"].sources[-1].read()))
    assert (image.format, image.size) == ("JPEG", (180, 180))
    assert len(data.fingerprint) == 16 and data.fingerprint == load_competition(challenge, cdiscount()).fingerprint


def test_check_data_on_the_folder_and_on_a_single_file(cdiscount_sample, challenge, run_cli):
    code, out, err = run_cli("check-data", challenge)
    assert code == 0, err
    assert "cdiscount" in out and str(N_TRAIN) in out and "22" in out and "ok" in out
    code, out, err = run_cli("check-data", cdiscount_sample / "train_example.bson")
    assert code == 0, err
    assert "82" in out and "110" in out and "36 of 5270" in out and "67 with 1" in out
    code, out, err = run_cli("check-data", challenge / "test.bson", "--competition", "cdiscount")
    assert code == 1 and "document 1 (_id" in err and "no 'category_id'" in err
    (challenge / "train.bson").unlink()  # a folder left with its test file alone (a twin's write killed)
    code, out, err = run_cli("check-data", challenge, "--competition", "cdiscount")
    assert code == 1 and f"{challenge / 'train.bson'}: not found beside test.bson" in err and err.count("\n") == 1


def _rewrite(path: Path, edit) -> None:
    """Re-encode every document of ``path`` through ``edit(number, fields) -> fields | list | None``."""
    out = []
    for number, raw in enumerate(_raw_documents(path), start=1):
        edited = edit(number, bson.decode(raw))
        out.extend(edited if isinstance(edited, list) else [] if edited is None else [edited])
    path.write_bytes(b"".join(bson.encode(d) for d in out))


def _edit_doc(number: int, change):
    return lambda n, d: change(d) if n == number else d


def _drop_key(key):
    return lambda d: {k: v for k, v in d.items() if k != key}


def _truncate(path: Path, n_bytes: int) -> None:
    path.write_bytes(path.read_bytes()[:-n_bytes])


def _corrupt_byte(path: Path, document: int, position: int, value: int) -> None:
    raw = bytearray(path.read_bytes())
    start = sum(len(d) for d in _raw_documents(path)[: document - 1])
    raw[start + position] = value
    path.write_bytes(bytes(raw))


TR, TE = "train.bson", "test.bson"

CORRUPTIONS = [
    ("missing train file", lambda d: (d / TR).unlink(), r"train\.bson: file not found"),
    ("empty test file", lambda d: (d / TE).write_bytes(b""), r"test\.bson: file is empty"),
    ("truncated last document", lambda d: _truncate(d / TR, 100), r"train\.bson, document 60 at byte \d+: file is truncated"),
    ("partial length prefix", lambda d: (d / TE).write_bytes((d / TE).read_bytes() + b"\x10\x00"), r"test\.bson, document 23 at byte \d+: file is truncated"),
    ("tiny length prefix", lambda d: (d / TR).write_bytes(b"\x02\x00\x00\x00" + (d / TR).read_bytes()), r"train\.bson, document 1 at byte 0: length prefix 2 is too small"),
    ("undecodable document", lambda d: _corrupt_byte(d / TR, 3, 5, 0xFF), r"train\.bson, document 3 at byte \d+: not a valid BSON document"),
    ("missing _id", lambda d: _rewrite(d / TR, _edit_doc(4, _drop_key("_id"))), r"train\.bson, document 4: no '_id' field"),
    ("non-integer _id", lambda d: _rewrite(d / TE, _edit_doc(2, lambda f: {**f, "_id": "x"})), r"test\.bson, document 2: _id 'x' is not an integer"),
    ("duplicated _id", lambda d: _rewrite(d / TR, lambda n, f: [f, f] if n == 7 else f), r"train\.bson, document 8 \(_id 6\): _id already used by document 7"),
    ("training product without category", lambda d: _rewrite(d / TR, _edit_doc(5, _drop_key("category_id"))), r"train\.bson, document 5 \(_id \d+\): no 'category_id'"),
    ("unknown category", lambda d: _rewrite(d / TR, _edit_doc(9, lambda f: {**f, "category_id": 42})), r"train\.bson, document 9 \(_id \d+\): unknown category_id 42"),
    ("text category", lambda d: _rewrite(d / TR, _edit_doc(1, lambda f: {**f, "category_id": "1000010653"})), r"train\.bson, document 1 \(_id 0\): unknown category_id '1000010653'"),
    ("product without images", lambda d: _rewrite(d / TE, _edit_doc(3, lambda f: {**f, "imgs": []})), r"test\.bson, document 3 \(_id \d+\): no images"),
    ("product without imgs field", lambda d: _rewrite(d / TE, _edit_doc(1, _drop_key("imgs"))), r"test\.bson, document 1 \(_id \d+\): no images"),
    ("picture not bytes", lambda d: _rewrite(d / TR, _edit_doc(2, lambda f: {**f, "imgs": [{"picture": "jpeg"}]})), r"train\.bson, document 2 \(_id \d+\): image 1 has no JPEG bytes in 'picture' \(found str\)"),
    ("test product also in train", lambda d: _rewrite(d / TE, _edit_doc(6, lambda f: {**f, "_id": 0})), r"test\.bson, document 6 \(_id 0\): _id also in train\.bson"),
]


@pytest.mark.parametrize("corrupt, pattern", [c[1:] for c in CORRUPTIONS], ids=[c[0] for c in CORRUPTIONS])
def test_each_corruption_gets_one_line_error(challenge, run_cli, corrupt, pattern):
    corrupt(challenge)
    with pytest.raises(DataError, match=pattern):
        load_competition(challenge, cdiscount())
    code, out, err = run_cli("check-data", challenge, "--competition", "cdiscount")
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err + out


def test_image_offsets_survive_identical_pictures(challenge):
    _rewrite(challenge / TR, _edit_doc(1, lambda f: {**f, "imgs": f["imgs"] * 3}))
    index = index_bson(challenge / TR, frozenset(cdiscount().classes))
    first = [index.image_offset[i] for i in np.flatnonzero(index.owner == 0)]
    assert len(first) == 3 and len(set(first)) == 3
    assert len({ref.read() for ref in index.image_table().sources[:3]}) == 1


def test_bson_index_is_saved_and_reused_until_the_file_changes(challenge, tmp_path, monkeypatch):
    run = RunFolder(tmp_path / "run")
    cache = run.cache
    first = load_competition(challenge, cdiscount(), images=False, index_file=run.bson_index)
    assert len(list(cache.glob("bson-index-*.npz"))) == 2

    def no_scan(*args):
        raise AssertionError("the saved index should have been used")

    monkeypatch.setattr("stackfold.competition.bson_files.index_bson", no_scan)
    again = load_competition(challenge, cdiscount(), images=False, index_file=run.bson_index)
    for split in ("train", "test"):
        saved, loaded = first.bson[split], again.bson[split]
        assert [ref.read() for ref in saved.image_table().sources] == [ref.read() for ref in loaded.image_table().sources]
    assert np.array_equal(again.y, first.y) and again.bson["test"].categories is None
    monkeypatch.undo()

    _rewrite(challenge / TR, _edit_doc(60, lambda f: None))  # the file changed: indexed again
    assert len(load_competition(challenge, cdiscount(), images=False, index_file=run.bson_index).train) == N_TRAIN - 1


def test_submission_round_trip(cdiscount_sample, challenge, tmp_path):
    data = load_competition(challenge, cdiscount(), images=False)
    labels = np.asarray(cdiscount().classes)[np.arange(len(data.test)) * 97]
    path = tmp_path / "submission.csv"
    write_submission(path, cdiscount(), data.test.index, labels)
    assert path.read_text().splitlines()[:2] == ["_id,category_id", f"{data.test.index[0]},{labels[0]}"]
    read = validate_submission(path, cdiscount(), data.test.index)
    assert list(read.index) == list(data.test.index) and list(read) == list(labels)
    with pytest.raises(SubmissionError, match=r"line 2, column category_id: 42 is not one of the 5270 classes"):
        write_submission(tmp_path / "bad.csv", cdiscount(), data.test.index, np.r_[42, labels[1:]])
    assert not (tmp_path / "bad.csv").exists()
    official = (cdiscount_sample / "sample_submission_head.csv").read_text()
    assert len(parse_submission(official, cdiscount(), "sample_submission_head.csv")) == 1000


def test_rakuten_missing_images_are_allowed_when_blanked(sample_copy):
    with pytest.raises(DataError, match="is missing"):
        load_competition(sample_copy, rakuten(), images=True)
    assert len(load_competition(sample_copy, rakuten(), images=True, on_bad_image="blank").train) == 300
    with pytest.raises(ConfigError, match="on_bad_image = .*; choose from: error, blank"):
        load_competition(sample_copy, rakuten(), on_bad_image="skip")


@pytest.mark.slow
def test_image_only_run_end_to_end_with_a_valid_submission(challenge, tmp_path, run_cli):
    """check-data, then `run` on the real BSON images: per-image models averaged per product, ranked by accuracy."""
    assert run_cli("check-data", challenge)[0] == 0
    config = tmp_path / "run.toml"
    config.write_text('competition = "cdiscount"\nfolds = 2\nmodels = ["prior", "color_forest", "pixel_forest"]\n'
                      'stackers = ["mean", "weighted_mean"]\ndecisions = []\nmodel_submissions = true\n')
    code, out, err = run_cli("run", challenge, "--out", tmp_path / "run", "--config", config)
    assert code == 0, err
    report = tmp_path / "run" / "report" / "index.html"
    assert f"report: {report}" in out and report.stat().st_size < 2_000_000  # 5,270 classes: charts show some
    board = pd.read_csv(tmp_path / "run" / "leaderboard.csv", keep_default_na=False)
    assert set(board["model"]) == {"prior", "color_forest", "pixel_forest", "mean", "weighted_mean"}
    assert board["accuracy"].is_monotonic_decreasing
    oof = read_probabilities(tmp_path / "run" / "models" / "pixel_forest", "oof")  # 5,270 classes: each row's top 20
    assert isinstance(oof, TopK) and oof.shape == (N_TRAIN, 5270) and oof.k == DEFAULT_TOP_K
    assert np.allclose(oof.proba.astype(float).sum(axis=1) + oof.rest, 1.0, atol=1e-3)
    assert not (tmp_path / "run" / "models" / "pixel_forest" / "oof.parquet").exists()
    submission = tmp_path / "run" / "submissions" / "best.csv"
    assert submission.read_text().startswith("_id,category_id\n")
    code, out, err = run_cli("validate", submission, "--data", challenge)
    assert code == 0 and f"{82 - N_TRAIN} rows" in out, err
    code, out, err = run_cli("score", submission, "--truth", submission)  # the challenge read from the header
    assert code == 0 and "accuracy 1.0000" in out, err
    code, _, err = run_cli("predict", tmp_path / "run", challenge, "--out", tmp_path / "again.csv", "--proba",
                           tmp_path / "again.npz")  # the saved models, on test.bson again: best.csv
    assert code == 0, err
    assert (tmp_path / "again.csv").read_bytes() == submission.read_bytes()
    assert TopK.load(tmp_path / "again.npz").k == DEFAULT_TOP_K
