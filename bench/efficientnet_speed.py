"""Benchmark: EfficientNet-Lite ImageNet features on the real Rakuten photos, 2 cores.

    .venv/bin/python bench/efficientnet_speed.py [--images 300] [--sizes 224 192 160] [--batch-size 32]
        [--n-jobs 2] [--flip] [--engines litert keras] [--nets lite0 lite2 lite0+lite2]

For each engine (``[features.efficientnet] engine``: LiteRT's XNNPACK kernels, the default, or keras),
nets (``nets``: ``lite0+lite2`` is ``["lite0", "lite2"]``, side by side) and size (Lite0's; each net at its
own side in proportion) prints the images/s of the bare networks over in-memory batches and of
the whole pipeline (decode, crop, resize, features into the resumable on-disk array: what the
``efficientnet`` view runs), then the process's peak RSS. Target: >= 15 images/s through the
pipeline at 224 px. Each net's CPU ms per image against Lite0's is its ``work`` in
:data:`stackfold.features.efficientnet_lite.NETS`.
"""

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from stackfold.competition.images import ImageTable
from stackfold.features.efficientnet import EfficientNetFeatures
from stackfold.features.image import ImageFeature, extract
from stackfold.features.image_io import ImageOptions, read_image

PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "rakuten-real" / "images" / "image_train"


def bare_throughput(extractor: EfficientNetFeatures, pixels: np.ndarray, batch_size: int) -> tuple[float, float]:
    """Images/s of the networks alone on full uint8 batches already in memory (with keras a last, smaller one would
    retrace), and the process's CPU milliseconds per image (all threads: less swayed by other processes' load)."""
    n = len(pixels) - len(pixels) % batch_size
    start, cpu = time.perf_counter(), time.process_time()
    for first in range(0, n, batch_size):
        extractor(pixels[first: first + batch_size])
    return n / (time.perf_counter() - start), (time.process_time() - cpu) * 1000 / n


def pipeline_throughput(table: ImageTable, feature: ImageFeature) -> float:
    """Images/s from the JPEG files to the finished on-disk feature array."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        extract(table, feature, Path(folder) / "efficientnet.npy", description=f"efficientnet {feature.size} px")
        return len(table) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--sizes", type=int, nargs="+", default=[224, 192, 160])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--flip", action="store_true", help="average with the mirrored image (2x the work)")
    parser.add_argument("--engines", nargs="+", default=["litert", "keras"], choices=["litert", "keras"])
    parser.add_argument("--nets", nargs="+", default=["lite0"], help="nets, several side by side joined by +")
    args = parser.parse_args()
    table = ImageTable.one_per_product(sorted(PHOTOS.glob("*.jpg"))[: args.images])
    options = ImageOptions()
    for engine, nets, size in [(e, n, s) for e in args.engines for n in args.nets for s in args.sizes]:
        extractor = EfficientNetFeatures(size, "package", args.n_jobs, 0, args.flip, engine, nets.split("+"))
        side = extractor.input_size
        extractor(np.zeros((args.batch_size, side, side, 3), np.uint8))  # build and trace outside the timings
        pixels = np.stack([read_image(ref, side, options) for ref in table.sources])
        bare, cpu_ms = bare_throughput(extractor, pixels, args.batch_size)
        feature = ImageFeature(side, (extractor.n_features,), "float32", extractor, options, args.batch_size)
        pipeline = pipeline_throughput(table, feature)
        print(f"{engine}, {nets}, {size} px (read at {side}), {len(table)} images, batch {args.batch_size}, "
              f"flip {args.flip}: bare networks {bare:.1f} images/s ({cpu_ms:.0f} CPU ms each), pipeline {pipeline:.1f} "
              "images/s", flush=True)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2:.2f} GiB")


if __name__ == "__main__":
    main()
