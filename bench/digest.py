"""Benchmark: the demo's outputs are byte-identical to the committed digest (refactors change no result).

    .venv/bin/python bench/digest.py [--work DIR] [--update]

Runs what `make demo` runs (the 1,500-product synthetic twin, seed 0, the default configuration)
in DIR, then hashes ``submissions/best.csv``, ``leaderboard.csv`` without its two timing columns
(``fit_s``, ``predict_s`` are wall-clock seconds) and every model's and stacker's OOF and test
parquet. Prints each file that differs from ``bench/digest.json`` and exits 1 if any does;
``--update`` rewrites the committed digest instead (only after a change meant to alter results).
"""

import argparse
import hashlib
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

DIGEST = Path(__file__).with_name("digest.json")
PRODUCTS, SEED = 1500, 0
TIMING_COLUMNS = ["fit_s", "predict_s"]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run_digest(run: Path) -> dict[str, str]:
    """sha256 of every compared file of the run folder ``run``, by path relative to it."""
    leaderboard = pd.read_csv(run / "leaderboard.csv", keep_default_na=False, dtype=str)
    buffer = io.StringIO()
    leaderboard.drop(columns=TIMING_COLUMNS).to_csv(buffer, index=False)
    digest = {
        "submissions/best.csv": _sha256((run / "submissions" / "best.csv").read_bytes()),
        "leaderboard.csv (without fit_s, predict_s)": _sha256(buffer.getvalue().encode()),
    }
    for path in sorted([*run.glob("models/*/*.parquet"), *run.glob("stackers/*/*.parquet")]):
        digest[path.relative_to(run).as_posix()] = _sha256(path.read_bytes())
    return digest


def _stackfold(*args: str) -> None:
    subprocess.run([str(Path(sys.executable).with_name("stackfold")), *args], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("bench-runs/digest"))
    parser.add_argument("--update", action="store_true", help="write the digest instead of comparing")
    args = parser.parse_args()
    data, run = args.work / "data", args.work / "run"
    start = time.perf_counter()
    if not (data / "X_train_update.csv").is_file():
        _stackfold("demo-data", str(data), "--products", str(PRODUCTS), "--seed", str(SEED))
    _stackfold("run", str(data), "--out", str(run))
    digest = run_digest(run)
    print(f"digest of {len(digest)} files in {time.perf_counter() - start:.0f} s")
    if args.update:
        DIGEST.write_text(json.dumps(digest, indent=2) + "\n")
        print(f"wrote {DIGEST}")
        return
    committed = json.loads(DIGEST.read_text())
    differing = sorted(name for name in committed.keys() | digest.keys() if committed.get(name) != digest.get(name))
    for name in differing:
        print(f"DIFFERS {name}: committed {committed.get(name, 'absent')[:12]}, now {digest.get(name, 'absent')[:12]}")
    print(f"{len(committed) - len(differing)}/{len(committed)} files byte-identical to {DIGEST.name}")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
