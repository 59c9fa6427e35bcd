"""Benchmark: `stackfold run` on a Dask cluster against the local run, on the 20,000-product twin (text + images).

    .venv/bin/python bench/cluster.py [--products 20000] [--out bench-runs/cluster] [--workers 8]
        [--runs a,b,c,sim] [--seeded] [--reuse]

Makes the twin once (``stackfold demo-data OUT/twin-N --products N --seed 0 --image-size 64``, ~25 s),
then runs ``stackfold run --no-report`` as cold subprocesses, each in a fresh folder, with MODELS and
STACKERS (the text and image models that need no pretrained encoder): a) local, n_jobs = 2; b) local,
n_jobs = 1; c) on a LocalCluster of 2 single-threaded worker processes, n_jobs = 1: the cluster
``--scheduler local:2`` makes (``stackfold/cluster/connect.py``), started here and passed as
``--scheduler tcp://...`` so this script can read its scheduler; sim) the same on ``--workers`` workers
(oversubscribed on 2 cores: it measures the schedule, not speed). Wall seconds are whole runs, feature
views included (locally, or on a cluster the text view and colour and pixel extraction in partitions on
the workers, the n-gram counts on the client); ``--seeded`` also times a) and c) with ``cache/`` copied
from a) (the fits only). Targets:
c / a <= 1.1; b / c >= 1.7; c's OOF and test parquet files byte-identical to b's. What bounds b / c on
this machine: the same fits' seconds one at a time (b) and two at once (c), and b / c if c's task
seconds filled both workers with nothing else.

Task overhead (c): for each fit task (keys ``<model>-fold<k>-checkpoints-<key>``, ``<model>-refit-...``)
computing > 10 s, the non-compute time of its task-stream record (transfer, deserialize, disk-read/write)
over its compute time (<= 5%). Scatter: this script scatters each model's inputs as
``ClusterRunner._submit_folds`` does and times it. Peak RSS per worker: its ``ru_maxrss`` at the end.

Busy fraction (sim; c too, with 2): a task is *ready* from its scheduler transition to ``processing``
(inputs in memory, given to a worker; or ``queued``/``no-worker``) until its last task-stream stop; the
*window* is where >= W tasks (fits and feature partitions) are ready or running; a worker's busy fraction
is its compute time inside the window over the window's length (target >= 80% for each of the W workers).
"No task computing" is the time of the run's wall in which no worker computes (the client works alone).

Extrapolation: c's per-task compute seconds scaled to 84,916 train products (linear in rows; forests
n log n), list-scheduled in c's ready order (and longest first) onto 2N single-threaded workers (N machines
like this one), level by level, plus c's serial time (no task computing: loading, the n-gram counts, assembling,
publishing), scaled linearly; the text views computed alone here are printed beside it.
Each measurement is saved to ``OUT/<run>.json``; ``--reuse`` re-reads it instead of running again.
"""

import argparse
import json
import logging
import os
import pickle
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from dask.utils import key_split
from schedule import list_schedule  # bench/schedule.py, beside this script

ROOT = Path(__file__).resolve().parents[1]
STACKFOLD = Path(sys.executable).parent / "stackfold"
MODELS = ("prior", "tfidf_logreg", "logreg", "linear_svc", "complement_nb", "color_forest", "pixel_forest")
STACKERS = ("lgbm", "mean")
FORESTS = {"color_forest", "pixel_forest"}
FULL_TRAIN = 84_916
FIT_KEY = re.compile(r"^(?P<model>.+?)-(?:fold\d+|refit)-checkpoints-")
READY = ("processing", "queued", "no-worker")
LONG_TASK_S = 10.0


