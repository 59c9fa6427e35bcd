"""Benchmark: the `sentence` view's cold extraction speed on real product texts, 2 cores.

    .venv/bin/python bench/sentence_speed.py [--data ../shared/data/rakuten-real] [--chars 0 300 600 1200]

For each ``description_chars``: texts/s of the view's extraction (cleaning, batches of 256 into
the resumable on-disk array) over the real train + test texts, and the time that rate gives for
the challenge's 98,728 products (84,916 train + 13,812 test).
"""

import argparse
import tempfile
import time
from pathlib import Path

from stackfold.competition import load_competition, rakuten
from stackfold.features.store import FeatureStore

ROOT = Path(__file__).resolve().parents[1]
CHALLENGE_PRODUCTS = 84_916 + 13_812


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "rakuten-real")
    parser.add_argument("--chars", type=int, nargs="+", default=[0, 300, 600, 1200])
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    data = load_competition(args.data, rakuten(), images=False)
    n_texts = len(data.train) + len(data.test)
    FeatureStore(data, Path(tempfile.mkdtemp()), {"sentence": {"description_chars": 0}}, n_jobs=args.n_jobs).get(
        "sentence")  # load the encoder once, outside the timings
    print(f"{n_texts} real texts, {args.n_jobs} threads")
    print(f"{'description_chars':>17}  {'texts/s':>8}  {'98,728 products':>15}")
    for chars in args.chars:
        with tempfile.TemporaryDirectory() as cache:
            store = FeatureStore(data, Path(cache), {"sentence": {"description_chars": chars}}, n_jobs=args.n_jobs)
            start = time.perf_counter()
            store.get("sentence")
            rate = n_texts / (time.perf_counter() - start)
        print(f"{chars:>17}  {rate:>8.1f}  {CHALLENGE_PRODUCTS / rate / 60:>11.1f} min")


if __name__ == "__main__":
    main()
