"""Benchmark: Cdiscount at scale on its synthetic twin, step by step, then extrapolated to the whole challenge.

    .venv/bin/python bench/cdiscount_scale.py [--products 575000] [--seed 0] [--sample 3000]
        [--data-root bench-data] [--work bench-runs/cdiscount_scale] [--steps generate,index,...]

The twin (``stackfold demo-data --layout cdiscount``: 180 px JPEGs, 1.75 photos per product, so
575,000 training products are about 1,006,000 photos) is written once under
``DATA_ROOT/cdiscount-twin-<products>-<seed>/`` and reused. Each step of ``STEPS`` runs in its own
Python process, so its peak memory is its own: the process's high-water mark (``VmHWM``), and the
whole process tree (the twin's rendering workers) sampled every 0.2 s by the parent; the table shows
the larger. The steps:

- ``generate``: writing the twin (setup; reported, and reused when the twin is there);
- ``index``: :func:`stackfold.competition.bson_files.index_bson_cached` on ``train.bson``, built and
  saved as a run does (then reloaded, as a rerun does), and the saved index's size on disk;
- ``extract 180`` / ``extract 224``: EfficientNet-Lite0 features (LiteRT, 2 threads: one two-core
  worker) of ``--sample`` photos spread evenly over ``train.bson`` and read through the index, at
  their real 180 px and upscaled to 224 px (the view's default); ``[features.efficientnet] size =
  180`` selects the former, no code change. The production path: ``features.image.extract``, batches
  of 32, reading overlapped with the network. The network's conversion (~10 s, once per process) is
  timed apart; the read-and-decode rate alone (one thread) is measured too.

- ``per product``: a per-photo model's output over the whole twin, made (``softmax`` of noise plus a
  signal on the true class) one chunk of products at a time, averaged per product and cut to the top
  20, through ``core.topk.predict_top_k`` over an ``ImageBlock`` as the OOF loop does; never a dense
  ``photos x 5,270`` matrix (42 GB of float64 at a million photos);
- ``blends``: the three blends over 5 made base models' top-20 OOF at the twin's product count
  (made straight into top-k), 3-fold CV each: the stacker level of a run;
- ``run prior``: ``stackfold run`` on the twin as a user would, ``images = false`` (so ``prior`` and
  the blends, top 20, 3 folds): index, folds, OOF, blends, leaderboard and submission, with the
  run's own ``timeline.csv`` for each step and the OOF file's bytes a row;
- ``run head``: ``stackfold run`` with photos on a ``HEAD_PRODUCTS``-product twin: EfficientNet
  features at 180 px, ``prior`` and ``efficientnet_nn`` at 5,270 classes, top 20, the blends.

Then the extrapolation to the whole challenge (12,371,293 train + 3,095,080 test photos) on 1, 8 and 32
two-core workers and 1 or 4 GPUs. Assumptions, said as such: the index is one sequential scan on the
client, extrapolated linearly from the measured photos/s (it does not spread over workers); extraction
scales linearly with workers (no shared-storage limit); the GPU rates are assumed, not measured (see
``GPU_ASSUMED``). Targets: index <= 200 MB per million photos on disk, peak RSS <= 8 GiB.

Figures go to ``WORK/<products>-<seed>.json`` (each step's also to ``WORK/<products>-<seed>/<step>.json``,
so a step is not measured twice); the machine's load average is sampled during every step.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from stackfold.competition.challenges import cdiscount
from stackfold.config import DEFAULT_TOP_K
from stackfold.synthetic.cdiscount import REAL_TEST_PHOTOS, REAL_TEST_PRODUCTS, REAL_TRAIN_PHOTOS, REAL_TRAIN_PRODUCTS

REAL_PRODUCTS = REAL_TRAIN_PRODUCTS + REAL_TEST_PRODUCTS
N_CLASSES = cdiscount().n_classes
WORKERS = (1, 8, 32)
GPUS = (1, 4)
GPU_ASSUMED = {224: 2_000.0, 180: 2_000.0 * (224 / 180) ** 2}
"""Assumed EfficientNet-Lite0 photos/s on one NVIDIA T4, not measured: NVIDIA's DeepLearningExamples
(PyTorch/Classification/ConvNets/efficientnet, README) publish 6,176 img/s for EfficientNet-B0 at 224 px
on a V100 16GB (mixed precision, batch 256) and no T4 figure; a T4 has about a third of a V100's
inference throughput (65 against 125 fp16 tensor TFLOPS, 320 against 900 GB/s), hence 2,000 at 224 px.
Lite0 (no squeeze-excite) costs about what B0 does; 180 px is (224/180)^2 = 1.55x fewer pixels."""
TARGET_INDEX_MB_PER_MILLION, TARGET_PEAK_GIB, TARGET_OOF_BYTES = 200, 8, 100
HEAD_PRODUCTS = 30_000
"""Training products of the twin ``run head`` runs with photos (its EfficientNet features are extracted here)."""
GIB, MB = 1024**3, 1e6


@dataclass(frozen=True)
class Context:
    """What every step knows: the twin's folder, the step results' folder and the bench's arguments."""

    twin: Path
    work: Path
    products: int
    seed: int
    sample: int

    def index_file(self, path: Path, key: str) -> Path:
        return self.work / f"index-{path.stem}-{key}.npz"