def ready_log() -> Any:
    """A scheduler plugin (added in-process) noting when each task first entered each state (``.times``)."""
    from distributed.diagnostics.plugin import SchedulerPlugin

    class ReadyLog(SchedulerPlugin):
        name = "bench-ready-log"

        def __init__(self) -> None:
            self.times: dict[str, dict[str, float]] = {}

        def transition(self, key: Any, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
            self.times.setdefault(str(key), {}).setdefault(finish, time.time())

    return ReadyLog()


def make_twin(out: Path, products: int) -> Path:
    data = out / f"twin-{products}"
    if not (data / "X_test_update.csv").is_file():
        start = time.perf_counter()
        subprocess.run([str(STACKFOLD), "demo-data", str(data), "--products", str(products), "--seed", "0",
                        "--image-size", "64"], check=True, stdout=subprocess.DEVNULL)
        print(f"twin: {products} products made in {time.perf_counter() - start:.0f} s")
    return data


def run_cold(data: Path, run: Path, n_jobs: int, scheduler: str | None = None, seed: Path | None = None) -> dict:
    """One `stackfold run` subprocess in a fresh ``run``: wall and CPU seconds, peak RSS of the run process."""
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    if seed is not None:
        shutil.copytree(seed, run / "cache")
    config = run.parent / f"{run.name}.toml"
    config.write_text(f"n_jobs = {n_jobs}\nmodels = {json.dumps(MODELS)}\nstackers = {json.dumps(STACKERS)}\n")
    cmd = [str(STACKFOLD), "run", str(data), "--out", str(run), "--config", str(config), "--no-report"]
    cmd += ["--scheduler", scheduler] if scheduler else []
    log = run.parent / f"{run.name}.log"
    with log.open("w") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}); see {log}")
    cpu = usage.ru_utime + usage.ru_stime
    return {"wall": wall, "cpu": cpu, "cpu_all": cpu, "rss_gib": usage.ru_maxrss / 2**20, "load": os.getloadavg()[0]}


def _usage() -> dict[str, float]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return {"rss_gib": r.ru_maxrss / 2**20, "cpu": r.ru_utime + r.ru_stime}


def run_on_cluster(data: Path, run: Path, workers: int, seed: Path | None = None, scatter: bool = False) -> dict:
    """``run_cold`` on a fresh LocalCluster of ``workers`` x 1 thread; its task stream, ready times, worker usage."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, silence_logs=logging.ERROR,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        ready = ready_log()
        cluster.scheduler.add_plugin(ready)
        client.get_task_stream(count=0)  # starts the scheduler's recording
        t0 = time.time()
        result = run_cold(data, run, 1, cluster.scheduler_address, seed)
        result["stream"] = [{"key": str(r["key"]), "worker": r["worker"], "nbytes": r.get("nbytes", 0),
                             "startstops": [{k: s[k] for k in ("action", "start", "stop")} for s in r["startstops"]]}
                            for r in client.get_task_stream(start=t0)]
        limits = [w["memory_limit"] for w in client.scheduler_info(n_workers=-1)["workers"].values()]
        result.update(ready=ready.times, workers=client.run(_usage), t0=t0, memory_limit_gib=min(limits) / 2**30)
        result["cpu_all"] = result["cpu"] + sum(w["cpu"] for w in result["workers"].values())
        if scatter:
            result["scatter"] = time_scatter(client, data, run)
    return result


def time_scatter(client: Any, data: Path, run: Path) -> list[dict]:
    """Seconds and pickled MB of scattering each base model's inputs, as ``ClusterRunner._submit_folds`` does."""
    from stackfold.competition.load import load_competition
    from stackfold.competition.challenges import get_spec
    from stackfold.features.store import FeatureStore
    from stackfold.models import get_model

    dataset = load_competition(data, get_spec("rakuten"))
    store, rows = FeatureStore(dataset, run / "cache"), []
    for name in MODELS:
        X, X_test = store.views(get_model(name).views)
        start = time.perf_counter()
        futures = client.scatter([X, dataset.y, X_test], hash=False)
        rows.append({"model": name, "s": time.perf_counter() - start,
                     "mb": len(pickle.dumps((X, dataset.y, X_test), protocol=5)) / 1e6})
        client.cancel(futures)
    return rows


def text_views(data: Path) -> dict:
    """Seconds of the text views computed here, cold (on a cluster the n-gram counts stay on the client)."""
    from stackfold.competition.load import load_competition
    from stackfold.competition.challenges import get_spec
    from stackfold.features.store import FeatureStore

    cache = Path("/tmp") / "stackfold-bench-cluster-text"
    shutil.rmtree(cache, ignore_errors=True)
    store, seconds = FeatureStore(load_competition(data, get_spec("rakuten"), images=False), cache), {}
    for view in ("text", "word_counts", "char_counts"):
        start = time.perf_counter()
        store.get(view)
        seconds[view] = time.perf_counter() - start
    return {"wall": sum(seconds.values()), "views": seconds}


