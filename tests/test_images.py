"""Image decoding, bad-image policies, resumable extraction and the image views, on real and synthetic images.

Run as a script (``python tests/test_images.py DATA CACHE``) it builds the ``vgg16`` view of
a small slice of the real sample, slowly: the kill test interrupts that process.
"""

import dataclasses
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stackfold.competition import load_competition, rakuten
from stackfold.competition.images import BytesRef, ImageTable
from stackfold.competition.load import Dataset
from stackfold.core.blocks import ImageBlock
from stackfold.errors import ConfigError, DataError
from stackfold.features import image_cache
from stackfold.features.image import color_feature_names
from stackfold.features.image_cache import ResumableArray
from stackfold.features.image_io import ImageOptions, image_batches, read_image
from stackfold.features.store import FeatureStore

NO_CROP = ImageOptions(content_crop=False, draft=False)
TINY = {"color": {"bins": 4}, "pixels": {"size": 4}, "images": {"size": 8}}
VGG = {"vgg16": {"size": 32, "weights": "none", "batch_size": 4}}


def _real_images(root: Path) -> list[Path]:
    return sorted((root / "images" / "image_train").glob("*.jpg"))


def _with_images(root: Path) -> Dataset:
    """The real sample with every real image used by a train row; the 779 other images are missing.

    Only one of the 20 image files belongs to a product of the sample's CSVs, so the first
    train rows without an image are pointed at the 19 others.
    """
    data = load_competition(root, rakuten(), images=False)
    paths = data.image_paths("train")
    spare = [p for p in _real_images(root) if p not in paths]
    rows = [i for i, p in enumerate(paths) if not p.is_file()][: len(spare)]
    ids = [re.fullmatch(r"image_(\d+)_product_(\d+)\.jpg", p.name).groups() for p in spare]
    train = data.train.copy()
    columns = [train.columns.get_loc("imageid"), train.columns.get_loc("productid")]
    train.iloc[rows, columns] = np.array(ids, dtype=np.int64)
    return dataclasses.replace(data, train=train, images=True)


def _small_sample(root: Path) -> Dataset:
    """The 20 train products with an image, 12 without, and 16 test products (no image)."""
    data = _with_images(root)
    exists = np.array([p.is_file() for p in data.image_paths("train")])
    keep = exists | (np.cumsum(~exists) <= 12)
    return dataclasses.replace(data, train=data.train[keep], y=data.y[keep], test=data.test.iloc[:16])


# --- decoding ---------------------------------------------------------------------------------


@pytest.mark.parametrize("draft", [True, False])
def test_real_images_decode(rakuten_sample, draft):
    paths = _real_images(rakuten_sample)
    assert len(paths) == 20
    images = np.stack([read_image(p, 24, ImageOptions(draft=draft)) for p in paths])
    assert images.shape == (20, 24, 24, 3) and images.dtype == np.uint8
    assert images.std() > 10  # real content, not blanks


def test_draft_decoding_is_close_to_full_decoding(rakuten_sample):
    paths = _real_images(rakuten_sample)
    draft = np.stack([read_image(p, 32, ImageOptions(draft=True)) for p in paths]).astype(int)
    full = np.stack([read_image(p, 32, ImageOptions(draft=False)) for p in paths]).astype(int)
    assert np.abs(draft - full).mean() < 10


def test_byte_range_reads_like_a_file(rakuten_sample, tmp_path):
    path = _real_images(rakuten_sample)[0]
    container = tmp_path / "container.bin"
    container.write_bytes(b"header" + path.read_bytes() + b"trailer")
    ref = BytesRef(container, 6, path.stat().st_size)
    assert np.array_equal(read_image(ref, 16), read_image(path, 16))


def _mode_image(mode: str) -> tuple[Image.Image, np.ndarray]:
    """A 4x4 image of ``mode`` whose left half is transparent (or white) and right half coloured, and its RGB."""
    expected = np.full((4, 4, 3), 255, dtype=np.uint8)
    if mode == "L":
        grey = np.full((4, 4), 255, np.uint8)
        grey[:, 2:] = 90
        image, expected[:, 2:] = Image.fromarray(grey), 90
    elif mode == "LA":
        la = np.zeros((4, 4, 2), np.uint8)
        la[:, 2:] = (90, 255)
        image, expected[:, 2:] = Image.fromarray(la, "LA"), 90
    elif mode in ("P", "P+transparency"):
        image = Image.new("P", (4, 4), 0)
        image.putpalette([0, 0, 0, 200, 30, 40] + [0] * 762)
        image.paste(1, (2, 0, 4, 4))
        if mode == "P":
            expected[:, :2] = 0
        else:
            image.info["transparency"] = 0
        expected[:, 2:] = (200, 30, 40)
    elif mode == "RGBA":
        rgba = np.zeros((4, 4, 4), np.uint8)
        rgba[:, 2:] = (10, 20, 30, 255)
        image, expected[:, 2:] = Image.fromarray(rgba, "RGBA"), (10, 20, 30)
    elif mode == "CMYK":
        image = Image.new("CMYK", (4, 4), (0, 0, 0, 0))
        image.paste((255, 0, 0, 0), (2, 0, 4, 4))
        expected[:, 2:] = (0, 255, 255)
    elif mode == "I;16":
        values = np.where(np.arange(4) < 2, 65535, 32896).astype(np.uint16)[None].repeat(4, 0)
        image, expected[:, 2:] = Image.fromarray(values), 128
    else:  # "1"
        image = Image.new("1", (4, 4), 1)
        image.paste(0, (2, 0, 4, 4))
        expected[:, 2:] = 0
    return image, expected


