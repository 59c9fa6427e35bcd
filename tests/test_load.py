"""Loading the real sample, and one clear error for each kind of broken file."""

import pandas as pd
import pytest

from stackfold.competition import load_competition, rakuten
from stackfold.errors import DataError


def test_real_sample_loads_as_it_is(rakuten_sample):
    data = load_competition(rakuten_sample, rakuten(), images=False)
    assert len(data.train) == 300 and len(data.test) == 499
    assert list(data.train.index[:3]) == [0, 1, 2]
    assert data.test.index[0] == 84916 and data.test.index[-1] == 85414
    assert set(data.y) == set(rakuten().classes)
    assert data.train.loc[0, "description"] == ""
    assert data.train.loc[0, "designation"].startswith("Olivia: Personalisiertes Notizbuch")
    assert "<br>" in data.train.loc[2, "description"]
    assert data.train["productid"].dtype == "int64"


def test_spec_matches_the_official_label_distribution(rakuten_sample):
    official = pd.read_csv(rakuten_sample / "reference" / "all_train_labels.csv", index_col=0)
    counts = official["prdtypecode"].value_counts()
    from stackfold.competition.spec import class_frequencies

    assert class_frequencies() == {int(k): int(v) for k, v in counts.items()}
    assert sorted(rakuten().classes) == list(rakuten().classes)


def _rewrite(path, transform):
    text = path.read_text(encoding="utf-8")
    path.write_text(transform(text), encoding="utf-8")


def _drop_column(path, column):
    frame = pd.read_csv(path, index_col=0, dtype=str, keep_default_na=False)
    frame.drop(columns=[column]).to_csv(path)


def _edit_cell(path, row, column, value):
    frame = pd.read_csv(path, index_col=0, dtype=str, keep_default_na=False)
    frame.iloc[row, frame.columns.get_loc(column)] = value
    frame.to_csv(path)


def _edit_index(path, row, value):
    frame = pd.read_csv(path, index_col=0, dtype=str, keep_default_na=False)
    index = list(frame.index)
    index[row] = value
    frame.index = index
    frame.to_csv(path)


def _drop_row(path, row):
    frame = pd.read_csv(path, index_col=0, dtype=str, keep_default_na=False)
    frame.drop(index=frame.index[row]).to_csv(path)


def _bad_bytes(path):
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    lines[7] = lines[7][:10] + b"\xff\xfe" + lines[7][10:]
    path.write_bytes(b"\n".join(lines))


X, Y, T = "X_train_update.csv", "Y_train_CVw08PX.csv", "X_test_update.csv"

CORRUPTIONS = [
    ("missing train file", lambda d: (d / X).unlink(), r"X_train_update\.csv: file not found"),
    ("missing label file", lambda d: (d / Y).unlink(), r"Y_train_CVw08PX\.csv: file not found"),
    ("missing test file", lambda d: (d / T).unlink(), r"X_test_update\.csv: file not found"),
    ("empty train file", lambda d: (d / X).write_text(""), r"X_train_update\.csv: file is empty"),
    ("no designation column", lambda d: _drop_column(d / X, "designation"), r"X_train_update\.csv: column 'designation' is missing"),
    ("no imageid column in test", lambda d: _drop_column(d / T, "imageid"), r"X_test_update\.csv: column 'imageid' is missing"),
    ("no label column", lambda d: _rewrite(d / Y, lambda t: t.replace("prdtypecode", "label", 1)), r"Y_train_CVw08PX\.csv: column 'prdtypecode' is missing"),
    ("label row missing", lambda d: _drop_row(d / Y, 41), r"Y_train_CVw08PX\.csv: no label for X_train_update\.csv row 42 \(index 41\)"),
    ("label index shifted", lambda d: _edit_index(d / Y, 3, "9999"), r"Y_train_CVw08PX\.csv: no label for X_train_update\.csv row 4 \(index 3\)"),
    ("duplicate train index", lambda d: _edit_index(d / X, 5, "4"), r"X_train_update\.csv, row 6 \(index 4\): index appears twice"),
    ("duplicate test productid", lambda d: _edit_cell(d / T, 9, "productid", str(pd.read_csv(d / T, index_col=0)["productid"].iloc[2])), r"X_test_update\.csv, row 10 \(index 84925\), column productid: \d+ appears twice"),
    ("unknown label", lambda d: _edit_cell(d / Y, 12, "prdtypecode", "9999"), r"Y_train_CVw08PX\.csv, row 13 \(index 12\), column prdtypecode: unknown class 9999"),
    ("non-numeric label", lambda d: _edit_cell(d / Y, 2, "prdtypecode", "books"), r"Y_train_CVw08PX\.csv, row 3, column prdtypecode: 'books' is not an integer"),
    ("empty designation", lambda d: _edit_cell(d / X, 20, "designation", ""), r"X_train_update\.csv, row 21 \(index 20\), column designation: empty"),
    ("whitespace designation in test", lambda d: _edit_cell(d / T, 0, "designation", "   "), r"X_test_update\.csv, row 1 \(index 84916\), column designation: empty"),
    ("non-numeric imageid", lambda d: _edit_cell(d / X, 30, "imageid", "img-30"), r"X_train_update\.csv, row 31, column imageid: 'img-30' is not an integer"),
    ("undecodable bytes", lambda d: _bad_bytes(d / X), r"X_train_update\.csv, line 8: byte 0xff is not valid UTF-8"),
    ("test index overlaps train", lambda d: _edit_index(d / T, 0, "7"), r"X_test_update\.csv, row 1 \(index 7\): index also used in X_train_update\.csv"),
    ("images enabled but missing", lambda d: None, r"image_train/image_1263597046_product_3804725264\.jpg: image of train row 1 \(index 0\) is missing"),
]


@pytest.mark.parametrize("corrupt, pattern", [c[1:] for c in CORRUPTIONS], ids=[c[0] for c in CORRUPTIONS])
def test_each_corruption_gets_one_line_error(sample_copy, run_cli, corrupt, pattern):
    corrupt(sample_copy)
    images = pattern.startswith("image_train")
    with pytest.raises(DataError, match=pattern):
        load_competition(sample_copy, rakuten(), images=images)
    code, out, err = run_cli("check-data", sample_copy, *(["--images"] if images else []))
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err + out


def test_check_data_passes_on_real_sample(rakuten_sample, run_cli):
    code, out, err = run_cli("check-data", rakuten_sample)
    assert code == 0, err
    assert "300" in out and "499" in out and "ok" in out


def test_missing_data_folder(tmp_path):
    with pytest.raises(DataError, match="data folder not found"):
        load_competition(tmp_path / "nowhere", rakuten(), images=False)
