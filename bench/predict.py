"""Benchmark: `stackfold predict` on new products, against the time its feature encoders alone take.

    .venv/bin/python bench/predict.py [--products 5000] [--new 2000] [--modes text,photos]
        [--work bench-runs/predict] [--data-root bench-data]
    .venv/bin/python bench/predict.py --run RUN --new-data DATA   (a finished run, products of a test file)

For each mode (``text``: ``--no-images``, every default text model; ``photos``: every default model) it
trains a run on the synthetic twin of ``--products`` training products (once; kept in ``--work``), then
predicts ``--new`` products it never saw (the training products of a twin of another seed, laid out as a
test file) twice, each cold (the new products' views are removed from the run's cache first):

* ``stackfold predict RUN NEW --out SUB.csv``: the whole command, in its own process;
* the encoders alone: a process that only builds the views the run's base models read, for the same
  products, with the run's parameters and vocabularies (what ``predict`` does before any model runs).

With ``--run`` and ``--new-data`` it measures that run on the test file of that data folder instead (its own
test set: the submission is then compared with the run's ``best.csv``, byte for byte).

It prints products/s of each, and the overhead of ``predict`` over the encoders: loading the saved fold
models, their predictions, the stacker, writing the submission (target: at most 10%). The machine's load
average is printed beside the figures: timings on a shared machine swing, so compare within one run.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

STACKFOLD = Path(sys.executable).with_name("stackfold")
ENCODERS = """
import sys
from pathlib import Path
from stackfold.competition.load import load_test
from stackfold.competition.challenges import get_spec
from stackfold.features.store import FeatureStore, ViewStates
from stackfold.models import get_model
from stackfold.predict import run_config
from stackfold.run_folder import Level, RunFolder

run = RunFolder(Path(sys.argv[1]))
config = run_config(run)
dataset = load_test(Path(sys.argv[2]), get_spec(config.competition), images=config.images)
keys, views = {}, []
for name in config.models:
    keys.update(run.manifest(Level.BASE, name).get("views", {}))
    views += [v for v in get_model(name).views if v not in views]
store = FeatureStore(dataset, run.cache, config.features, config.on_bad_image, config.n_jobs,
                     states=ViewStates(run.view_states, keys))
store.views(tuple(views))
"""


def _timed(command: list[str], what: str) -> float:
    """Wall seconds of ``command``; its output goes to a log beside nothing: a failure prints its last lines."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{what} failed ({' '.join(map(str, command))}):\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def _twin(data_root: Path, products: int, seed: int) -> Path:
    folder = data_root / f"twin-{products}-{seed}-500"
    if not (folder / "X_train_update.csv").is_file():
        _timed([str(STACKFOLD), "demo-data", str(folder), "--products", str(products), "--seed", str(seed)],
               "writing the twin")
    return folder


def _new_products(twin: Path, folder: Path) -> Path:
    """The twin's training products as the test file (and photos) of a data folder of their own."""
    if not (folder / "X_test_update.csv").is_file():
        (folder / "images").mkdir(parents=True, exist_ok=True)
        shutil.copy(twin / "X_train_update.csv", folder / "X_test_update.csv")
        (folder / "images" / "image_test").symlink_to((twin / "images" / "image_train").resolve())
    return folder


def _cold(run: Path, kept: set[str]) -> None:
    """Remove the cache entries made after the run (the new products' views)."""
    for entry in (run / "cache").iterdir():
        if entry.name not in kept:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def measure(mode: str, train: Path | None, new: Path, work: Path, run: Path | None = None) -> dict:
    """Train (unless ``run`` is given), then time the encoders alone and ``stackfold predict``, each cold; a given
    ``run`` predicts its own test set, whose submission must be its ``best.csv``."""
    own_test = run is not None
    run = run or work / f"run-{mode}-{train.name}"
    if not (run / "config.toml").is_file():
        flags = ["--no-images"] if mode == "text" else []
        seconds = _timed([str(STACKFOLD), "run", str(train), "--out", str(run), "--no-report", *flags], "the run")
        print(f"{mode}: trained {run} in {seconds:.0f} s", flush=True)
    if not (run / "kept-cache.txt").is_file():  # the run's own views: what a cold prediction starts from
        (run / "kept-cache.txt").write_text("\n".join(sorted(p.name for p in (run / "cache").iterdir())))
    kept = set((run / "kept-cache.txt").read_text().split())
    n_new = len(pd.read_csv(new / "X_test_update.csv", usecols=[0]))
    _cold(run, kept)
    encoders = _timed([sys.executable, "-c", ENCODERS, str(run), str(new)], "the encoders")
    _cold(run, kept)
    load = os.getloadavg()[0]
    submission = work / f"{mode}.csv"
    predict = _timed([str(STACKFOLD), "predict", str(run), str(new), "--out", str(submission)], "predict")
    row = {"mode": mode, "products": n_new}
    if own_test:
        row["best.csv again"] = submission.read_bytes() == (run / "submissions" / "best.csv").read_bytes()
    return {**row, "encoders s": round(encoders, 1), "predict s": round(predict, 1),
            "encoders products/s": round(n_new / encoders, 1), "predict products/s": round(n_new / predict, 1),
            "overhead": f"{(predict - encoders) / encoders:+.1%}", "load (1 min)": round(load, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=5000, help="training products of the run")
    parser.add_argument("--new", type=int, default=2000, help="new products to predict")
    parser.add_argument("--modes", default="text,photos", help="text (no photos) and/or photos (every default)")
    parser.add_argument("--work", type=Path, default=Path("bench-runs/predict"))
    parser.add_argument("--data-root", type=Path, default=Path("bench-data"))
    parser.add_argument("--run", type=Path, help="a finished run to measure (trained by nobody here)")
    parser.add_argument("--new-data", type=Path, help="with --run: the folder whose test file it predicts")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.run is not None:
        images = "images = true" in (args.run / "config.toml").read_text()
        row = measure("photos" if images else "text", None, args.new_data, args.work, args.run)
        print(pd.DataFrame([row]).to_markdown(index=False))
        return
    train = _twin(args.data_root, args.products, 0)
    new = _new_products(_twin(args.data_root, args.new, 1), args.work / f"new-{args.new}")
    rows = [measure(mode, train, new, args.work) for mode in args.modes.split(",")]
    print(f"\n`stackfold predict` of {args.new} new products, runs trained on {args.products} "
          f"(2 cores, {os.cpu_count()} CPUs seen)\n")
    print(pd.DataFrame(rows).to_markdown(index=False))


if __name__ == "__main__":
    main()
