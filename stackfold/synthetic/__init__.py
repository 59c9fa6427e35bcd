"""A calibrated synthetic twin of the Rakuten France product classification challenge.

It generates a challenge's data (for speed, memory and scale checks: ``stackfold demo-data``);
it is not a challenge spec, so it lives beside :mod:`stackfold.competition`, which it reads
(class codes and counts), never inside it.

``write_demo_data`` writes train/test CSVs and JPEG pictures in the official layout, with
the real class frequencies, text statistics and a difficulty tuned so that simple
baselines score about as they do on the real data (see ``bench/calibration.py``).
"""

from stackfold.synthetic.writer import write_demo_data

__all__ = ["write_demo_data"]
