"""Made train/test shifts of a twin in the Rakuten layout, to show that the shift check sees a shift and names it.

A twin as written has test rows drawn as its training rows are: no shift. These change its test split in place:

``vocabulary``  another period's words: in the test texts, each of the training titles' most frequent words
                is replaced by a word no training text holds (``NEW_WORDS``)
``studio``      another studio's photos: every test photo gets a beige backdrop where it was white, and is
                a little darker and warmer
"""

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from stackfold.errors import DataError
from stackfold.io import atomic_file, write_text_atomic
from stackfold.synthetic.images import encode_jpeg

NEW_WORDS = ("metavers", "quantik", "biotech", "nanofibre", "cyber", "hyperflex", "ultrasonic", "smartlink",
             "ecoloop", "solarix", "zenith", "nexus")
"""The other period's words: none is in the twin's vocabulary, and text normalisation leaves each as it is."""
BACKDROP = np.array([226, 212, 188], dtype=np.float32)
"""The other studio's beige backdrop (RGB)."""
WHITE_FROM = 235
"""A pixel whose every channel is at least this is backdrop."""
TONE = np.array([0.97, 0.92, 0.84], dtype=np.float32)
"""The other studio's light: each channel scaled, red kept, blue dimmed (warmer and darker)."""
_WORD = re.compile(r"[^\W\d_]{4,}")


@dataclass(frozen=True)
class MadeShift:
    """What a made shift changed: the test rows or photos changed, and each replaced word with its replacement."""

    kind: str
    changed: int
    replaced: dict[str, str]


def shift_vocabulary(data: Path, n_words: int = len(NEW_WORDS)) -> MadeShift:
    """Replace, in every test text of ``data``, the ``n_words`` most frequent words (4 letters or more, any case)
    of the training titles by :data:`NEW_WORDS`, keeping each word's capitalisation."""
    train = pd.read_csv(_required(data, "X_train_update.csv"), index_col=0)
    test_path = _required(data, "X_test_update.csv")
    test = pd.read_csv(test_path, index_col=0)
    counts = Counter(word.lower() for title in train["designation"].fillna("") for word in _WORD.findall(title))
    replaced = dict(zip([word for word, _ in counts.most_common(min(n_words, len(NEW_WORDS)))], NEW_WORDS))
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, replaced)) + r")\b", re.IGNORECASE)

    def swap(match: re.Match) -> str:
        new = replaced[match.group(0).lower()]
        return new.capitalize() if match.group(0)[0].isupper() else new

    changed = np.zeros(len(test), dtype=bool)
    for column in ("designation", "description"):
        before = test[column]
        test[column] = before.where(before.isna(), before.fillna("").str.replace(pattern, swap, regex=True))
        changed |= (test[column].fillna("") != before.fillna("")).to_numpy()
    write_text_atomic(test_path, test.to_csv(lineterminator="\n"))
    return MadeShift("vocabulary", int(changed.sum()), replaced)


def shift_studio(data: Path) -> MadeShift:
    """Re-shoot every test photo of ``data`` in another studio: a beige backdrop, warmer and darker light."""
    folder = data / "images" / "image_test"
    photos = sorted(folder.glob("*.jpg")) if folder.is_dir() else []
    if not photos:
        raise DataError(f"{folder}: no test photo to shift; write the twin with its images")
    for path in photos:
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB"), dtype=np.float32)
        backdrop = (pixels >= WHITE_FROM).all(axis=2)
        pixels[backdrop] = BACKDROP
        shot = Image.fromarray(np.clip(pixels * TONE, 0, 255).round().astype(np.uint8))
        with atomic_file(path) as f:
            f.write(encode_jpeg(shot))
    return MadeShift("studio", len(photos), {})


SHIFTS: dict[str, Callable[[Path], MadeShift]] = {"vocabulary": shift_vocabulary, "studio": shift_studio}


def _required(data: Path, name: str) -> Path:
    path = Path(data) / name
    if not path.is_file():
        raise DataError(f"{path}: not found; a made shift changes a twin in the Rakuten layout (stackfold demo-data)")
    return path
