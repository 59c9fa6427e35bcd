"""Benchmark: the default `stackfold run`, cold, at the Rakuten challenge's size, step by step.

    .venv/bin/python bench/full_size.py [--sizes 5000,20000,84916] [--work bench-runs/full_size]
        [--data-root bench-data] [--add-model NAME] [--reuse]

For each size (training products; test products in the challenge's proportion, 13,812 at
84,916) it writes the synthetic twin with 500 px photos once (kept in ``--data-root`` for the
next invocation), then runs ``stackfold run`` with every default model and stacker, text and
photos, in a new run folder, and reads the run's ``timeline.csv``: one row per step (each
feature view built, each model's 5-fold CV, each stacker, the leaderboard, the SHAP shares and
the report). For each step it prints the seconds, the peak RSS of the whole process tree
(sampled every 0.2 s, and never below the run process's own high-water mark for the step), and
the run folder's size on disk once the step ended; then each step's cost ratio from the
second-largest size to the largest, the ETA the run showed against the time that actually
remained at 25 / 50 / 75 % of the run (as shown, and replayed through the installed code's costs:
costs measured at one size checked on the others), and the machine's load average during each run.

At the largest size it then adds ``--add-model`` to the finished run and runs it again (warm:
views cached, every other model reused): the seconds that takes, and which steps it ran.

Each run's figures are saved as ``WORK/<size>.json``; ``--reuse`` prints saved sizes instead
of running them again. The targets (issue 21): whole run <= 90 min, warm rerun <= 10 min,
peak RSS <= 8 GiB, run folder <= 6 GB, no step's 20k -> 85k cost ratio above 5.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import psutil

from stackfold.core.estimator import COST_BASE_MODELS
from stackfold.ensembles import get_stacker
from stackfold.explain import EXPLAIN_COST
from stackfold.features.views import VIEWS, view_params
from stackfold.models import get_model
from stackfold.pipeline import LEADERBOARD_COST
from stackfold.progress import Pace, Step
from stackfold.report.build import REPORT_COST
from stackfold.synthetic import write_demo_data

STACKFOLD = Path(sys.executable).parent / "stackfold"
IMAGE_SIZE, SEED = 500, 0
TARGETS = {"run_minutes": 90, "warm_minutes": 10, "peak_gib": 8, "disk_gb": 6, "ratio": 5}
GIB = 1024**3


class TreeSampler:
    """Samples the resident memory of a process and all its children, and the load average, in a thread."""

    def __init__(self, pid: int, interval: float = 0.2):
        self.process = psutil.Process(pid)
        self.interval = interval
        self.samples: list[tuple[float, int]] = []  # (seconds since start, bytes)
        self.loads: list[float] = []
        self.start = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _rss(self) -> int:
        total = 0
        for process in [self.process, *self.process.children(recursive=True)]:
            try:
                total += process.memory_info().rss
            except psutil.Error:  # ended between the listing and the reading
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append((time.perf_counter() - self.start, self._rss()))
            except psutil.Error:
                return
            self.loads.append(os.getloadavg()[0])
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float, stop: float) -> int:
        """Largest sampled tree RSS between ``start`` and ``stop`` seconds after the sampler started."""
        inside = [rss for t, rss in self.samples if start <= t <= stop]
        return max(inside, default=0)


def twin(data_root: Path, products: int) -> Path:
    """The synthetic twin of ``products`` training products with 500 px photos, written once."""
    data = data_root / f"twin-{products}-{SEED}-{IMAGE_SIZE}"
    if not (data / "X_train_update.csv").is_file():
        started = time.perf_counter()
        write_demo_data(data, n_products=products, seed=SEED, image_size=IMAGE_SIZE)
        print(f"wrote the {products}-product twin in {time.perf_counter() - started:.0f} s", flush=True)
    return data


def run_stackfold(data: Path, run: Path, log: Path, models: list[str] | None = None) -> dict:
    """One ``stackfold run`` with its process tree sampled; wall seconds, steps from its timeline, load."""
    command = [str(STACKFOLD), "run", str(data), "--out", str(run)]
    if models:
        command += ["--models", ",".join(models)]
    started, started_at = time.perf_counter(), time.time()
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        sampler = TreeSampler(process.pid)
        code = process.wait()
        sampler.stop()
    wall = time.perf_counter() - started
    if code != 0:
        sys.exit(f"stackfold run failed ({code}); see {log}")
    timeline = pd.read_csv(run / "timeline.csv")
    # seconds from the process's start to the first step's (imports), to align the timeline on the samples
    offset = pd.Timestamp(timeline["started_at"].iloc[0]).timestamp() - started_at - timeline["started_s"].iloc[0]
    steps = []
    for row in timeline.itertuples():
        tree = sampler.peak(offset + row.started_s, offset + row.started_s + row.seconds)
        steps.append({"step": f"{row.kind} {row.name}", "seconds": row.seconds, "expected_s": row.expected_s,
                      "eta_s": None if pd.isna(row.eta_s) else row.eta_s, "started_s": row.started_s,
                      "peak_bytes": max(tree, int(row.peak_rss_bytes)), "disk_bytes": int(row.disk_bytes)})
    loads = sampler.loads or [float("nan")]
    return {"wall_s": wall, "startup_s": offset, "steps": steps, "peak_bytes": max(s for _, s in sampler.samples),
            "disk_bytes": int(timeline["disk_bytes"].iloc[-1]), "load_mean": sum(loads) / len(loads),
            "load_max": max(loads)}


def fit_predict_seconds(run: Path, step: str) -> tuple[float, float] | None:
    """(fit, predict) seconds over the folds from a model's or stacker's manifest."""
    kind, name = step.split(" ", 1)
    folder = {"base": "models", "stack": "stackers"}.get(kind)
    manifest = run / str(folder) / name / "manifest.json"
    if folder is None or not manifest.is_file():
        return None
    summary = json.loads(manifest.read_text())["summary"]
    return summary["fit_s"], summary["predict_s"]


def measure(size: int, args: argparse.Namespace) -> dict:
    saved = args.work / f"{size}.json"
    if args.reuse and saved.is_file():
        return json.loads(saved.read_text())
    data = twin(args.data_root, size)
    run = args.work / f"run-{size}"
    shutil.rmtree(run, ignore_errors=True)
    print(f"== cold run at {size} products ({time.strftime('%H:%M:%S')})", flush=True)
    result = run_stackfold(data, run, args.work / f"run-{size}.log")
    for step in result["steps"]:
        split = fit_predict_seconds(run, step["step"])
        step["fit_s"], step["predict_s"] = split if split else (None, None)
    result.update(size=size, test_products=sum(1 for _ in (data / "X_test_update.csv").open()) - 1)
    if size == max(args.sizes) and args.add_model:
        models = pd.read_csv(run / "timeline.csv").query("kind == 'base'")["name"].tolist()
        print(f"== warm rerun with {args.add_model} added ({time.strftime('%H:%M:%S')})", flush=True)
        warm = run_stackfold(data, run, args.work / f"warm-{size}.log", [*models, args.add_model])
        result["warm"] = {"model": args.add_model, **warm}
    saved.write_text(json.dumps(result, indent=1))
    return result


def _gib(n: float) -> str:
    return f"{n / GIB:.2f}"


def print_tables(results: list[dict]) -> None:
    sizes = [r["size"] for r in results]
    big, before = results[-1], results[-2] if len(results) > 1 else None
    order = [s["step"] for s in big["steps"]]
    rows = []
    for step in order:
        row: dict = {"step": step}
        for r in results:
            found = next((s for s in r["steps"] if s["step"] == step), None)
            row[f"s@{r['size']}"] = found["seconds"] if found else None
            row[f"GiB@{r['size']}"] = found["peak_bytes"] / GIB if found else None
        found = next(s for s in big["steps"] if s["step"] == step)
        row[f"fit+predict s@{big['size']}"] = (f"{found['fit_s']:.0f}+{found['predict_s']:.0f}"
                                               if found.get("fit_s") is not None else "")
        row[f"disk GB@{big['size']}"] = found["disk_bytes"] / 1e9
        if before is not None:
            small = row.get(f"s@{before['size']}")
            row[f"ratio {before['size']}->{big['size']}"] = found["seconds"] / small if small else None
        rows.append(row)
    table = pd.DataFrame(rows)
    print(table.to_markdown(index=False, floatfmt=".2f"))
    print()
    summary = pd.DataFrame([{
        "products": r["size"], "test": r["test_products"], "wall min": r["wall_s"] / 60,
        "startup s": r["startup_s"], "peak GiB": r["peak_bytes"] / GIB, "disk GB": r["disk_bytes"] / 1e9,
        "load mean": r["load_mean"], "load max": r["load_max"]} for r in results]).astype({"products": str, "test": str})
    print(summary.to_markdown(index=False, floatfmt=".2f"))
    print(f"\n2 cores ({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs seen); sizes {sizes}")
    for result in results:
        print(f"\nETA at {result['size']} as shown:", end="")
        _print_eta(result)
        print(f"ETA at {result['size']} replayed with the installed costs:", end="")
        _print_eta(replayed(result))
    _print_targets(big, before)


def _print_eta(result: dict) -> None:
    """The ETA shown at the last step start before 25 / 50 / 75 % of the run, against the time that remained."""
    steps = [s for s in result["steps"] if s["eta_s"] is not None]
    end = max(s["started_s"] + s["seconds"] for s in result["steps"])
    print("\n  at | step starting | shown | actually left | error")
    for fraction in (0.25, 0.50, 0.75):
        shown = [s for s in steps if s["started_s"] <= fraction * end]
        if not shown:
            print(f"  {fraction:.0%}: no ETA shown yet")
            continue
        step = shown[-1]
        left = end - step["started_s"]
        print(f"  {fraction:.0%} | {step['step']} at {step['started_s'] / 60:.1f} min | {step['eta_s'] / 60:.1f} min | "
              f"{left / 60:.1f} min | {step['eta_s'] / left - 1:+.0%}")


def planned_seconds(step: str, result: dict) -> float:
    """What the installed code's costs (``cost`` of each model and view) plan for ``step`` of a measured run."""
    kind, name = step.split(" ", 1)
    n_train, n_base = result["size"], sum(s["step"].startswith("base ") for s in result["steps"])
    if kind == "base":
        return get_model(name).cost.at(n_train)
    if kind == "stack":
        return get_stacker(name).cost.at(n_train, n_base / COST_BASE_MODELS)
    if kind == "view":
        view = VIEWS[name]
        return view.cost.at(n_train + result["test_products"],
                            view.cost_scale(view_params(name, {})) if view.cost_scale else 1.0)
    costs = {"leaderboard": LEADERBOARD_COST, "explain": EXPLAIN_COST, "report": REPORT_COST}
    return costs[kind].at(n_train) if kind in costs else 0.0


