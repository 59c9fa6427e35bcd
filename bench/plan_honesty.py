"""Benchmark: does a time-limited run keep to its limit, and does its plan predict its time?

    .venv/bin/python bench/plan_honesty.py [--twin-sizes 5000,20000] [--limits 3m,10m,30m] [--real DIR]
        [--real-limit 2h] [--out bench-runs/plan_honesty] [--data-root bench-data]

For each twin size (written once under ``--data-root``, as ``bench/full_size.py`` does) and each limit, a cold
``stackfold run --time-limit LIMIT`` (photos included), then, with ``--real``, one on the real Rakuten rows
(``--no-images``: the real extract's photos cover a subset of its rows). Prints, per run: the limit, the plan's
predicted total (``plan.json``), the process's wall time, the error of the prediction, whether the run kept to its
limit, what the plan ran / left out / skipped, the best leaderboard row and its CV score, and the machine's load.
The plans printed by each run are in ``--out``/<name>.log.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

STACKFOLD = Path(sys.executable).parent / "stackfold"


def twin(root: Path, size: int) -> Path:
    """The twin of ``size`` products under ``root``, written once."""
    data = root / f"twin-{size}"
    if not (data / "X_train_update.csv").is_file():
        subprocess.run([str(STACKFOLD), "demo-data", str(data), "--products", str(size), "--seed", "0"], check=True)
    return data


def timed_run(name: str, data: Path, out: Path, limit: str, extra: list[str]) -> dict:
    """One cold time-limited run (its folder emptied first); its plan, wall time and best row."""
    run = out / name
    subprocess.run(["rm", "-rf", str(run)], check=True)
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    with open(out / f"{name}.log", "w") as log:
        subprocess.run([str(STACKFOLD), "run", str(data), "--out", str(run), "--time-limit", limit, *extra],
                       stdout=log, stderr=subprocess.STDOUT, check=True)
    wall = time.perf_counter() - start
    plan = json.loads((run / "plan.json").read_text())
    board = pd.read_csv(run / "leaderboard.csv")
    counts = pd.Series([d["decision"] for d in plan["decisions"]]).value_counts()
    limit_s = plan["time_limit_s"]
    return {
        "run": name, "limit_s": limit_s, "speed": plan["speed"], "predicted_s": plan["predicted_s"],
        "actual_s": round(wall, 1), "error": f"{plan['predicted_s'] / wall - 1:+.0%}",
        "kept": "yes" if wall <= limit_s else f"over by {wall - limit_s:.0f} s",
        "ran": int(counts.get("run", 0)), "left_out": int(counts.get("left out", 0)),
        "skipped": int(counts.get("skipped", 0)), "best_row": board["model"].iloc[0],
        "best_cv": round(float(board.iloc[0, 2]), 4), "load": f"{load_before:.1f}-{os.getloadavg()[0]:.1f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--twin-sizes", default="5000,20000", type=lambda s: [int(x) for x in s.split(",") if x])
    parser.add_argument("--limits", default="3m,10m,30m", type=lambda s: [x for x in s.split(",") if x])
    parser.add_argument("--real", type=Path, default=None)
    parser.add_argument("--real-limit", default="2h")
    parser.add_argument("--out", type=Path, default=Path("bench-runs/plan_honesty"))
    parser.add_argument("--data-root", type=Path, default=Path("bench-data"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in args.twin_sizes:
        data = twin(args.data_root, size)
        for limit in args.limits:
            rows.append(timed_run(f"twin{size}-{limit}", data, args.out, limit, ["--no-report"]))
            print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
    if args.real is not None:
        rows.append(timed_run(f"real-{args.real_limit}", args.real, args.out, args.real_limit,
                              ["--no-images", "--no-report"]))
    print(pd.DataFrame(rows).to_markdown(index=False))


if __name__ == "__main__":
    main()
