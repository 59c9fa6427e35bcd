"""The bad-input table: every broken file a user can hand stackfold, through the command line.

Each case is one line on stderr naming the file, the line, row or column and what to do, exit
code 1, no traceback, and nothing written. Files that only look odd (a BOM, CRLF line ends, a
1 MB field, a PNG named .jpg, CMYK or 16-bit images, a 1x1 image) must simply work.
"""

import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from stackfold.competition import load_competition, load_folds, rakuten
from stackfold.competition.images import ImageTable
from stackfold.errors import DataError
from stackfold.features.image_io import ImageOptions, image_batches, read_image

X, Y, T = "X_train_update.csv", "Y_train_CVw08PX.csv", "X_test_update.csv"
NO_CROP = ImageOptions(content_crop=False, draft=False)
RUN_CONFIG = 'images = false\nmodels = ["tfidf_logreg"]\nstackers = ["mean"]\ndecisions = []\n'
RUN_ARTIFACTS = {"config.toml", "config.running.toml", "folds.csv", "leaderboard.csv", "submissions"}


def _files(folder: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def _assert_one_line_error(result: tuple[int, str, str], pattern: str) -> None:
    code, out, err = result
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in out + err
    assert code == 1 and len(lines) == 1 and lines[0].startswith("error: "), out + err
    assert re.search(pattern, lines[0]), lines[0]


def _fails_and_writes_nothing(run_cli, folder: Path, args: tuple, pattern: str) -> None:
    before = _files(folder)
    _assert_one_line_error(run_cli(*args), pattern)
    assert _files(folder) == before


# --- data files ------------------------------------------------------------------------------


def _cut(name: str, at: Callable[[bytes], int]) -> Callable[[Path], None]:
    """Cut ``name`` short at byte ``at(content)``, as an interrupted download does."""

    def corrupt(folder: Path) -> None:
        raw = (folder / name).read_bytes()
        (folder / name).write_bytes(raw[: at(raw)])

    return corrupt


def _last_lead_byte(raw: bytes, first: int, last: int) -> int:
    """Position of the last byte in ``first..last``: the first byte of a multi-byte UTF-8 character."""
    return max(i for i, b in enumerate(raw) if first <= b <= last)


def _cut_inside_quotes(folder: Path) -> None:
    """The test file's last row with a quoted description spanning lines, cut after its first line break."""
    rows = (folder / T).read_bytes().split(b"\n")[:-2]
    (folder / T).write_bytes(b"\n".join(rows) + b'\n85414,Tool,"first line of two\n')


def _edit(name: str, transform: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    return lambda d: (d / name).write_bytes(transform((d / name).read_bytes()))


def _header_only(raw: bytes) -> bytes:
    return raw.split(b"\n", 1)[0] + b"\n"


def _repeat_header(raw: bytes, after_line: int) -> bytes:
    lines = raw.split(b"\n")
    return b"\n".join([*lines[:after_line], lines[0], *lines[after_line:]])


def _add_column(raw: bytes) -> bytes:
    lines = raw.rstrip(b"\n").split(b"\n")
    return b"\n".join([lines[0] + b",description", *(line + b",x" for line in lines[1:])]) + b"\n"


def _replace_once(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def transform(raw: bytes) -> bytes:
        assert old in raw
        return raw.replace(old, new, 1)

    return transform


INCOMPLETE = r"incomplete last line \(the file does not end with a line break"
BAD_DATA = [
    ("cut inside a 2-byte character", _cut(X, lambda r: _last_lead_byte(r, 0xC0, 0xDF) + 1),
     rf"X_train_update\.csv, line 301: {INCOMPLETE}"),
    ("cut after byte 1 of a 3-byte character", _cut(T, lambda r: _last_lead_byte(r, 0xE0, 0xEF) + 1),
     rf"X_test_update\.csv, line 423: {INCOMPLETE}"),
    ("cut after byte 2 of a 3-byte character", _cut(T, lambda r: _last_lead_byte(r, 0xE0, 0xEF) + 2),
     rf"X_test_update\.csv, line 423: {INCOMPLETE}"),
    ("cut inside a number", _cut(T, lambda r: len(r) - 5), rf"X_test_update\.csv, line 500: {INCOMPLETE}"),
    ("cut after a comma", _cut(T, lambda r: r.rindex(b",") + 1), rf"X_test_update\.csv, line 500: {INCOMPLETE}"),
    ("cut before the last line break", _cut(T, lambda r: len(r) - 1), rf"X_test_update\.csv, line 500: {INCOMPLETE}"),
    ("label file cut inside a code", _cut(Y, lambda r: len(r) - 2), rf"Y_train_CVw08PX\.csv, line 301: {INCOMPLETE}"),
    ("cut inside a quoted field spanning lines", _cut_inside_quotes,
     r"X_test_update\.csv: incomplete last row \(.*EOF inside string"),
    ("semicolon delimiter", _edit(T, lambda r: r.replace(b",", b";")),
     r"X_test_update\.csv, line 1: fields are separated by ';'; re-save the file with commas"),
    ("tab delimiter", _edit(Y, lambda r: r.replace(b",", b"\t")),
     r"Y_train_CVw08PX\.csv, line 1: fields are separated by '\\t'"),
    ("Latin-1 text", _edit(X, lambda r: r.decode("utf-8").encode("latin-1", "replace")),
     r"X_train_update\.csv, line 3: byte 0xb0 is not valid UTF-8; re-save the file as UTF-8"),
    ("test file holding only its header", _edit(T, _header_only),
     r"X_test_update\.csv, line 2: no rows, the file holds only its header line"),
    ("label file holding only its header", _edit(Y, _header_only), r"Y_train_CVw08PX\.csv, line 2: no rows"),
    ("empty test file", _edit(T, lambda r: b""), r"X_test_update\.csv: file is empty"),
    ("label file of blank lines", _edit(Y, lambda r: b"\n\n"), r"Y_train_CVw08PX\.csv: file is empty"),
    ("missing test file", lambda d: (d / T).unlink(), r"X_test_update\.csv: file not found"),
    ("header line repeated at the top", _edit(T, lambda r: _repeat_header(r, 1)),
     r"X_test_update\.csv, row 1: repeats the header line; remove that line"),
    ("header line repeated inside", _edit(Y, lambda r: _repeat_header(r, 151)),
     r"Y_train_CVw08PX\.csv, row 151: repeats the header line"),
    ("duplicated column name", _edit(X, _add_column),
     r"X_train_update\.csv, line 1: column 'description' appears twice; remove one of them"),
    ("no index column", _edit(T, _replace_once(b",designation,", b"designation,")),
     r"X_test_update\.csv: column 'designation' is missing \(found: description, productid, imageid\)"),
    ("a row with an extra field", _edit(T, _replace_once(b"\n84918,", b"\n84918,x,")),
     r"X_test_update\.csv: not a valid CSV \(.*Expected 5 fields in line 4, saw 6\)"),
    ("label of an index not in the train file", _edit(Y, lambda r: r + b"300,10\n"),
     r"Y_train_CVw08PX\.csv, row 301 \(index 300\): index not in X_train_update\.csv"),
    ("unknown class code", _edit(Y, _replace_once(b"\n1,2280\n", b"\n1,2281\n")),
     r"Y_train_CVw08PX\.csv, row 2 \(index 1\), column prdtypecode: unknown class 2281"),
    ("infinite class code", _edit(Y, _replace_once(b"\n1,2280\n", b"\n1,inf\n")),
     r"Y_train_CVw08PX\.csv, row 2, column prdtypecode: 'inf' is not an integer"),
    ("fractional class code", _edit(Y, _replace_once(b"\n1,2280\n", b"\n1,2280.5\n")),
     r"Y_train_CVw08PX\.csv, row 2, column prdtypecode: '2280.5' is not an integer"),
    ("id beyond 64 bits", _edit(T, _replace_once(b",4128438366,", b",99999999999999999999,")),
     r"X_test_update\.csv, row 3, column productid: '99999999999999999999' is not an integer"),
]


@pytest.mark.parametrize("corrupt, pattern", [c[1:] for c in BAD_DATA], ids=[c[0] for c in BAD_DATA])
def test_bad_data_file_is_one_line(sample_copy, run_cli, corrupt, pattern):
    corrupt(sample_copy)
    with pytest.raises(DataError, match=pattern):
        load_competition(sample_copy, rakuten(), images=False)
    _fails_and_writes_nothing(run_cli, sample_copy.parent, ("check-data", sample_copy), pattern)


def _long_field(raw: bytes) -> bytes:
    """The first test row (index 84916, empty description) with a 1 MB description."""
    head, rest = raw.split(b"\n84916,", 1)
    row, tail = rest.split(b"\n", 1)
    designation, description, ids = row.split(b",", 2)
    assert description == b""
    return b"\n".join([head, b",".join([b"84916", designation, "é".encode() * 2**19, ids]), tail])


WORKS = [
    ("UTF-8 BOM", lambda r: b"\xef\xbb\xbf" + r),
    ("CRLF line ends", lambda r: r.replace(b"\n", b"\r\n")),
    ("BOM and CRLF", lambda r: b"\xef\xbb\xbf" + r.replace(b"\n", b"\r\n")),
]


@pytest.mark.parametrize("transform", [w[1] for w in WORKS], ids=[w[0] for w in WORKS])
def test_odd_but_valid_files_read_as_the_original(rakuten_sample, sample_copy, run_cli, transform):
    for name in (X, Y, T):
        (sample_copy / name).write_bytes(transform((sample_copy / name).read_bytes()))
    original = load_competition(rakuten_sample, rakuten(), images=False)
    odd = load_competition(sample_copy, rakuten(), images=False)
    pd.testing.assert_frame_equal(odd.train, original.train)
    pd.testing.assert_frame_equal(odd.test, original.test)
    assert np.array_equal(odd.y, original.y)
    assert run_cli("check-data", sample_copy)[0] == 0


def test_a_one_megabyte_field_reads_whole(sample_copy, run_cli):
    (sample_copy / T).write_bytes(_long_field((sample_copy / T).read_bytes()))
    data = load_competition(sample_copy, rakuten(), images=False)
    assert data.test.loc[84916, "description"] == "é" * 2**19 and len(data.test) == 499
    assert run_cli("check-data", sample_copy)[0] == 0


BAD_RUNS = [
    ("test file holding only its header", _edit(T, _header_only), r"X_test_update\.csv, line 2: no rows"),
    ("truncated test file", _cut(T, lambda r: len(r) - 5), rf"X_test_update\.csv, line 500: {INCOMPLETE}"),
    ("missing label file", lambda d: (d / Y).unlink(), r"Y_train_CVw08PX\.csv: file not found"),
    ("unknown class code", _edit(Y, _replace_once(b"\n1,2280\n", b"\n1,2281\n")), r"unknown class 2281"),
]


@pytest.mark.parametrize("corrupt, pattern", [c[1:] for c in BAD_RUNS], ids=[c[0] for c in BAD_RUNS])
def test_run_on_bad_data_stops_before_writing(sample_copy, tmp_path, run_cli, corrupt, pattern):
    corrupt(sample_copy)
    config, out = tmp_path / "run.toml", tmp_path / "run"
    config.write_text(RUN_CONFIG)
    _assert_one_line_error(run_cli("run", sample_copy, "--out", out, "--config", config), pattern)
    assert not (out.is_dir() and RUN_ARTIFACTS & {p.name for p in out.iterdir()})


# --- images ----------------------------------------------------------------------------------


def _png(width: int, height: int, bit_depth: int, colour_type: int, rows: bytes) -> bytes:
    """A PNG file declaring ``width x height`` whatever ``rows`` (filter byte + pixels per row) holds."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


BOMB = _png(20_000, 20_000, 8, 2, b"")
"""A 20,000 x 20,000 RGB image in a few bytes: opening it must not allocate its 1.2 GB."""


def _two_colours(left: tuple, right: tuple, width: int = 4) -> np.ndarray:
    pixels = np.empty((4, width, 3), dtype=np.uint8)
    pixels[:, : width // 2], pixels[:, width // 2:] = left, right
    return pixels


def _save(image: Image.Image, **options) -> Callable[[Path], None]:
    return lambda path: image.save(path, **options)


def _cmyk() -> Image.Image:
    image = Image.new("CMYK", (4, 4), (0, 0, 0, 0))
    image.paste((255, 0, 0, 0), (2, 0, 4, 4))  # cyan right half
    return image


SIXTEEN_BIT_RGB = b"".join(b"\x00" + struct.pack(">HHH", 0x12AB, 0x8000, 0xFFFF) * 4 for _ in range(4))
ODD_IMAGES = [  # written at a .jpg path, read at 4 x 4 without cropping: expected pixels, tolerance
    ("PNG named .jpg", _save(Image.fromarray(_two_colours((10, 200, 30), (250, 5, 60))), format="PNG"),
     _two_colours((10, 200, 30), (250, 5, 60)), 0),
    ("CMYK JPEG", _save(_cmyk(), format="JPEG", quality=100), _two_colours((255, 255, 255), (0, 255, 255)), 2),
    ("16-bit grey PNG", _save(Image.fromarray(np.full((4, 4), 0x12AB, np.uint16)), format="PNG"),
     np.full((4, 4, 3), 0x12, np.uint8), 0),
    ("16-bit RGB PNG", lambda path: path.write_bytes(_png(4, 4, 16, 2, SIXTEEN_BIT_RGB)),
     np.broadcast_to(np.array([0x12, 0x80, 0xFF], np.uint8), (4, 4, 3)), 0),
    ("1x1 PNG", _save(Image.new("RGB", (1, 1), (20, 30, 40)), format="PNG"), np.full((4, 4, 3), (20, 30, 40)), 0),
    ("1x1 JPEG", _save(Image.new("RGB", (1, 1), (20, 30, 40)), format="JPEG"), np.full((4, 4, 3), (20, 30, 40)), 2),
]


@pytest.mark.parametrize("draft", [True, False], ids=["draft", "full"])
@pytest.mark.parametrize("write, expected, tolerance", [i[1:] for i in ODD_IMAGES], ids=[i[0] for i in ODD_IMAGES])
def test_odd_images_read_correctly(tmp_path, write, expected, tolerance, draft):
    path = tmp_path / "image_1_product_2.jpg"
    write(path)
    pixels = read_image(path, 4, ImageOptions(content_crop=False, draft=draft))
    assert pixels.shape == (4, 4, 3) and np.abs(pixels.astype(int) - expected).max() <= tolerance


@pytest.fixture
def with_images(sample_copy: Path) -> Path:
    """The sample cut to 6 train and 3 test products, each with a small JPEG: a valid folder for --images."""
    for name, rows in ((X, 6), (Y, 6), (T, 3)):
        frame = pd.read_csv(sample_copy / name, index_col=0, dtype=str, keep_default_na=False)
        (sample_copy / name).write_text(frame.iloc[:rows].to_csv(lineterminator="\n"), encoding="utf-8")
    data = load_competition(sample_copy, rakuten(), images=False)
    for split in ("train", "test"):
        for path in data.image_paths(split):
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (8, 8), (90, 60, 30)).save(path)
    return sample_copy


def _image(root: Path, split: str, row: int) -> Path:
    return load_competition(root, rakuten(), images=False).image_paths(split)[row]


BAD_IMAGES = [  # train row 2 (index 1), or test row 1 (index 84916)
    ("zero-byte file", "train", lambda p: p.write_bytes(b""), r"is unreadable \(not an image\)"),
    ("text named .jpg", "train", lambda p: p.write_text("<html>404</html>"), r"is unreadable \(not an image\)"),
    ("decompression bomb", "train", lambda p: p.write_bytes(BOMB),
     r"is unreadable \(too many pixels: Image size \(400000000 pixels\) exceeds limit"),
    ("missing test image", "test", lambda p: p.unlink(), r"is missing"),
]


@pytest.mark.parametrize("split, corrupt, state", [b[1:] for b in BAD_IMAGES], ids=[b[0] for b in BAD_IMAGES])
def test_check_data_names_the_bad_image(with_images, run_cli, split, corrupt, state):
    path = _image(with_images, split, 1 if split == "train" else 0)
    corrupt(path)
    row = r"train row 2 \(index 1\)" if split == "train" else r"test row 1 \(index 84916\)"
    total = 6 if split == "train" else 3
    pattern = (rf"{re.escape(path.name)}: image of {row} {state}.*\(1 of {total} {split} images missing or "
               r"unreadable\); add or replace the images, or set images = false")
    _fails_and_writes_nothing(run_cli, with_images.parent, ("check-data", with_images, "--images"), pattern)


def test_check_data_accepts_odd_but_readable_images(with_images, run_cli):
    for row, (_, write, _, _) in enumerate(ODD_IMAGES):
        write(_image(with_images, "train", row))
    code, out, err = run_cli("check-data", with_images, "--images")
    assert code == 0 and "6 of 6" in out, out + err


def test_run_with_an_empty_image_stops_before_writing(with_images, tmp_path, run_cli):
    _image(with_images, "test", 2).write_bytes(b"")
    config, out = tmp_path / "run.toml", tmp_path / "run"
    config.write_text(RUN_CONFIG.replace("images = false", "folds = 2"))
    _assert_one_line_error(run_cli("run", with_images, "--out", out, "--config", config),
                           r"image of test row 3 \(index 84918\) is unreadable \(not an image\)")
    assert not (out.is_dir() and RUN_ARTIFACTS & {p.name for p in out.iterdir()})


def test_a_decompression_bomb_is_one_line_or_a_counted_blank(with_images):
    bomb = _image(with_images, "train", 1)
    bomb.write_bytes(BOMB)
    with pytest.raises(DataError, match=rf"{re.escape(str(bomb))}: not a readable image \(too many pixels: "):
        read_image(bomb, 8)
    table = ImageTable.one_per_product(load_competition(with_images, rakuten(), images=False).image_paths("train"))
    with pytest.raises(DataError) as error:
        list(image_batches(table, 8, NO_CROP))
    assert str(error.value).startswith(f"1 of 6 images could not be read (first: {bomb} (too many pixels: ")
    assert "\n" not in str(error.value)
    blank = np.concatenate([batch.blank for batch in image_batches(table, 8, NO_CROP, on_bad="blank")])
    assert blank.tolist() == [False, True, False, False, False, False]


# --- submissions -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def valid_submission(rakuten_sample) -> str:
    index = pd.read_csv(rakuten_sample / T, index_col=0).index
    return ",prdtypecode\n" + "".join(f"{i},10\n" for i in index)


BAD_SUBMISSIONS = [
    ("wrong header", lambda s: s.replace(",prdtypecode", "id,prdtypecode", 1),
     r"line 1: header must be ',prdtypecode', found 'id,prdtypecode'"),
    ("another challenge's header", lambda s: s.replace(",prdtypecode", "_id,category_id", 1),
     r"line 1: header must be ',prdtypecode', found '_id,category_id'"),
    ("empty file", lambda s: "", r"line 1: header must be ',prdtypecode', found 'nothing'"),
    ("missing id", lambda s: s.replace("85414,10\n", ""),
     r"sub\.csv: index 85414 of the test file has no prediction \(1 missing\); add a line for every row"),
    ("header only", lambda s: ",prdtypecode\n", r"index 84916 of the test file has no prediction \(499 missing\)"),
    ("extra id", lambda s: s + "5,10\n", r"line 501: index 5 is not in the test file \(1 extra\); remove those lines"),
    ("duplicated id", lambda s: s.replace("84917,10\n", "84916,10\n84917,10\n"),
     r"line 3: index 84916 appears twice; keep one prediction per row"),
    ("non-integer label", lambda s: s.replace("84917,10\n", "84917,ten\n"),
     r"line 3, column prdtypecode: 'ten' is not an integer; fix that line"),
    ("fractional label", lambda s: s.replace("84917,10\n", "84917,10.5\n"), r"line 3, column prdtypecode: '10.5'"),
    ("unknown class", lambda s: s.replace("84917,10\n", "84917,11\n"),
     r"line 3, column prdtypecode: 11 is not one of the 27 classes of rakuten"),
    ("id beyond 64 bits", lambda s: s.replace("84918,10\n", "99999999999999999999,10\n"),
     r"line 4, column index: '99999999999999999999' is not an integer"),
    ("extra field", lambda s: s.replace("84918,10\n", "84918,10,5\n"), r"not a valid CSV \(.*Expected 2 fields in line 4"),
    ("Latin-1 byte", lambda s: s.replace("84918,10\n", "84918,10é\n").encode("latin-1"),
     r"sub\.csv, line 4: byte 0xe9 is not valid UTF-8; re-save the file as UTF-8"),
]


@pytest.mark.parametrize("corrupt, pattern", [b[1:] for b in BAD_SUBMISSIONS], ids=[b[0] for b in BAD_SUBMISSIONS])
def test_validate_rejects_a_bad_submission(rakuten_sample, valid_submission, tmp_path, run_cli, corrupt, pattern):
    content = corrupt(valid_submission)
    path = tmp_path / "sub.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    _fails_and_writes_nothing(run_cli, tmp_path, ("validate", path, "--data", rakuten_sample), pattern)


@pytest.mark.parametrize("transform", [w[1] for w in WORKS], ids=[w[0] for w in WORKS])
def test_validate_accepts_bom_and_crlf(rakuten_sample, valid_submission, tmp_path, run_cli, transform):
    path = tmp_path / "sub.csv"
    path.write_bytes(transform(valid_submission.encode()))
    code, out, err = run_cli("validate", path, "--data", rakuten_sample)
    assert code == 0 and "499 rows" in out, out + err


BAD_ID_LISTS = [
    ("empty id list", "", r"ids\.csv: not a valid CSV \(No columns to parse from file\)"),
    ("non-integer id", ",productid\n84916,1\nx84917,2\n", r"ids\.csv, line 3, column index: 'x84917' is not an integer"),
]


@pytest.mark.parametrize("text, pattern", [b[1:] for b in BAD_ID_LISTS], ids=[b[0] for b in BAD_ID_LISTS])
def test_validate_rejects_a_bad_id_list(rakuten_sample, valid_submission, tmp_path, run_cli, text, pattern):
    (tmp_path / "sub.csv").write_text(valid_submission)
    (tmp_path / "ids.csv").write_text(text)
    args = ("validate", tmp_path / "sub.csv", "--data", rakuten_sample, "--ids", tmp_path / "ids.csv")
    _fails_and_writes_nothing(run_cli, tmp_path, args, pattern)


TRUTH = ",prdtypecode\n1,10\n2,40\n"
BAD_SCORES = [
    ("truth holding only its header", ",prdtypecode\n", TRUTH,
     r"truth\.csv, line 2: no rows after the header; the truth file needs one label per row"),
    ("missing truth file", None, TRUTH, r"truth\.csv: truth file not found; check the path"),
    ("wrong truth header", "index,label\n1,10\n", TRUTH, r"truth\.csv, line 1: header must be ',prdtypecode'"),
    ("empty submission", TRUTH, "", r"sub\.csv, line 1: header must be ',prdtypecode', found 'nothing'"),
    ("id not in the truth", TRUTH, TRUTH + "3,10\n", r"sub\.csv, line 4: index 3 is not in the truth file \(1 extra\)"),
    ("id of the truth missing", TRUTH, ",prdtypecode\n1,10\n", r"sub\.csv: index 2 of the truth file has no prediction"),
    ("unknown class", TRUTH, TRUTH.replace("2,40", "2,41"), r"sub\.csv, line 3, column prdtypecode: 41 is not one"),
]


@pytest.mark.parametrize("truth, submission, pattern", [b[1:] for b in BAD_SCORES], ids=[b[0] for b in BAD_SCORES])
def test_score_rejects_bad_files(tmp_path, run_cli, truth, submission, pattern):
    if truth is not None:
        (tmp_path / "truth.csv").write_text(truth)
    (tmp_path / "sub.csv").write_text(submission)
    args = ("score", tmp_path / "sub.csv", "--truth", tmp_path / "truth.csv", "--competition", "rakuten")
    _fails_and_writes_nothing(run_cli, tmp_path, args, pattern)


# --- a run folder's fold assignment ------------------------------------------------------------

BAD_FOLDS = [
    ("empty", "", r"folds\.csv: not a valid CSV \(No columns to parse from file\); re-run `stackfold run`"),
    ("old columns", "index,fold\n5,0\n", r"folds\.csv: expected columns index,fold,label"),
    ("non-integer fold", "index,fold,label\n0,1,10\n1,one,40\n", r"folds\.csv, row 2, column fold: 'one' is not an integer"),
    ("cut inside a row", "index,fold,label\n0,1,10\n1,0", r"folds\.csv, row 2, column label: '' is not an integer"),
]


@pytest.mark.parametrize("text, pattern", [b[1:] for b in BAD_FOLDS], ids=[b[0] for b in BAD_FOLDS])
def test_a_damaged_fold_file_is_one_line(tmp_path, text, pattern):
    (tmp_path / "folds.csv").write_text(text)
    with pytest.raises(DataError, match=pattern) as error:
        load_folds(tmp_path / "folds.csv")
    assert "\n" not in str(error.value)