def generate(ctx: Context) -> dict:
    """Write the twin (train.bson last: its presence means the twin is complete)."""
    from stackfold.synthetic.cdiscount import write_cdiscount_twin

    written = write_cdiscount_twin(ctx.twin, ctx.products, seed=ctx.seed, processes=2)
    return {"products": written.train_products, "test_products": written.test_products,
            "photos": written.train_photos + written.test_photos, "train_photos": written.train_photos,
            "train_bson_bytes": (ctx.twin / "train.bson").stat().st_size,
            "test_bson_bytes": (ctx.twin / "test.bson").stat().st_size}


def _classes() -> frozenset[int]:

    return frozenset(cdiscount().classes)


def index(ctx: Context) -> dict:
    """Build and save the index of train.bson as a run does, then reload it as a rerun does."""
    from stackfold.competition.bson_files import index_bson_cached

    for old in ctx.work.glob("index-train-*.npz"):
        old.unlink()
    path, classes = ctx.twin / "train.bson", _classes()
    before = psutil.Process().memory_info().rss  # imports done: what the scan adds is what grows with the file
    started = time.perf_counter()
    built = index_bson_cached(path, classes, ctx.index_file)
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    index_bson_cached(path, classes, ctx.index_file)
    saved = next(ctx.work.glob("index-train-*.npz"))
    return {"measured_s": build_s, "reload_s": time.perf_counter() - started, "products": built.n_products,
            "photos": built.n_images, "index_bytes": saved.stat().st_size, "bson_bytes": path.stat().st_size,
            "baseline_rss_bytes": before}


def _sample_table(ctx: Context):
    """``--sample`` photos spread evenly over train.bson, read through its saved index."""
    from stackfold.competition.bson_files import index_bson_cached
    from stackfold.competition.images import BytesRef, ImageTable

    built = index_bson_cached(ctx.twin / "train.bson", _classes(), ctx.index_file)
    picks = np.unique(np.linspace(0, built.n_images - 1, min(ctx.sample, built.n_images)).round().astype(int))
    refs = tuple(BytesRef(built.path, int(built.image_offset[i]), int(built.image_length[i])) for i in picks)
    return ImageTable(refs, np.arange(len(refs)), len(refs))