@pytest.mark.parametrize("mode", ["L", "LA", "P", "P+transparency", "RGBA", "CMYK", "I;16", "1"])
def test_every_mode_becomes_rgb_on_white(tmp_path, mode):
    image, expected = _mode_image(mode)
    path = tmp_path / ("image.tiff" if mode == "CMYK" else "image.png")
    image.save(path)
    assert np.array_equal(read_image(path, 4, NO_CROP), expected)


def _white_with_box(height: int, width: int, rows: slice, cols: slice) -> np.ndarray:
    pixels = np.full((height, width, 3), 255, dtype=np.uint8)
    pixels[rows, cols] = (30, 60, 90)
    return pixels


def _png(tmp_path: Path, pixels: np.ndarray) -> Path:
    path = tmp_path / "object.png"
    Image.fromarray(pixels).save(path)
    return path


def test_content_crop_keeps_the_objects_square(tmp_path):
    pixels = _white_with_box(100, 200, slice(20, 40), slice(120, 160))  # 20 x 40 object
    out = read_image(_png(tmp_path, pixels), 40, ImageOptions(draft=False))
    assert np.array_equal(out, pixels[10:50, 120:160])


def test_content_crop_pads_with_white_beyond_the_edge(tmp_path):
    pixels = _white_with_box(100, 100, slice(0, 10), slice(20, 80))  # 10 x 60 object on the top edge
    out = read_image(_png(tmp_path, pixels), 60, ImageOptions(draft=False))
    expected = np.full((60, 60, 3), 255, dtype=np.uint8)
    expected[25:35] = (30, 60, 90)
    assert np.array_equal(out, expected)


def test_all_white_image_is_kept_whole(tmp_path):
    out = read_image(_png(tmp_path, np.full((30, 30, 3), 255, np.uint8)), 10, ImageOptions(draft=False))
    assert (out == 255).all()


def test_border_crop_cuts_each_side(tmp_path):
    pixels = np.zeros((100, 100, 3), dtype=np.uint8)  # a black 10-pixel frame around red
    pixels[10:90, 10:90] = (200, 0, 0)
    path = _png(tmp_path, pixels)
    assert np.array_equal(read_image(path, 80, ImageOptions(content_crop=False, border=0.1, draft=False)),
                          pixels[10:90, 10:90])
    assert (read_image(path, 100, NO_CROP)[0] == 0).all()


def test_border_out_of_range_is_a_config_error():
    with pytest.raises(ConfigError, match=r"border = 0.5: need 0 <= border < 0.5"):
        ImageOptions(border=0.5)


# --- bad images -------------------------------------------------------------------------------


def _bad_image(kind: str, folder: Path, real: Path) -> Path:
    path = folder / f"{kind}.jpg"
    if kind == "truncated":
        path.write_bytes(real.read_bytes()[: real.stat().st_size // 2])
    elif kind == "random":
        path.write_bytes(np.random.default_rng(0).bytes(3000))
    elif kind == "empty":
        path.write_bytes(b"")
    return path


BAD = [("missing", r"image file not found"), ("truncated", r"not a readable image \(truncated\)"),
       ("random", r"not a readable image \(not an image\)"), ("empty", r"not a readable image \(not an image\)")]


@pytest.mark.parametrize("kind, message", BAD)
def test_bad_image_is_a_data_error_naming_it(rakuten_sample, tmp_path, kind, message):
    path = _bad_image(kind, tmp_path, _real_images(rakuten_sample)[0])
    with pytest.raises(DataError, match=rf"{kind}\.jpg: {message}"):
        read_image(path, 16)


def test_a_pass_reports_every_bad_image_in_one_line(rakuten_sample, tmp_path):
    real = _real_images(rakuten_sample)
    bad = [_bad_image(kind, tmp_path, real[0]) for kind, _ in BAD]
    table = ImageTable.one_per_product([real[0], *bad, real[1]])
    with pytest.raises(DataError) as error:
        list(image_batches(table, 8, batch_size=2))
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"4 of 6 images could not be read (first: {bad[0]} (missing), {bad[1]} (truncated), "
                              f"{bad[2]} (not an image)); fix or remove them, or set on_bad_image = \"blank\"")


def test_blank_policy_puts_white_images_and_marks_them(rakuten_sample, tmp_path):
    real = _real_images(rakuten_sample)
    table = ImageTable.one_per_product([real[0], _bad_image("truncated", tmp_path, real[0]), real[1]])
    batches = list(image_batches(table, 8, batch_size=2, on_bad="blank"))
    assert [b.start for b in batches] == [0, 2]
    pixels, blank = np.concatenate([b.pixels for b in batches]), np.concatenate([b.blank for b in batches])
    assert blank.tolist() == [False, True, False]
    assert (pixels[1] == 255).all() and not (pixels[0] == 255).all()


def test_unknown_policy_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"on_bad_image = 'skip'; choose from: error, blank"):
        FeatureStore(_empty_dataset(), tmp_path, on_bad_image="skip")