def tasks(result: dict) -> list[dict]:
    """Each task of a cluster run: kind (model or feature function), worker, compute intervals, overhead, ready."""
    out = []
    for r in result["stream"]:
        compute = [(s["start"], s["stop"]) for s in r["startstops"] if s["action"] == "compute"]
        other: dict[str, float] = {}
        for s in r["startstops"]:
            if s["action"] != "compute":
                other[s["action"]] = other.get(s["action"], 0.0) + s["stop"] - s["start"]
        match, states = FIT_KEY.match(r["key"]), result["ready"].get(r["key"], {})
        out.append({"key": r["key"], "kind": match["model"] if match else key_split(r["key"]), "fit": bool(match),
                    "worker": r["worker"], "compute": compute, "other": other, "nbytes": r["nbytes"],
                    "compute_s": sum(b - a for a, b in compute),
                    "ready": min([t for state, t in states.items() if state in READY] or [compute[0][0]]),
                    "end": max(s["stop"] for s in r["startstops"])})
    return sorted(out, key=lambda t: t["ready"])


def busy_fractions(result: dict, workers: int, step: float = 0.05) -> tuple[float, dict[str, float], float]:
    """Window seconds (>= ``workers`` tasks ready or running), each worker's busy fraction in it, and the
    seconds of the run's wall in which no task computes."""
    ts = tasks(result)
    grid = np.arange(result["t0"], result["t0"] + result["wall"], step)
    window = sum(((grid >= t["ready"]) & (grid < t["end"])).astype(int) for t in ts) >= workers
    busy = {w: np.zeros(len(grid), bool) for w in result["workers"]}
    for t in ts:
        for a, b in t["compute"]:
            busy[t["worker"]] |= (grid >= a) & (grid < b)
    fractions = {w: float(b[window].mean()) if window.any() else float("nan") for w, b in busy.items()}
    return float(window.sum() * step), fractions, float((~np.any(list(busy.values()), axis=0)).sum() * step)


def extrapolate(result: dict, n_train: int) -> tuple[float, float, list[tuple[float, ...]]]:
    """c's serial seconds (no task computing) and its wall modelled from them plus its tasks list-scheduled on 2
    workers; then (machines, workers, serial, base level, the same longest task first, stack level seconds) of
    the full challenge on 1, 2, 4, 8 machines of 2 single-threaded workers."""
    rows = FULL_TRAIN / n_train
    ts = tasks(result)
    scale = {t["kind"]: rows * np.log(FULL_TRAIN) / np.log(n_train) if t["kind"] in FORESTS else rows for t in ts}
    base, stack = ([t["compute_s"] * scale[t["kind"]] for t in ts if (t["kind"] in STACKERS) == s] for s in (0, 1))
    serial = busy_fractions(result, 2)[2]
    modelled = serial + sum(list_schedule([t["compute_s"] for t in ts if (t["kind"] in STACKERS) == s], 2)
                            for s in (0, 1))
    return serial, modelled, [(n, 2 * n, serial * rows, list_schedule(base, 2 * n),
                               list_schedule(sorted(base, reverse=True), 2 * n), list_schedule(stack, 2 * n))
                              for n in (1, 2, 4, 8)]


def fit_seconds(run: Path) -> float:
    """Fit and predict seconds of every model and stacker of ``run``, summed from its leaderboard."""
    board = pd.read_csv(run / "leaderboard.csv")
    return float((board["fit_s"] + board["predict_s"]).sum())


def same_bytes(a: Path, b: Path) -> tuple[int, list[str]]:
    """How many OOF/test parquet files run ``a`` has, and which differ from run ``b``'s."""
    files = sorted(p.relative_to(a) for pattern in ("*/*/oof.parquet", "*/*/test.parquet") for p in a.glob(pattern))
    return len(files), [str(f) for f in files if not (b / f).is_file() or (a / f).read_bytes() != (b / f).read_bytes()]