def _extract(ctx: Context, size: int) -> dict:
    """Photos/s of EfficientNet-Lite0 features on one two-core worker at ``size`` px (see the module docstring)."""
    from stackfold.features.efficientnet import N_FEATURES, EfficientNetFeatures
    from stackfold.features.image import ImageFeature, extract
    from stackfold.features.image_io import ImageOptions, image_batches

    table = _sample_table(ctx)
    started = time.perf_counter()
    for _ in image_batches(table, size, ImageOptions(), 32, description="decode only"):
        pass
    decode_s = time.perf_counter() - started
    extractor = EfficientNetFeatures(size, "package", n_threads=2, seed=0)
    started = time.perf_counter()
    extractor(np.zeros((1, size, size, 3), dtype=np.uint8))
    convert_s = time.perf_counter() - started
    feature = ImageFeature(size, (N_FEATURES,), "float32", extractor, ImageOptions(), 32)
    with tempfile.TemporaryDirectory(dir=ctx.work) as scratch:
        started = time.perf_counter()
        rows, _ = extract(table, feature, Path(scratch) / "features.npy")
        extract_s = time.perf_counter() - started
        assert rows.shape == (len(table), N_FEATURES) and np.isfinite(rows).all()
    return {"measured_s": extract_s, "photos": len(table), "size": size, "convert_s": convert_s,
            "decode_photos_per_s": len(table) / decode_s}


def extract_180(ctx: Context) -> dict:
    return _extract(ctx, 180)


def extract_224(ctx: Context) -> dict:
    return _extract(ctx, 224)


