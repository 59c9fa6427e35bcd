"""Benchmark arithmetic: the full-size run's measured task seconds, list-scheduled onto more cores or machines.

    .venv/bin/python bench/scale_out.py [--work bench-runs/full_size] [--size 84916] [--workers 1,4,8,16,32]

Reads what ``bench/full_size.py`` measured at ``--size`` (``WORK/<size>.json``: each step's seconds, cold)
and the run folder's manifests (``WORK/run-<size>/models/*/manifest.json``: each fold's fit and predict
seconds). A *worker* is what ran here: 2 cores running one task at a time with ``n_jobs = 2``. A machine
of C cores is C / 2 such workers (``stackfold run --scheduler local:<C/2>``, ``n_jobs = 2``), a Dask
cluster of N two-core machines is N workers. The model, level by level as ``stackfold run`` on a cluster
submits them:

- views: ``text``, ``sentence`` and ``efficientnet`` in partitions of 2,048 products, spread over the
  workers; the n-gram counts (``word_counts``, ``char_counts``) on the client alone;
- base models: one task per fold (its fit + predict seconds), longest first; the rest of each model's
  step (loading its views, assembling the OOF) on the client;
- stackers: each stacker's step as 6 equal tasks (5 folds and the refit on all rows);
- the client alone: data check, leaderboard, SHAP shares, report, and the process start.

Assumptions, said as such: a task takes the seconds it took here (same per-core speed; on this machine two
tasks at once took 21 % longer each than one at a time, bench/cluster.py, and a bigger machine's shared memory
bandwidth may cost the same); Dask's own overhead (measured <= 1 % of a fit's compute in bench/cluster.py) and
data transfer are left out. With 1 worker the model is compared with the measured wall.
"""

import argparse
import json
import math
from pathlib import Path

import pandas as pd
from schedule import list_schedule  # bench/schedule.py, beside this script

PARTITIONED_VIEWS = ("view text", "view sentence", "view efficientnet")
PARTITION_ROWS = 2048
STACKER_TASKS = 6  # 5 folds and the refit on all rows


def levels(result: dict, run: Path) -> tuple[float, list[float], list[float], list[float]]:
    """(client seconds, view partition tasks, base fold tasks, stacker tasks) of a measured run."""
    products = result["size"] + result["test_products"]
    client, views, base, stack = result["startup_s"], [], [], []
    for step in result["steps"]:
        kind, name = step["step"].split(" ", 1)
        seconds = step["seconds"]
        if step["step"] in PARTITIONED_VIEWS:
            parts = math.ceil(products / PARTITION_ROWS)
            views += [seconds / parts] * parts
        elif kind == "base":
            folds = json.loads((run / "models" / name / "manifest.json").read_text())["folds"]
            tasks = [f["fit_s"] + f["predict_s"] for f in folds]
            base += tasks
            client += max(seconds - sum(tasks), 0.0)
        elif kind == "stack":
            stack += [seconds / STACKER_TASKS] * STACKER_TASKS
        else:
            client += seconds
    return client, views, base, stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("bench-runs/full_size"))
    parser.add_argument("--size", type=int, default=84_916)
    parser.add_argument("--workers", default="1,4,8,16,32", type=lambda s: [int(x) for x in s.split(",")])
    args = parser.parse_args()
    result = json.loads((args.work / f"{args.size}.json").read_text())
    client, views, base, stack = levels(result, args.work / f"run-{args.size}")
    rows = []
    for workers in args.workers:
        view_s = list_schedule(views, workers)
        base_s = list_schedule(sorted(base, reverse=True), workers)
        stack_s = list_schedule(sorted(stack, reverse=True), workers)
        rows.append({"workers (2 cores each)": workers, "cores": 2 * workers, "client s": client,
                     "views s": view_s, "base models s": base_s, "longest fold s": max(base), "stackers s": stack_s,
                     "total min": (client + view_s + base_s + stack_s) / 60})
    table = pd.DataFrame(rows).astype({"workers (2 cores each)": str, "cores": str})
    print(table.to_markdown(index=False, floatfmt=".1f"))
    print(f"\nmeasured wall on 2 cores: {result['wall_s'] / 60:.1f} min (load {result['load_mean']:.2f} mean); "
          f"{len(base)} fold tasks, {len(views)} view partitions, {len(stack)} stacker tasks")


if __name__ == "__main__":
    main()
