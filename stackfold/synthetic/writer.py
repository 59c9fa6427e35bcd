"""Write a synthetic data set in the exact layout of the Rakuten download.

Labels, ids and label noise come from one generator seeded by ``seed``; each product's
text and picture come from their own generator seeded by ``(seed, stream, index)``, so
pictures can be drawn in parallel chunks and the files are byte-identical for the same
arguments whatever the number of workers. Pictures are written first and the CSVs last,
each CSV written atomically, so an interrupted run never looks complete.
"""

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from stackfold.synthetic.catalogue import Catalogue, load_catalogue
from stackfold.synthetic.images import draw_product, encode_jpeg
from stackfold.synthetic.text import TextSampler
from stackfold.io import write_text_atomic
from stackfold.progress import track

REAL_TRAIN, REAL_TEST = 84916, 13812
LABEL_NOISE = 0.03  # share of labels reassigned to another class
NOISE_WITHIN_GROUP = 0.75  # of those, share moved to a sibling of the same group
PRODUCT_ID_RANGE = (100_000_000, 4_300_000_000)
IMAGE_ID_RANGE = (50_000_000, 1_400_000_000)
TEXT_STREAM, IMAGE_STREAM = 0, 1
CHUNK = 200  # pictures per parallel task
PARALLEL_MIN = 400  # fewer pictures than this are drawn in-process

X_COLUMNS = ["designation", "description", "productid", "imageid"]


def check_twin_size(n_products: int, image_size: int) -> None:
    """A twin's size: at least one product, pictures of at least 8 pixels."""
    if n_products < 1:
        raise ValueError(f"n_products must be at least 1, got {n_products}")
    if image_size < 8:
        raise ValueError(f"image_size must be at least 8 pixels, got {image_size}")


def write_demo_data(out: Path, n_products: int, seed: int = 0, image_size: int = 500, images: bool = True) -> None:
    """Write a synthetic data set in the exact Rakuten layout under ``out``.

    ``n_products`` training products and ``round(n_products * 13812 / 84916)`` (at least one)
    test products; the hidden test labels go to ``truth/Y_test.csv``. ``images=False`` skips
    the pictures (for quick text-only experiments).
    """
    check_twin_size(n_products, image_size)
    out = Path(out)
    catalogue = load_catalogue()
    n_test = max(1, round(n_products * REAL_TEST / REAL_TRAIN))
    total = n_products + n_test
    rng = np.random.default_rng(seed)
    true_codes = rng.choice(np.array(catalogue.codes), size=total, p=catalogue.probabilities)
    labels = add_label_noise(true_codes, catalogue, rng)
    product_ids = _unique_ids(rng, total, PRODUCT_ID_RANGE)
    image_ids = _unique_ids(rng, total, IMAGE_ID_RANGE)

    sampler = TextSampler(catalogue=catalogue)
    texts = [
        sampler.sample(int(code), np.random.default_rng([seed, TEXT_STREAM, i]))
        for i, code in enumerate(track(true_codes, "synthetic text"))
    ]
    frame = pd.DataFrame(
        {
            "designation": [t[0] for t in texts],
            "description": [t[1] for t in texts],
            "productid": product_ids,
            "imageid": image_ids,
        }
    )
    if images:
        _write_images(out, frame, true_codes, n_products, seed, image_size)

    train, test = frame.iloc[:n_products], frame.iloc[n_products:]
    _write_csv(train[X_COLUMNS], out / "X_train_update.csv")
    _write_csv(pd.DataFrame({"prdtypecode": labels[:n_products]}, index=train.index), out / "Y_train_CVw08PX.csv")
    _write_csv(test[X_COLUMNS], out / "X_test_update.csv")
    _write_csv(pd.DataFrame({"prdtypecode": labels[n_products:]}, index=test.index), out / "truth" / "Y_test.csv")


def add_label_noise(codes: np.ndarray, catalogue: Catalogue, rng: np.random.Generator) -> np.ndarray:
    """Reassign a few labels, mostly to a sibling class, as real annotation mistakes do."""
    labels = codes.copy()
    for i in np.flatnonzero(rng.random(len(codes)) < LABEL_NOISE):
        siblings = catalogue.siblings(int(codes[i]))
        if siblings and rng.random() < NOISE_WITHIN_GROUP:
            labels[i] = siblings[int(rng.integers(len(siblings)))]
        else:
            others = [c for c in catalogue.codes if c != codes[i]]
            labels[i] = others[int(rng.integers(len(others)))]
    return labels


def _unique_ids(rng: np.random.Generator, n: int, bounds: tuple[int, int]) -> np.ndarray:
    """``n`` distinct integers drawn uniformly from ``bounds``, in draw order."""
    ids = np.empty(0, dtype=np.int64)
    while len(ids) < n:
        draws = np.concatenate([ids, rng.integers(*bounds, size=n - len(ids) + 16, dtype=np.int64)])
        ids = pd.unique(draws)[:n]
    return ids


def _image_path(out: Path, split: str, product_id: int, image_id: int) -> Path:
    return out / "images" / f"image_{split}" / f"image_{image_id}_product_{product_id}.jpg"


def _write_images(out: Path, frame: pd.DataFrame, codes: np.ndarray, n_train: int, seed: int, size: int) -> None:
    """Draw and save every picture, in parallel chunks when there are many."""
    for split in ("train", "test"):
        (out / "images" / f"image_{split}").mkdir(parents=True, exist_ok=True)
    jobs = [
        (i, int(code), str(_image_path(out, "train" if i < n_train else "test", int(pid), int(iid))))
        for i, (code, pid, iid) in enumerate(zip(codes, frame["productid"], frame["imageid"]))
    ]
    write_pictures(jobs, seed, size)


def write_pictures(jobs: list[tuple[int, int, str]], seed: int, size: int) -> None:
    """Draw the picture of each ``(index, class, path)`` job into its (existing) folder, seeded by
    ``(seed, index)``; in parallel chunks when there are many (shared with the Kaggle-layout twin)."""
    chunks = [(jobs[k : k + CHUNK], seed, size) for k in range(0, len(jobs), CHUNK)]
    if len(jobs) < PARALLEL_MIN:
        for chunk in track(chunks, "synthetic images"):
            _render_chunk(chunk)
        return
    with ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        for _ in track(pool.map(_render_chunk, chunks), "synthetic images", total=len(chunks)):
            pass


def _render_chunk(chunk: tuple[list[tuple[int, int, str]], int, int]) -> None:
    """Draw the pictures of one chunk of ``(index, class, path)`` jobs (runs in a worker)."""
    jobs, seed, size = chunk
    for index, code, path in jobs:
        image = draw_product(code, np.random.default_rng([seed, IMAGE_STREAM, index]), size)
        Path(path).write_bytes(encode_jpeg(image))


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` with its unnamed index as the first column, atomically."""
    write_text_atomic(path, frame.to_csv(lineterminator="\n"))