def test_replacing_a_local_weights_file_renews_the_vgg16_key(tmp_path):
    weights = tmp_path / "vgg16.h5"
    weights.write_bytes(b"first")
    store = FeatureStore(_empty_dataset(), tmp_path, {"vgg16": {"weights": str(weights)}})
    first = store.key("vgg16")
    weights.write_bytes(b"second file")
    assert store.key("vgg16") != first and store.key("color") == FeatureStore(_empty_dataset(), tmp_path).key("color")


def _empty_dataset() -> Dataset:
    import pandas as pd

    return Dataset(rakuten(), Path("."), pd.DataFrame(), np.empty(0), pd.DataFrame(), True, "none")


# --- resumable array --------------------------------------------------------------------------


def test_resumable_array_keeps_done_rows_and_ends_read_only(tmp_path):
    path = tmp_path / "rows.npy"
    array = ResumableArray(path, (5, 2), "int32")
    array.write(0, np.ones((2, 2)), np.array([False, True]))
    resumed = ResumableArray(path, (5, 2), "int32")
    assert resumed.done.tolist() == [True, True, False, False, False] and resumed.flagged.tolist()[:2] == [False, True]
    with pytest.raises(RuntimeError, match="3 of 5 rows not computed yet"):
        resumed.result()
    data = resumed.fill([(2, np.full((3, 2), 7), None)])
    assert data.tolist() == [[1, 1]] * 2 + [[7, 7]] * 3 and not data.flags.writeable
    assert not ResumableArray(path, (6, 2), "int32").done.any()  # another shape starts over


# --- views ------------------------------------------------------------------------------------


def test_image_views_of_the_real_sample_with_blanks(rakuten_sample, tmp_path):
    data = _with_images(rakuten_sample)
    exists = np.array([p.is_file() for p in data.image_paths("train")])
    assert exists.sum() == 20
    store = FeatureStore(data, tmp_path, TINY, on_bad_image="blank")
    color, color_test = store.get("color")
    assert isinstance(color, ImageBlock) and color.shape == (300, len(color_feature_names(4)))
    assert color_test.shape == (499, 15) and color.data.dtype == np.float32
    rows = color.materialize()
    assert np.allclose(rows[~exists, :3], 1.0) and (rows[exists, :3] < 1.0).all()
    pixels, _ = store.get("pixels")
    assert pixels.shape == (300, 4 * 4 * 3 + 3 + 3 * 8) and pixels.data.dtype == np.float32
    images, _ = store.get("images")
    assert images.shape == (300, 8, 8, 3) and images.data.dtype == np.uint8 and not images.data.flags.writeable
    assert (images.materialize()[~exists] == 255).all()
    assert store.bad_images == {"color": 280 + 499, "pixels": 280 + 499, "images": 280 + 499}
    assert '"blank": 280' in next(tmp_path.glob("images-*/train.json")).read_text()
    again = FeatureStore(data, tmp_path, TINY, on_bad_image="blank")
    assert np.array_equal(again.get("images")[0].materialize(), images.materialize())
    assert again.bad_images == {"images": 779}
    assert again.key("images") != FeatureStore(data, tmp_path, TINY).key("images")


def test_image_view_with_missing_images_is_one_error(rakuten_sample, tmp_path):
    store = FeatureStore(_with_images(rakuten_sample), tmp_path, TINY)
    with pytest.raises(DataError) as error:
        store.get("color")
    assert "\n" not in str(error.value)
    assert str(error.value).startswith("280 of 300 images could not be read (first: ")
    assert "(missing)" in str(error.value) and str(error.value).endswith('set on_bad_image = "blank" in the config')


