"""Benchmark: the full `stackfold run` on a synthetic twin, with wall time, peak memory and the leaderboard.

    .venv/bin/python bench/pipeline.py --products 20000 --seed 0 [--data DIR] [--out DIR] [--no-images]

Generates the twin into DIR unless it already holds one, runs every default base model and
the LightGBM stacker, and prints the leaderboard with the stack's margin over the best base model.
"""

import argparse
import resource
import time
from pathlib import Path

from stackfold.synthetic import write_demo_data
from stackfold.config import load_config
from stackfold.pipeline import run_pipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-size", type=int, default=500)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--no-images", action="store_true")
    args = parser.parse_args()
    data = args.data or Path(f"bench-data/twin-{args.products}-{args.seed}-{args.image_size}")
    out = args.out or Path(f"bench-runs/pipeline-{args.products}-{args.seed}")

    start = time.perf_counter()
    if not (data / "X_train_update.csv").is_file():
        write_demo_data(data, n_products=args.products, seed=args.seed, image_size=args.image_size)
    generated = time.perf_counter()
    config_path = out.parent / f"{out.name}.toml"
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(f"seed = {args.seed}\nimages = {'false' if args.no_images else 'true'}\n")
    summary = run_pipeline(data, out, load_config(config_path))
    finished = time.perf_counter()

    board = summary.leaderboard
    print(board.to_markdown(index=False, floatfmt=".4f"))
    best_base = board[board["level"] == "base"]["wf1_mean"].max()
    best_stack = board[board["level"] == "stack"]["wf1_mean"].max()
    print(f"\nproducts {args.products}  seed {args.seed}  images {not args.no_images}")
    print(f"generate {generated - start:.1f} s  pipeline {finished - generated:.1f} s")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2:.2f} GiB")
    print(f"stack - best base: {best_stack - best_base:+.4f} weighted F1 ({'PASS' if best_stack > best_base else 'FAIL'})")


if __name__ == "__main__":
    main()
