"""Benchmark: text features and every text model's 5-fold OOF on a text-only synthetic twin.

    .venv/bin/python bench/text.py --products 85000 [--seed 0] [--data DIR] [--out DIR] [--models a,b,...]

Prints one table: wall seconds and CV weighted F1 of feature building (cold, then cached)
and of each text model, the LightGBM stack over them, and the run's peak RSS. ``--resume``
keeps the run folder of an interrupted bench (finished folds are reused; "cold" is then not cold).
Targets (85,000 products, 2 cores): features <= 300 s cold and <= 10 s cached; logreg and
linear_svc <= 300 s each; text_nn <= 900 s; text_forest <= 600 s; peak RSS <= 6 GiB; the best
text model >= 2 weighted-F1 points above tfidf_logreg (the calibration baseline).
"""

import argparse
import json
import resource
import shutil
import time
from pathlib import Path

import pandas as pd

from stackfold.competition import load_competition, rakuten
from stackfold.config import DEFAULT_MODELS, RunConfig, validate_config
from stackfold.features.store import FeatureStore
from stackfold.pipeline import run_pipeline
from stackfold.synthetic import write_demo_data

TEXT_VIEWS = ("text", "word_counts", "char_counts")


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def build_features(data: Path, cache: Path) -> float:
    """Seconds to build (or load) every text view into ``cache`` with a fresh store."""
    store = FeatureStore(load_competition(data, rakuten(), images=False), cache)
    start = time.perf_counter()
    for view in TEXT_VIEWS:
        store.get(view)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=85_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--models", default=",".join(m for m in DEFAULT_MODELS if m != "color_forest"))
    parser.add_argument("--resume", action="store_true", help="keep the run folder of an interrupted bench")
    args = parser.parse_args()
    data = args.data or Path(f"bench-data/text-{args.products}-{args.seed}")
    out = args.out or Path(f"bench-runs/text-{args.products}-{args.seed}")
    if not (data / "X_train_update.csv").is_file():
        write_demo_data(data, n_products=args.products, seed=args.seed, images=False)
    if not args.resume:
        shutil.rmtree(out, ignore_errors=True)

    rows = [{"step": "features (cold)", "seconds": build_features(data, out / "cache"), "wf1": None}]
    rows.append({"step": "features (cached)", "seconds": build_features(data, out / "cache"), "wf1": None})
    config = validate_config(
        RunConfig(images=False, seed=args.seed, models=tuple(args.models.split(",")), stackers=("lgbm",),
                  decisions=()),
        given=frozenset({"models"}),
    )
    start = time.perf_counter()
    run_pipeline(data, out, config)
    pipeline_seconds = time.perf_counter() - start
    for level in ("models", "stackers"):
        for manifest_path in sorted((out / level).glob("*/manifest.json")):
            manifest = json.loads(manifest_path.read_text())
            summary = manifest["summary"]
            rows.append({"step": manifest["name"], "seconds": summary["fit_s"] + summary["predict_s"],
                         "wf1": summary["wf1_mean"]})
    table = pd.DataFrame(rows)
    print(table.to_markdown(index=False, floatfmt=".4f"))
    scores = table.dropna().set_index("step")["wf1"]
    base = scores.drop(["lgbm", "prior", "tfidf_logreg"], errors="ignore")
    print(f"\nproducts {args.products}  train rows {len(pd.read_csv(data / 'Y_train_CVw08PX.csv'))}")
    print(f"pipeline wall {pipeline_seconds:.1f} s  peak RSS {peak_rss_gib():.2f} GiB")
    if "tfidf_logreg" in scores and len(base):
        print(f"best text model {base.idxmax()} {base.max():.4f} vs tfidf_logreg {scores['tfidf_logreg']:.4f}: "
              f"{base.max() - scores['tfidf_logreg']:+.4f}")
    if "lgbm" in scores and len(base):
        print(f"lgbm stack {scores['lgbm']:.4f} vs best base {base.max():.4f}: {scores['lgbm'] - base.max():+.4f}")


if __name__ == "__main__":
    main()
