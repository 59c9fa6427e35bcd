"""A calibrated synthetic twin of the Rakuten France product classification challenge.

``write_demo_data`` writes train/test CSVs and JPEG pictures in the official layout, with
the real class frequencies, text statistics and a difficulty tuned so that simple
baselines score about as they do on the real data (see ``bench/calibration.py``).
"""

from stackfold.competition.synthetic.writer import write_demo_data

__all__ = ["write_demo_data"]