def _labels(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """The twin's product labels as class positions, and each photo's product (from the saved index)."""
    from stackfold.competition.bson_files import index_bson_cached

    built = index_bson_cached(ctx.twin / "train.bson", _classes(), ctx.index_file)
    return pd.Index(cdiscount().classes).get_indexer(built.categories), built.owner


def _made_scores(rng: np.random.Generator, truth: np.ndarray, signal: float) -> np.ndarray:
    """Made probabilities over the 5,270 classes, ``softmax(signal * onehot(truth) + noise)``, float32."""
    from scipy.special import softmax

    logits = rng.standard_normal((len(truth), N_CLASSES), dtype=np.float32)
    logits[np.arange(len(truth)), truth] += signal
    return softmax(logits, axis=1)


def _timeline_steps(run: Path) -> dict[str, float]:
    """Seconds of each step of a run, from its ``timeline.csv``, named ``<kind> <name>``."""
    timeline = pd.read_csv(run / "timeline.csv")
    return {f"{kind} {name}": float(seconds)
            for kind, name, seconds in timeline[["kind", "name", "seconds"]].itertuples(index=False)}


def per_product(ctx: Context) -> dict:
    """A per-image model's output over the whole twin, as the OOF loop makes it: photos x 5,270 probabilities of
    one chunk of products at a time (``core.topk.predict_top_k`` over an ``ImageBlock``), averaged per product,
    cut to the top 20; never a dense photos x 5,270 matrix of the file (42 GB of float64 at a million photos)."""
    from stackfold.core.blocks import ImageBlock, take_rows
    from stackfold.core.topk import predict_top_k

    y, owner = _labels(ctx)
    block = ImageBlock.whole(np.zeros((len(owner), 1), np.float32), owner, len(y))
    rng = np.random.default_rng(ctx.seed)

    def predict(chunk: ImageBlock) -> np.ndarray:
        return chunk.per_product(_made_scores(rng, y[owner[chunk.rows]], 3.0))

    started = time.perf_counter()
    top = predict_top_k(predict, block, len(y), N_CLASSES, DEFAULT_TOP_K, take_rows)
    return {"measured_s": time.perf_counter() - started, "products": len(y), "photos": len(owner),
            "bytes_per_row": top.nbytes / len(top), "accuracy": float((top.predicted() == y).mean())}


def run_prior(ctx: Context) -> dict:
    """``stackfold run`` on the twin as a user would (``images = false``: ``prior`` and the three blends, top 20,
    3 folds): index, folds, OOF, blends, leaderboard and submission; the run's own timeline gives each step."""
    from stackfold.cli import app

    run, config = ctx.work / "run-prior", ctx.work / "run-prior.toml"
    config.write_text('competition = "cdiscount"\nimages = false\nfolds = 3\nmodels = ["prior"]\n')
    started = time.perf_counter()
    app(["run", str(ctx.twin), "--out", str(run), "--config", str(config), "--no-report"], standalone_mode=False)
    measured = time.perf_counter() - started
    board = pd.read_csv(run / "leaderboard.csv")
    oof = run / "models" / "prior" / "oof.npz"
    return {"measured_s": measured, "products": int(len(pd.read_csv(run / "folds.csv"))),
            "steps": _timeline_steps(run),
            "oof_bytes_per_row": oof.stat().st_size / len(pd.read_csv(run / "folds.csv")),
            "model_folder_bytes": sum(p.stat().st_size for p in (run / "models" / "prior").rglob("*") if p.is_file()),
            "accuracy": {m: float(a) for m, a in zip(board["model"], board["accuracy"])}}


def run_head(ctx: Context) -> dict:
    """``stackfold run`` with photos on a ``HEAD_PRODUCTS``-product twin: EfficientNet-Lite0 features at 180 px,
    ``prior`` and ``efficientnet_nn`` (the dense head, trained in batches, whose cost does not grow with classes
    squared as the linear heads' does), top 20, the blends; each step's seconds from the run's timeline."""
    from stackfold.cli import app
    from stackfold.competition.bson_files import index_bson
    from stackfold.synthetic.cdiscount import write_cdiscount_twin

    twin = ctx.twin.with_name(f"cdiscount-twin-{HEAD_PRODUCTS}-{ctx.seed}")
    if not (twin / "train.bson").is_file():
        write_cdiscount_twin(twin, HEAD_PRODUCTS, seed=ctx.seed, processes=2)
    run, config = ctx.work / "run-head", ctx.work / "run-head.toml"
    config.write_text('competition = "cdiscount"\nfolds = 3\nmodels = ["prior", "efficientnet_nn"]\n'
                      "[features.efficientnet]\nsize = 180\n")
    started = time.perf_counter()
    app(["run", str(twin), "--out", str(run), "--config", str(config), "--no-report"], standalone_mode=False)
    board = pd.read_csv(run / "leaderboard.csv")
    manifest = json.loads((run / "models" / "efficientnet_nn" / "manifest.json").read_text())
    return {"measured_s": time.perf_counter() - started, "products": HEAD_PRODUCTS,
            "photos": index_bson(twin / "train.bson", _classes()).n_images,
            "steps": _timeline_steps(run),
            "accuracy": {m: float(a) for m, a in zip(board["model"], board["accuracy"])},
            "head_fit_s": manifest["summary"]["fit_s"], "head_predict_s": manifest["summary"]["predict_s"]}


def blends(ctx: Context) -> dict:
    """The three blends over 5 made base models' top-20 OOF at the twin's products, 3-fold CV each (the
    stacker level of a run): made chunk by chunk straight into top-k, never dense."""
    from stackfold.competition.folds import make_folds
    from stackfold.core.cv import cross_validate
    from stackfold.core.topk import TopK, TopKStack
    from stackfold.ensembles.blend import LogPool, MeanBlend, WeightedBlend

    y, _ = _labels(ctx)
    classes = np.asarray(cdiscount().classes)
    rng = np.random.default_rng(ctx.seed)
    started = time.perf_counter()
    parts = tuple(TopK.concat([TopK.from_dense(_made_scores(rng, y[s: s + 4096], signal), DEFAULT_TOP_K)
                               for s in range(0, len(y), 4096)]) for signal in (3.0, 3.2, 3.4, 3.6, 3.8))
    figures = {"made_s": time.perf_counter() - started, "products": len(y), "models": len(parts)}
    folds = make_folds(classes[y], 3, ctx.seed)
    for blend in (MeanBlend, WeightedBlend, LogPool):
        started = time.perf_counter()
        result = cross_validate(lambda b=blend: b(classes), TopKStack(parts), classes[y], None, folds,
                                name=blend.name, quiet=True, top_k=DEFAULT_TOP_K)
        figures[f"{blend.name}_s"] = time.perf_counter() - started
        figures[f"{blend.name}_accuracy"] = result.summary()["accuracy"]
    figures["single_accuracy"] = [float((p.predicted() == y).mean()) for p in parts]
    figures["measured_s"] = sum(figures[f"{b.name}_s"] for b in (MeanBlend, WeightedBlend, LogPool))  # not made_s
    return figures


STEPS: list[tuple[str, Callable[[Context], dict]]] = [
    ("generate", generate),
    ("index", index),
    ("extract 180", extract_180),
    ("extract 224", extract_224),
    ("per product", per_product),
    ("blends", blends),
    ("run prior", run_prior),
    ("run head", run_head),
]


def run_child(ctx: Context, name: str) -> None:
    """Run step ``name`` in this process and save its figures, with this process's own peak memory."""
    from stackfold.progress import PeakMemory

    function = dict(STEPS)[name]
    baseline = psutil.Process().memory_info().rss
    started = time.perf_counter()
    figures = function(ctx)
    figures.setdefault("measured_s", time.perf_counter() - started)
    figures.setdefault("baseline_rss_bytes", baseline)
    figures.update(wall_s=time.perf_counter() - started, own_peak_bytes=PeakMemory.peak_bytes())
    _step_file(ctx, name).write_text(json.dumps(figures, indent=1))


def _step_file(ctx: Context, name: str) -> Path:
    return ctx.work / f"{name.replace(' ', '_')}.json"


class TreeSampler:
    """Samples the resident memory of a process and all its children, and the load average, in a thread."""

    def __init__(self, pid: int, interval: float = 0.2):
        self.process = psutil.Process(pid)
        self.peak, self.loads = 0, [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            total = 0
            try:
                processes = [self.process, *self.process.children(recursive=True)]
            except psutil.Error:
                return
            for process in processes:
                try:
                    total += process.memory_info().rss
                except psutil.Error:  # ended between the listing and the reading
                    pass
            self.peak = max(self.peak, total)
            self.loads.append(os.getloadavg()[0])
            self._stop.wait(interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def measure(ctx: Context, name: str, args: argparse.Namespace, log: Path) -> dict:
    """Step ``name`` in its own process (unless saved, or the twin is there for ``generate``); its figures."""
    saved = _step_file(ctx, name)
    if saved.is_file() and (name != "generate" or (ctx.twin / "train.bson").is_file()):
        return {**json.loads(saved.read_text()), "reused": True}
    if name == "generate" and (ctx.twin / "train.bson").is_file():
        return {"reused": True, "note": "twin found, not generated by this bench"}
    command = [sys.executable, __file__, "--child", name, "--products", str(ctx.products), "--seed", str(ctx.seed),
               "--sample", str(ctx.sample), "--data-root", str(args.data_root), "--work", str(args.work)]
    with log.open("a") as out:
        out.write(f"\n== {name}\n")
        out.flush()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        sampler = TreeSampler(process.pid)
        code = process.wait()
        sampler.stop()
    if code != 0:
        sys.exit(f"step {name} failed ({code}); see {log}")
    figures = json.loads(saved.read_text())
    figures.update(tree_peak_bytes=sampler.peak, load_mean=float(np.mean(sampler.loads)),
                   load_max=float(max(sampler.loads)))
    saved.write_text(json.dumps(figures, indent=1))
    return figures


def _peak(figures: dict) -> float:
    return max(figures.get("tree_peak_bytes", 0), figures.get("own_peak_bytes", 0)) / GIB


def measured_table(results: dict[str, dict]) -> pd.DataFrame:
    rows = []
    for name, r in results.items():
        photos = r.get("photos", 0)
        rows.append({"step": name, "seconds": r.get("measured_s", float("nan")), "photos": photos,
                     "photos/s": photos / r["measured_s"] if photos and r.get("measured_s") else float("nan"),
                     "peak RSS GiB": _peak(r), "load mean": r.get("load_mean", float("nan")),
                     "notes": _notes(name, r)})
    return pd.DataFrame(rows)


def _notes(name: str, r: dict) -> str:
    notes = ["reused" if r.get("reused") else ""]
    if name == "generate" and "train_bson_bytes" in r:
        notes.append(f"{r['products']:,} + {r['test_products']:,} products (train + test), "
                     f"train.bson {r['train_bson_bytes'] / 1e9:.2f} GB")
    if name == "index":
        per_million = r["index_bytes"] / MB / (r["photos"] / 1e6)
        notes.append(f"index {r['index_bytes'] / MB:.1f} MB on disk ({per_million:.0f} MB per million photos, "
                     f"target <= {TARGET_INDEX_MB_PER_MILLION}), reload {r['reload_s']:.2f} s, "
                     f"scan {r['bson_bytes'] / MB / r['measured_s']:.0f} MB/s")
    if name == "per product":
        notes.append(f"{r['products']:,} products: {r['products'] / r['measured_s']:,.0f} products/s, "
                     f"{r['bytes_per_row']:.0f} bytes a product (target <= {TARGET_OOF_BYTES})")
    if name == "blends":
        blends = ", ".join(f"{b} {r[f'{b}_s']:.0f} s ({r[f'{b}_accuracy']:.3f})"
                           for b in ("mean", "weighted_mean", "log_pool"))
        notes.append(f"{r['models']} made models x {r['products']:,} rows (made in {r['made_s']:.0f} s), "
                     f"3-fold CV: {blends}")
    if name == "run prior":
        notes.append(f"`stackfold run`: OOF {r['oof_bytes_per_row']:.0f} bytes a row on disk (target <= "
                     f"{TARGET_OOF_BYTES}); " + ", ".join(f"{k} {v:.0f} s" for k, v in r["steps"].items() if v >= 1))
    if name == "run head":
        notes.append(f"{r['products']:,} products, {r['photos']:,} photos: " + ", ".join(
            f"{k} {v:.0f} s" for k, v in r["steps"].items() if v >= 1) + "; accuracy " + ", ".join(
            f"{m} {a:.3f}" for m, a in r["accuracy"].items()))
    if name.startswith("extract"):
        notes.append(f"+ {r['convert_s']:.1f} s conversion once; decode alone {r['decode_photos_per_s']:.0f} photos/s "
                     "(1 thread)")
    return "; ".join(n for n in notes if n)


def extrapolation(results: dict[str, dict]) -> pd.DataFrame:
    """Hours for the whole challenge's photos (train + test) by setup; see the module docstring's assumptions."""
    photos = REAL_TRAIN_PHOTOS + REAL_TEST_PHOTOS
    idx = results.get("index")
    index_h = photos / (idx["photos"] / idx["measured_s"]) / 3600 if idx else float("nan")
    rates = {size: r["photos"] / r["measured_s"] for size in (180, 224)
             if (r := results.get(f"extract {size}")) is not None}
    rows = []
    for workers in WORKERS:
        rows.append({"setup": f"{workers} x 2-core worker", "index h (client, 1 scan)": index_h,
                     **{f"extract {s} px h": photos / (rate * workers) / 3600 for s, rate in rates.items()}})
    for gpus in GPUS:
        rows.append({"setup": f"{gpus} x T4 (assumed rate)", "index h (client, 1 scan)": index_h,
                     **{f"extract {s} px h": photos / (GPU_ASSUMED[s] * gpus) / 3600 for s in rates}})
    return pd.DataFrame(rows)


def full_run(results: dict[str, dict]) -> pd.DataFrame:
    """Hours of a whole ``stackfold run`` (photos at 180 px, ``prior`` + ``efficientnet_nn``, top 20, the blends)
    by setup, each part scaled linearly from its measurement: the index (one scan on the client), extraction
    (over the workers), ``prior`` (its chunked top-k predictions), the head (its measured fit + predict per
    photo; a fold is one task, so at most 3 workers share it), the blends (per row; ``log_pool`` fits on a
    sample, so this is an upper bound) and the leaderboard (per row). The GPU rows assume the extraction rate
    of ``GPU_ASSUMED`` and the head on CPUs."""
    needed = ("index", "extract 180", "blends", "run prior", "run head")
    if any(name not in results for name in needed):
        return pd.DataFrame()
    idx, ext, head, prior = (results[n] for n in ("index", "extract 180", "run head", "run prior"))
    photos, train_rows = REAL_TRAIN_PHOTOS + REAL_TEST_PHOTOS, REAL_TRAIN_PRODUCTS
    index_h = photos / (idx["photos"] / idx["measured_s"]) / 3600
    head_h = (head["head_fit_s"] + head["head_predict_s"]) * REAL_TRAIN_PHOTOS / head["photos"] / 3600
    blends_h = results["blends"]["measured_s"] * train_rows / results["blends"]["products"] / 3600
    board_h = prior["steps"]["leaderboard leaderboard"] * train_rows / prior["products"] / 3600
    prior_h = prior["steps"]["base prior"] * train_rows / prior["products"] / 3600
    rate = ext["photos"] / ext["measured_s"]
    rows = []
    for setup, extract_rate, workers in [*((f"{w} x 2-core worker", rate * w, w) for w in WORKERS),
                                         *((f"{g} x T4 (assumed) + 32 CPU workers", GPU_ASSUMED[180] * g, 32)
                                           for g in GPUS)]:
        parts = {"index h": index_h, "extract h": photos / extract_rate / 3600,
                 "prior h": prior_h, "head h": head_h / min(workers, 3), "blends h": blends_h,
                 "leaderboard h": board_h}
        rows.append({"setup": setup, **parts, "total h": sum(parts.values())})
    return pd.DataFrame(rows)


def index_at_full_size(r: dict) -> dict:
    """The index of all the challenge's photos: size on disk, and the build's peak RSS (what it adds to the loaded
    interpreter, scaled linearly in photos, plus the interpreter)."""
    scale = (REAL_TRAIN_PHOTOS + REAL_TEST_PHOTOS) / r["photos"]
    return {"index_gb": r["index_bytes"] * scale / 1e9,
            "train_index_peak_gib": ((r["own_peak_bytes"] - r["baseline_rss_bytes"]) * REAL_TRAIN_PHOTOS / r["photos"]
                                     + r["baseline_rss_bytes"]) / GIB}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=575_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sample", type=int, default=3000)
    parser.add_argument("--data-root", type=Path, default=Path("bench-data"))
    parser.add_argument("--work", type=Path, default=Path("bench-runs/cdiscount_scale"))
    parser.add_argument("--steps", type=lambda s: s.split(","), default=[name for name, _ in STEPS])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    label = f"{args.products}-{args.seed}"
    ctx = Context(args.data_root / f"cdiscount-twin-{label}", args.work / label, args.products, args.seed,
                  args.sample)
    ctx.work.mkdir(parents=True, exist_ok=True)
    if args.child:
        run_child(ctx, args.child)
        return
    uptime_start = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    results: dict[str, dict] = {}
    for name in args.steps:
        results[name] = measure(ctx, name, args, args.work / f"{label}.log")
        print(f"{name}: {results[name].get('measured_s', 0):.1f} s", flush=True)
    uptime_end = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    table, projected = measured_table(results), extrapolation(results)
    print(f"\n## Measured: twin of {args.products:,} products, seed {args.seed}, on {os.cpu_count()} cores\n")
    print(table.to_markdown(index=False, floatfmt=",.1f"))
    print(f"\nload: start `{uptime_start}`; end `{uptime_end}`")
    print(f"\n## Extrapolated: {REAL_TRAIN_PHOTOS + REAL_TEST_PHOTOS:,} photos ({REAL_PRODUCTS:,} products)\n")
    print(projected.to_markdown(index=False, floatfmt=",.2f"))
    whole = full_run(results)
    if not whole.empty:
        print(f"\n## A whole run, extrapolated ({REAL_TRAIN_PHOTOS:,} training photos; see `full_run`)\n")
        print(whole.to_markdown(index=False, floatfmt=",.2f"))
    full = index_at_full_size(results["index"]) if "index" in results else {}
    if full:
        print(f"\nindex of every photo: {full['index_gb']:.2f} GB on disk; train.bson's index build peak about "
              f"{full['train_index_peak_gib']:.1f} GiB (target <= {TARGET_PEAK_GIB}); both linear in photos")
    payload = {"products": args.products, "seed": args.seed, "sample": args.sample, "cores": os.cpu_count(),
               "uptime_start": uptime_start, "uptime_end": uptime_end, "steps": results,
               "extrapolation": projected.to_dict("records"), "full_run": whole.to_dict("records"),
               "index_full_size": full, "gpu_assumed": GPU_ASSUMED}
    out = args.work / f"{label}.json"
    out.write_text(json.dumps(payload, indent=1))
    print(f"\nfigures: {out}")


if __name__ == "__main__":
    main()