def replayed(result: dict) -> dict:
    """``result`` with each step's ETA as the installed costs would have shown it: its measured step seconds
    replayed through :class:`~stackfold.progress.Pace` (to check costs measured at one size on another)."""
    pace = Pace({tuple(s["step"].split(" ", 1)): planned_seconds(s["step"], result) for s in result["steps"]
                 if planned_seconds(s["step"], result) > 0})
    steps = []
    for s in result["steps"]:
        eta = pace.eta()
        kind, name = s["step"].split(" ", 1)
        pace.record(Step(kind, name, "", s["started_s"], s["seconds"], s["peak_bytes"],
                         pace.planned.get((kind, name), 0.0), eta))
        steps.append({**s, "eta_s": eta})
    return {**result, "steps": steps}


def _print_targets(big: dict, before: dict | None) -> None:
    print("\ntargets at", big["size"])
    checks = [("whole run", big["wall_s"] / 60, TARGETS["run_minutes"], "min"),
              ("peak RSS", big["peak_bytes"] / GIB, TARGETS["peak_gib"], "GiB"),
              ("run folder", big["disk_bytes"] / 1e9, TARGETS["disk_gb"], "GB")]
    if "warm" in big:
        checks.append((f"warm rerun (+{big['warm']['model']})", big["warm"]["wall_s"] / 60, TARGETS["warm_minutes"],
                       "min"))
    if before is not None:
        ratios = []
        for step in big["steps"]:
            small = next((s for s in before["steps"] if s["step"] == step["step"]), None)
            if small and small["seconds"] > 1:
                ratios.append((step["seconds"] / small["seconds"], step["step"]))
        worst = max(ratios)
        checks.append((f"largest step ratio ({worst[1]})", worst[0], TARGETS["ratio"], "x"))
    for name, value, target, unit in checks:
        print(f"  {name}: {value:.2f} {unit} (target <= {target}) {'PASS' if value <= target else 'MISS'}")
    if "warm" in big:
        ran = ", ".join(f"{s['step']} {s['seconds']:.0f} s" for s in big["warm"]["steps"])
        print(f"  warm rerun's steps: {ran}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="5000,20000,84916", type=lambda s: sorted(int(x) for x in s.split(",")))
    parser.add_argument("--work", type=Path, default=Path("bench-runs/full_size"))
    parser.add_argument("--data-root", type=Path, default=Path("bench-data"))
    parser.add_argument("--add-model", default="efficientnet_nn", help="model added for the warm rerun ('' for none)")
    parser.add_argument("--reuse", action="store_true", help="print saved sizes instead of running them again")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    results = [measure(size, args) for size in args.sizes]
    print_tables(results)


if __name__ == "__main__":
    main()
