"""Calibrated synthetic twins of the challenges, in their exact file layouts.

They generate a challenge's data (for speed, memory and scale checks: ``stackfold demo-data``);
they are not challenge specs, so they live beside :mod:`stackfold.competition`, whose package
data they read (class codes, counts, the category tree), never inside it.

``write_demo_data`` writes the Rakuten train/test CSVs and JPEG pictures with the real class
frequencies, text statistics and a difficulty tuned so that simple baselines score about as
they do on the real data (see ``bench/calibration.py``); ``write_cdiscount_twin`` writes
Cdiscount's BSON files, streamed, at any size up to the real one and beyond; ``write_kaggle_twin``
writes the Rakuten twin's rows as a generic Kaggle challenge (``train.csv``, ``test.csv``,
``sample_submission.csv``, string ids and class names, an image path column).
"""

from collections.abc import Callable
from dataclasses import dataclass

from stackfold.synthetic.cdiscount import REAL_IMAGE_SIZE, write_cdiscount_twin
from stackfold.synthetic.kaggle import write_kaggle_twin
from stackfold.synthetic.writer import write_demo_data


@dataclass(frozen=True)
class Layout:
    """A challenge's twin: its writer ``write(out, n_products, seed=, image_size=)`` and the real picture side."""

    write: Callable[..., object]
    image_size: int


LAYOUTS = {
    "rakuten": Layout(write_demo_data, 500),
    "cdiscount": Layout(write_cdiscount_twin, REAL_IMAGE_SIZE),
    "kaggle": Layout(write_kaggle_twin, 500),
}
"""The twins ``stackfold demo-data --layout`` writes (tests/test_cli.py checks ``--help`` lists these)."""

__all__ = ["LAYOUTS", "Layout", "write_cdiscount_twin", "write_demo_data", "write_kaggle_twin"]