def measure(name: str, out: Path, reuse: bool, run: Callable[[], dict]) -> dict:
    path = out / f"{name}.json"
    if reuse and path.is_file():
        return json.loads(path.read_text())
    result = run()
    path.write_text(json.dumps(result))
    print(f"  {name}: {result['wall']:.0f} s wall", flush=True)
    return result


def row(figure: str, value: str, target: str = "", met: bool | None = None) -> None:
    print(f"| {figure} | {value} | {target} | {'' if met is None else ('met' if met else 'missed')} |")


def report_cluster(name: str, result: dict, workers: int) -> None:
    """Per-task overhead of the long fits, scatter, worker memory and busy time, compute per task kind."""
    ts = tasks(result)
    long = [t for t in ts if t["fit"] and t["compute_s"] > LONG_TASK_S]
    shares = [sum(t["other"].values()) / t["compute_s"] for t in long]
    actions: dict[str, float] = {}
    for t in ts:
        for action, s in t["other"].items():
            actions[action] = actions.get(action, 0.0) + s
    waits = [t["compute"][0][0] - t["ready"] for t in ts]
    window, fractions, idle = busy_fractions(result, workers)
    print(f"\n## {name}: {workers} workers, {len(ts)} tasks ({sum(t['fit'] for t in ts)} fits), "
          f"{result['wall']:.0f} s wall\n\n| figure | value | target | |\n|---|---|---|---|")
    if long:
        worst = long[int(np.argmax(shares))]["key"][:36]
        row(f"non-compute / compute, {len(long)} fits > {LONG_TASK_S:.0f} s: median / worst",
            f"{100 * np.median(shares):.2f}% / {100 * max(shares):.2f}% ({worst})", "<= 5%", max(shares) <= 0.05)
    row("non-compute seconds, all tasks", ", ".join(f"{a} {s:.1f}" for a, s in sorted(actions.items())) or "none")
    row("task results (OOF blocks), total / largest MB", f"{sum(t['nbytes'] for t in ts) / 1e6:.0f} / "
        f"{max(t['nbytes'] for t in ts) / 1e6:.1f}")
    row("ready -> compute start, median / max s", f"{np.median(waits):.1f} / {max(waits):.1f}")
    row(f"window with >= {workers} tasks ready or running", f"{window:.0f} s of {result['wall']:.0f} s")
    row("busy fraction per worker in the window, min / mean", f"{100 * min(fractions.values()):.0f}% / "
        f"{100 * np.mean(list(fractions.values())):.0f}%", ">= 80%", min(fractions.values()) >= 0.8)
    row("no task computing (the client alone)", f"{idle:.0f} s of {result['wall']:.0f} s")
    rss = [w["rss_gib"] for w in result["workers"].values()]
    row("peak RSS per worker, min / max", f"{min(rss):.2f} / {max(rss):.2f} GiB",
        f"memory limit {result['memory_limit_gib']:.1f} GiB")
    row("client (run process): peak RSS, CPU s", f"{result['rss_gib']:.2f} GiB, {result['cpu']:.0f}")
    for entry in result.get("scatter", []):
        row(f"scatter of {entry['model']}'s inputs", f"{entry['s']:.2f} s, {entry['mb']:.0f} MB")
    print("\n| task kind | tasks | compute s, mean | compute s, sum |\n|---|---:|---:|---:|")
    for kind in dict.fromkeys(t["kind"] for t in ts):
        seconds = [t["compute_s"] for t in ts if t["kind"] == kind]
        print(f"| {kind} | {len(seconds)} | {np.mean(seconds):.1f} | {sum(seconds):.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-runs" / "cluster")
    parser.add_argument("--workers", type=int, default=8, help="workers of the simulated run")
    parser.add_argument("--runs", default="a,b,c,sim")
    parser.add_argument("--seeded", action="store_true", help="also time a) and c) with a pre-seeded feature cache")
    parser.add_argument("--reuse", action="store_true", help="re-read OUT/<run>.json instead of running again")
    args = parser.parse_args()
    began, out, runs = time.perf_counter(), args.out.resolve(), args.runs.split(",")
    out.mkdir(parents=True, exist_ok=True)
    data, folder = make_twin(out, args.products), out / "runs"
    print(f"models {', '.join(MODELS)}; stackers {', '.join(STACKERS)}; load average {os.getloadavg()[0]:.1f}")
    plan: dict[str, Callable[[], dict]] = {
        "a": lambda: run_cold(data, folder / "a", 2), "b": lambda: run_cold(data, folder / "b", 1),
        "c": lambda: run_on_cluster(data, folder / "c", 2, scatter=True),
        "a_seeded": lambda: run_cold(data, folder / "a_seeded", 2, seed=folder / "a" / "cache"),
        "c_seeded": lambda: run_on_cluster(data, folder / "c_seeded", 2, seed=folder / "a" / "cache"),
        "sim": lambda: run_on_cluster(data, folder / "sim", args.workers)}
    wanted = runs + (["a_seeded", "c_seeded"] if args.seeded else [])
    r = {name: measure(name, out, args.reuse, run) for name, run in plan.items() if name in wanted}
    text = measure("text", out, args.reuse, lambda: text_views(data))

    print(f"\n## {args.products}-product twin, whole runs (features included unless seeded), 2 cores\n")
    print("| run | wall s | CPU s, run process (+ workers) | peak RSS GiB, run process | load average after |\n"
          "|---|---:|---:|---:|---:|")
    for name, result in r.items():
        print(f"| {name} | {result['wall']:.0f} | {result['cpu']:.0f} ({result['cpu_all']:.0f}) | "
              f"{result['rss_gib']:.2f} | {result['load']:.1f} |")
    print("\n| figure | value | target | |\n|---|---|---|---|")
    for c, a, b in (("c", "a", "b"), ("c_seeded", "a_seeded", "")):
        if c in r and a in r:
            ratio = r[c]["wall"] / r[a]["wall"]
            row(f"{c} / {a} wall (2 workers vs local n_jobs = 2)", f"{ratio:.2f}", "<= 1.10", ratio <= 1.1)
        if c in r and b in r:
            ratio = r[b]["wall"] / r[c]["wall"]
            row(f"{b} / {c} wall (local n_jobs = 1 vs 2 workers)", f"{ratio:.2f}x", ">= 1.7x", ratio >= 1.7)
    if "b" in r and "c" in r:
        solo, pair = fit_seconds(folder / "b"), fit_seconds(folder / "c")
        row("fit + predict s of every model, from the leaderboards: b (one at a time) / c (two at once)",
            f"{solo:.0f} / {pair:.0f} (x{pair / solo:.2f})")
        bound = r["b"]["wall"] / (sum(t["compute_s"] for t in tasks(r["c"])) / 2)
        row("b / c wall if c's task seconds filled both workers, no other second", f"{bound:.2f}x")
        n, differ = same_bytes(folder / "b", folder / "c")
        row("c's OOF and test parquet files byte-identical to b's", f"{n - len(differ)} of {n}"
            + (f" (differ: {', '.join(differ)})" if differ else ""), "all", not differ)
    for name in ("c", "c_seeded", "sim"):
        if name in r:
            report_cluster(name, r[name], args.workers if name == "sim" else 2)
    if "c" in r:
        serial, modelled, table = extrapolate(r["c"], args.products)
        print(f"\n## Full challenge ({FULL_TRAIN:,} train products) on N machines of 2 single-threaded workers\n\n"
              f"From c: serial (no task computing) {serial:.0f} s; the text views computed alone {text['wall']:.0f} s ("
              + ", ".join(f"{k} {v:.1f}" for k, v in text["views"].items()) + f"); serial + c's tasks list-scheduled "
              f"on 2 workers {modelled:.0f} s (c's wall {r['c']['wall']:.0f} s). The twin's images are 64 px: real "
              "500 px photos decode slower.\n")
        print("| machines | workers | serial s | base level s | base level, longest first s | stack level s "
              "| total min |\n|---:|---:|---:|---:|---:|---:|---:|")
        for n, w, serial, base, longest, stack in table:
            print(f"| {n} | {w} | {serial:.0f} | {base:.0f} | {longest:.0f} | {stack:.0f} | "
                  f"{(serial + base + stack) / 60:.1f} |")
    print(f"\nbench: {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