def test_vgg16_weights_file_not_found_is_one_config_error(rakuten_sample, tmp_path):
    store = FeatureStore(_small_sample(rakuten_sample), tmp_path, {"vgg16": {"weights": "/nowhere/vgg16.h5"}})
    with pytest.raises(ConfigError) as error:
        store.get("vgg16")
    assert str(error.value).startswith("[features.vgg16] weights = '/nowhere/vgg16.h5': file not found; put ")
    assert "\n" not in str(error.value)


def _state_rows(cache: Path, split: str) -> int:
    states = list(cache.glob(f"vgg16-*/{split}.data.state.npz"))
    if not states:
        return 0
    try:
        with np.load(states[0]) as state:
            return int(state["done"].sum())
    except (OSError, ValueError, KeyError):  # replaced while reading
        return 0


def _tensorflow_threads() -> int:
    """The threads TensorFlow runs with in this process: set once, by the first net an earlier test built (or 1)."""
    return getattr(sys.modules.get("tensorflow"), "_stackfold_threads", None) or 1


@pytest.mark.slow
def test_killed_vgg16_extraction_resumes_to_identical_features(rakuten_sample, tmp_path, monkeypatch):
    killed, fresh = tmp_path / "killed", tmp_path / "fresh"
    threads = _tensorflow_threads()  # the killed process must compute with the same threads to give the same bytes
    process = subprocess.Popen([sys.executable, __file__, str(rakuten_sample), str(killed), str(threads)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while _state_rows(killed, "train") < 3 * 4:  # three batches of four images done
        assert process.poll() is None and time.monotonic() < deadline, "extraction ended before it could be killed"
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not list(killed.glob("vgg16-*/done"))
    done_rows = _state_rows(killed, "train")
    assert 12 <= done_rows < 32

    writes = []
    original_write = image_cache.ResumableArray.write
    monkeypatch.setattr(image_cache.ResumableArray, "write",
                        lambda self, start, *a: (writes.append(start), original_write(self, start, *a)))
    data = _small_sample(rakuten_sample)
    with pytest.warns(UserWarning, match="features are weak"):
        resumed = FeatureStore(data, killed, VGG, on_bad_image="blank", n_jobs=threads).get("vgg16")
    assert len(writes) == (32 - done_rows) // 4 + 4  # the missing train batches, then the 4 test batches
    monkeypatch.setattr(image_cache.ResumableArray, "write", original_write)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store = FeatureStore(data, fresh, VGG, on_bad_image="blank", n_jobs=threads)
        reference = store.get("vgg16")
    for got, want in zip(resumed, reference):
        assert got.data.shape == (len(want.data), 512) and got.data.dtype == np.float32
        assert got.data.tobytes() == want.data.tobytes()
    assert np.abs(reference[0].data).sum() > 0 and store.bad_images == {"vgg16": 12 + 16}


def _build_vgg16_slowly(root: Path, cache: Path, threads: int) -> None:
    """Build the small sample's ``vgg16`` view, pausing after each batch so a test can kill it half-way."""
    original_write = image_cache.ResumableArray.write

    def slow_write(self, *args):
        original_write(self, *args)
        time.sleep(0.3)

    image_cache.ResumableArray.write = slow_write
    warnings.simplefilter("ignore")
    FeatureStore(_small_sample(root), cache, VGG, on_bad_image="blank", n_jobs=threads).get("vgg16")


if __name__ == "__main__":
    _build_vgg16_slowly(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))


def test_prefetched_keeps_order_and_raises_where_the_item_would_have_been():
    from stackfold.features.image_io import prefetched

    def items():
        yield from range(5)
        raise DataError("3 of 8 images could not be read")

    seen = []
    with pytest.raises(DataError, match="3 of 8 images"):
        for item in prefetched(items()):
            seen.append(item)
    assert seen == [0, 1, 2, 3, 4]
    assert list(prefetched(iter([]))) == []


def test_prefetched_stops_its_thread_when_the_caller_stops_early():
    import threading

    from stackfold.features.image_io import prefetched

    closed = []

    def items():
        try:
            yield from range(1000)
        finally:
            closed.append(True)

    for item in prefetched(items(), depth=2):
        if item == 3:
            break
    assert closed == [True]
    assert not [t for t in threading.enumerate() if t.name == "stackfold-prefetch"]


def test_prefetched_runs_in_the_callers_context(capsys):
    from stackfold.features.image_io import prefetched
    from stackfold.progress import no_bars, track

    with no_bars():  # a Dask task: the bar drawn by the producer thread stays hidden too
        assert list(prefetched(track(range(3), "prefetched bar"))) == [0, 1, 2]
    assert "prefetched bar" not in capsys.readouterr().err
