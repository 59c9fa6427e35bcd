"""Benchmark: the image pipeline on the synthetic twin, 2 cores.

    .venv/bin/python bench/images.py --products 5000 [--seed 0] [--image-size 500] [--sample 300]
        [--vgg-sizes 64 112 224] [--rss-images 0] [--no-cv]

Prints, in this order:

1. decode + crop + resize throughput (images/s) at 100 px with and without JPEG draft decoding;
2. VGG16 (random weights: speed does not depend on them) at each ``--vgg-sizes``: images/s
   through the pipeline (decode, crop, resize, batches into the resumable on-disk array)
   versus a bare ``model.predict`` on the same images already in memory, and the overhead
   (target <= 25%);
3. the CNN's seconds per epoch on the training images (100 px);
4. with ``--rss-images N``: peak RSS of a fresh process extracting VGG16 features at 64 px
   for N images (the twin's images cycled; target <= 4 GiB at 85,000);
5. unless ``--no-cv``: `stackfold run` on the twin with the text models, then with the image
   models and the fusion net added (random VGG16 weights: the offline case), the leaderboard,
   fusion versus the best text model and the all-model LightGBM stack versus the text-only one.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from stackfold.competition.images import ImageTable
from stackfold.competition.load import load_competition
from stackfold.competition.challenges import rakuten
from stackfold.config import load_config
from stackfold.core.blocks import ImageBlock, Views
from stackfold.features.image import ImageFeature, extract
from stackfold.features.image_io import ImageOptions, read_image
from stackfold.features.vgg16 import N_FEATURES, VGG16Features, vgg16_model
from stackfold.pipeline import run_pipeline
from stackfold.synthetic import write_demo_data

TEXT_MODELS = ["prior", "tfidf_logreg", "logreg", "text_nn"]
IMAGE_MODELS = ["color_forest", "pixel_forest", "pixel_svc", "cnn", "vgg_nn", "vgg_fusion"]


def decode_throughput(table: ImageTable, draft: bool) -> float:
    options = ImageOptions(draft=draft)
    start = time.perf_counter()
    for ref in table.sources:
        read_image(ref, 100, options)
    return len(table) / (time.perf_counter() - start)


def vgg_throughput(table: ImageTable, size: int, n_jobs: int) -> tuple[float, float]:
    """Images/s through the pipeline (decode to on-disk array) and of a bare predict on in-memory images."""
    feature = ImageFeature(size, (N_FEATURES,), "float32", VGG16Features(size, "none", n_jobs, 0), ImageOptions(), 32)
    feature.compute(np.zeros((1, size, size, 3), np.uint8))  # build the network outside the timing
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        extract(table, feature, Path(folder) / "vgg.npy", description=f"vgg16 {size} px")
        pipeline = len(table) / (time.perf_counter() - start)
    pixels = np.stack([read_image(ref, size) for ref in table.sources])
    model = vgg16_model(size, "none", n_jobs, 0)
    from keras.applications.vgg16 import preprocess_input

    inputs = preprocess_input(pixels.astype(np.float32))
    start = time.perf_counter()
    model.predict(inputs, batch_size=32, verbose=0)
    return pipeline, len(table) / (time.perf_counter() - start)


def cnn_epoch_seconds(dataset, n_jobs: int) -> float:
    from stackfold.features.image import pixel_array_feature
    from stackfold.models.image_cnn import CNN

    table = dataset.image_table("train")
    with tempfile.TemporaryDirectory() as folder:
        pixels, _ = extract(table, pixel_array_feature(100, ImageOptions()), Path(folder) / "px.npy",
                            description="images 100 px")
        block = ImageBlock.whole(pixels, table.owner, table.n_products)
        model = CNN(rakuten().classes, seed=0, n_jobs=n_jobs, epochs=2, patience=5).fit(Views({"images": block}),
                                                                                        dataset.y)
    return model.fit_seconds_ / model.epochs_


def peak_rss(data: Path, n_images: int) -> float:
    """Peak RSS (GiB) of a fresh process extracting VGG16 64 px features for ``n_images`` images."""
    code = (
        "import resource, sys, tempfile; from pathlib import Path\n"
        "from stackfold.competition.images import ImageTable\n"
        "from stackfold.competition.load import load_competition\n"
        "from stackfold.competition.challenges import rakuten\n"
        "from stackfold.features.image import ImageFeature, extract\n"
        "from stackfold.features.image_io import ImageOptions\n"
        "from stackfold.features.vgg16 import N_FEATURES, VGG16Features\n"
        f"sources = load_competition(Path({str(data)!r}), rakuten()).image_table('train').sources\n"
        f"n = {n_images}\n"
        "table = ImageTable.one_per_product([sources[i % len(sources)] for i in range(n)])\n"
        "feature = ImageFeature(64, (N_FEATURES,), 'float32', VGG16Features(64, 'none', 2, 0), ImageOptions(), 32)\n"
        "with tempfile.TemporaryDirectory() as folder:\n"
        "    extract(table, feature, Path(folder) / 'vgg.npy', description='vgg16 64 px')\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return int(out.split()[-1]) / 1024**2


def cv_comparison(data: Path, out: Path, seed: int) -> None:
    """Text-only run, then the same run with the image models and the fusion net (text results reused)."""
    boards = {}
    for name, models in (("text", TEXT_MODELS), ("all", TEXT_MODELS + IMAGE_MODELS)):
        config = out.parent / f"{out.name}-{name}.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(f"seed = {seed}\nmodels = {json.dumps(models)}\nstackers = [\"lgbm\"]\ndecisions = []\n"
                          "[features.vgg16]\nweights = \"none\"\n")
        start = time.perf_counter()
        boards[name] = run_pipeline(data, out, load_config(config)).leaderboard.set_index("model")
        print(f"run with {name} models: {time.perf_counter() - start:.1f} s")
    board = boards["all"]
    print(board[["level", "wf1_mean", "wf1_std", "accuracy", "fit_s", "predict_s"]].to_markdown(floatfmt=".4f"))
    best_text = board.loc[[m for m in TEXT_MODELS if m != "prior"], "wf1_mean"].max()
    print(f"vgg_fusion - best text model: {board.loc['vgg_fusion', 'wf1_mean'] - best_text:+.4f} weighted F1")
    print(f"lgbm stack, all models - text only: {board.loc['lgbm', 'wf1_mean'] - boards['text'].loc['lgbm', 'wf1_mean']:+.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-size", type=int, default=500)
    parser.add_argument("--sample", type=int, default=300, help="images timed in steps 1 and 2")
    parser.add_argument("--vgg-sizes", type=int, nargs="+", default=[64, 112, 224])
    parser.add_argument("--rss-images", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--no-cv", action="store_true")
    args = parser.parse_args()
    data = Path(f"bench-data/twin-{args.products}-{args.seed}-{args.image_size}")
    if not (data / "X_train_update.csv").is_file():
        write_demo_data(data, n_products=args.products, seed=args.seed, image_size=args.image_size)
    dataset = load_competition(data, rakuten())
    table = dataset.image_table("train")
    sample = ImageTable.one_per_product(list(table.sources[: args.sample]))

    print(f"twin {args.products} products, {args.image_size} px images, {args.n_jobs} threads")
    draft, full = decode_throughput(sample, True), decode_throughput(sample, False)
    print(f"decode+crop+resize to 100 px: {draft:.0f} images/s with draft decoding, {full:.0f} without "
          f"({draft / full:.2f}x)")
    for size in args.vgg_sizes:
        pipeline, bare = vgg_throughput(sample, size, args.n_jobs)
        print(f"vgg16 {size} px: pipeline {pipeline:.1f} images/s, bare predict {bare:.1f} images/s, "
              f"overhead {bare / pipeline - 1:+.0%} (target <= 25%)")
    print(f"cnn (100 px, {len(table)} images): {cnn_epoch_seconds(dataset, args.n_jobs):.1f} s per epoch")
    if args.rss_images:
        print(f"vgg16 64 px over {args.rss_images} images: peak RSS {peak_rss(data, args.rss_images):.2f} GiB "
              "(target <= 4 GiB at 85,000)")
    if not args.no_cv:
        cv_comparison(data, Path(f"bench-runs/images-{args.products}-{args.seed}"), args.seed)
    print(f"peak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2:.2f} GiB")


if __name__ == "__main__":
    main()
