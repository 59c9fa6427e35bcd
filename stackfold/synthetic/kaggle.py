"""Write a generic Kaggle-layout classification challenge: ``train.csv``, ``test.csv``, ``sample_submission.csv``.

The rows are the Rakuten twin's (same class frequencies, label noise, text and pictures, same seeding), dressed
the way many Kaggle challenges are: a string ``id``, ``title`` and ``description`` text,
the relative path of the row's JPEG in ``image``, and the class as a human-readable name with spaces in
``category`` (the English Rakuten category names), so code paths for string labels and path columns get
exercised. Pictures are written first, the CSVs last and atomically, ``train.csv`` last of all, so an
interrupted run never looks complete.
"""

from collections import Counter
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from stackfold.io import write_text_atomic
from stackfold.progress import track
from stackfold.synthetic.catalogue import load_catalogue
from stackfold.synthetic.text import TextSampler
from stackfold.synthetic.writer import (
    REAL_TEST, REAL_TRAIN, TEXT_STREAM, add_label_noise, check_twin_size, write_pictures,
)

ID_DIGITS = 6  # ids are "p" and at least this many digits, zero-padded


def class_names() -> dict[int, str]:
    """Each Rakuten code's English category name, made unique by appending the code to a repeated name."""
    with (files("stackfold.competition") / "data" / "rakuten_categories.csv").open(encoding="utf-8") as handle:
        table = pd.read_csv(handle)
    names = dict(zip(table["prdtypecode"].astype(int), table["label_en"].astype(str)))
    repeats = Counter(names.values())
    return {code: name if repeats[name] == 1 else f"{name} ({code})" for code, name in names.items()}


def write_kaggle_twin(out: Path, n_products: int, seed: int = 0, image_size: int = 500, images: bool = True) -> None:
    """Write ``n_products`` training rows and ``round(n_products * 13812 / 84916)`` (at least one) test rows
    in the Kaggle layout under ``out``, the hidden test labels in ``truth/test_labels.csv`` (``id,category``).

    Ids (``p000123``) are distinct across train and test and sorted within each. ``images=False`` skips the
    pictures and the ``image`` column (for quick text-only experiments).
    """
    check_twin_size(n_products, image_size)
    out = Path(out)
    catalogue = load_catalogue()
    names = class_names()
    n_test = max(1, round(n_products * REAL_TEST / REAL_TRAIN))
    total = n_products + n_test
    rng = np.random.default_rng(seed)
    true_codes = rng.choice(np.array(catalogue.codes), size=total, p=catalogue.probabilities)
    labels = [names[int(code)] for code in add_label_noise(true_codes, catalogue, rng)]
    order = rng.permutation(total)
    width = max(ID_DIGITS, len(str(total - 1)))
    ids = [f"p{k:0{width}d}" for k in [*np.sort(order[:n_products]), *np.sort(order[n_products:])]]

    sampler = TextSampler(catalogue=catalogue)
    texts = [
        sampler.sample(int(code), np.random.default_rng([seed, TEXT_STREAM, i]))
        for i, code in enumerate(track(true_codes, "synthetic text"))
    ]
    frame = pd.DataFrame({"id": ids, "title": [t[0] for t in texts], "description": [t[1] for t in texts]})
    if images:
        frame["image"] = [f"images/{'train' if i < n_products else 'test'}/{id_}.jpg" for i, id_ in enumerate(ids)]
        for split in ("train", "test"):
            (out / "images" / split).mkdir(parents=True, exist_ok=True)
        jobs = [(i, int(code), str(out / path)) for i, (code, path) in enumerate(zip(true_codes, frame["image"]))]
        write_pictures(jobs, seed, image_size)

    train, test = frame.iloc[:n_products].copy(), frame.iloc[n_products:]
    train["category"] = labels[:n_products]
    classes = sorted(names.values())
    submission = pd.DataFrame({"id": test["id"], **{name: 1 / len(classes) for name in classes}})
    _write_csv(pd.DataFrame({"id": test["id"], "category": labels[n_products:]}), out / "truth" / "test_labels.csv")
    _write_csv(submission, out / "sample_submission.csv")
    _write_csv(test, out / "test.csv")
    _write_csv(train, out / "train.csv")


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` without its index, atomically."""
    write_text_atomic(path, frame.to_csv(index=False, lineterminator="\n"))
