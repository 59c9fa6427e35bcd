"""Shared fixtures: the real challenge samples in ../shared, the CLI run in-process, a disk that fills up."""

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

if os.environ.get("PYTEST_XDIST_WORKER"):  # one of `make test`'s parallel workers: one core's worth of threads each
    for variable in ("STACKFOLD_N_JOBS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")  # before stackfold, numpy or TensorFlow is imported

import pytest  # noqa: E402

from machine import needs_root, unavailable  # noqa: E402
from stackfold import cli  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _shared(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.is_dir():
        unavailable(f"real sample {path} not found (CI provides ../shared beside the clone)")
    return path


@pytest.fixture(scope="session")
def rakuten_sample() -> Path:
    """The unmodified real Rakuten extract (read-only)."""
    return _shared("rakuten-sample")


@pytest.fixture(scope="session")
def rakuten_real() -> Path:
    """The 1,795 unmodified real labelled Rakuten rows (read-only; rows 0..299 are the sample's)."""
    return _shared("rakuten-real")


@pytest.fixture(scope="session")
def cdiscount_sample() -> Path:
    """The unmodified official Cdiscount 82-product example folder (read-only)."""
    return _shared("cdiscount-sample")


@pytest.fixture
def sample_copy(rakuten_sample: Path, tmp_path: Path) -> Path:
    """A writable copy of the real sample's three CSVs, for corrupting."""
    target = tmp_path / "data"
    target.mkdir()
    for name in ("X_train_update.csv", "Y_train_CVw08PX.csv", "X_test_update.csv"):
        shutil.copy(rakuten_sample / name, target / name)
    return target


@pytest.fixture
def run_cli(monkeypatch, capsys):
    """Run ``stackfold ARGS`` in-process; return (exit code, stdout, stderr)."""

    def invoke(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["stackfold", *map(str, args)])
        with pytest.raises(SystemExit) as exit_info:
            cli.main()
        captured = capsys.readouterr()
        return exit_info.value.code or 0, captured.out, captured.err

    return invoke


SMALL_DISK_BYTES = 32 * 2**20


@dataclass(frozen=True)
class SmallDisk:
    """A folder where, inside :meth:`full`, a write of more than ``room`` bytes fails.

    ``tmpfs``: a small file system of its own, filled up to ``room`` free bytes (``ENOSPC``,
    "No space left on device"); it needs root. ``fsize``: an ordinary folder under a file-size
    limit (``RLIMIT_FSIZE``, inherited by subprocesses; ``EFBIG``, "File too large").
    """

    folder: Path
    kind: str
    room: int

    @contextmanager
    def full(self) -> Iterator[None]:
        """The disk is full for this block: this process and the processes it starts."""
        if self.kind == "tmpfs":
            filler = self.folder / ".filler"
            stat = os.statvfs(self.folder)
            size = stat.f_bavail * stat.f_frsize - self.room
            with open(filler, "wb") as f:
                os.posix_fallocate(f.fileno(), 0, size)
            try:
                yield
            finally:
                filler.unlink()
            return
        limits = resource.getrlimit(resource.RLIMIT_FSIZE)
        ignored = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write beyond the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.room, limits[1]))
        try:
            yield
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, limits)
            signal.signal(signal.SIGXFSZ, ignored)


@pytest.fixture(params=["tmpfs", "fsize"])
def small_disk(request, tmp_path: Path) -> Iterator[SmallDisk]:
    """A :class:`SmallDisk` with 64 KiB of room: a real tmpfs (root only; required under CI), then a file-size
    limit."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if request.param == "fsize":
        yield SmallDisk(folder, "fsize", 64 * 2**10)
        return
    needs_root("mounting a small tmpfs (the fsize variant covers a full disk)")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SMALL_DISK_BYTES}", "stackfold-test", folder],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        unavailable(f"cannot mount a tmpfs ({mounted.stderr.strip()}); the fsize variant covers a full disk")
    try:
        yield SmallDisk(folder, "tmpfs", 64 * 2**10)
    finally:
        subprocess.run(["umount", "--lazy", folder], check=True)


TEXT_MODELS = ["prior", "tfidf_logreg", "logreg", "complement_nb", "sentence_logreg"]
"""Fast text models of every kind of view (rows, text, counts, sentence vectors); test_pipeline.py runs the defaults."""
TEXT_ONLY = ('images = false\nmodel_submissions = true\nstackers = ["lgbm", "mean"]\ndecisions = ["class_scaling"]\n'
             f'meta_features = ["confidence", "text"]\nmodels = {json.dumps(TEXT_MODELS)}\n')
STACK_ROWS = {("lgbm", "stack"), ("mean", "stack"), ("lgbm+class_scaling", "stack")}


@pytest.fixture(scope="session")
def text_run(rakuten_sample, tmp_path_factory):
    """One text-only run on the real 300 rows, shared by read-only checks (tests/test_pipeline.py, test_predict.py)."""
    root = tmp_path_factory.mktemp("run")
    config = root / "run.toml"
    config.write_text(TEXT_ONLY)
    from stackfold.competition import SmallClassWarning
    from stackfold.config import load_config
    from stackfold.pipeline import run_pipeline

    with pytest.warns(SmallClassWarning, match=r"2220 \(1 rows\)"):
        run_pipeline(rakuten_sample, root / "out", load_config(config))
    return root / "out"


@dataclass(frozen=True)
class TwinRun:
    """A finished run folder and the challenge folder it was made from."""

    data: Path
    run: Path


@pytest.fixture(scope="session")
def default_twin_run(tmp_path_factory) -> TwinRun:
    """`stackfold run` with the default configuration (every default model, images included) on a 200-product twin
    with 48 px images, made once: tests/test_pipeline.py checks it; the quickstart notebook (tests/test_api.py) starts
    from a copy of it, so its text models are trained once. Read it, never change it."""
    root = tmp_path_factory.mktemp("default-run")
    data, run = root / "twin", root / "run"
    cli.app(["demo-data", str(data), "--products", "200", "--image-size", "48"], standalone_mode=False)
    cli.app(["run", str(data), "--out", str(run), "--no-report"], standalone_mode=False)
    return TwinRun(data, run)


CHEAP_SHARED_FIXTURES = {"rakuten_sample", "rakuten_real", "cdiscount_sample"}
"""Session fixtures that only name a folder: sharing them costs nothing, so they group no tests."""


def _expensive_fixtures(item: pytest.Item) -> set[str]:
    """The module and session fixtures defined in tests/ that ``item`` uses, but for the cheap ones."""
    found = set()
    for name in item.fixturenames:
        definitions = item._fixtureinfo.name2fixturedefs.get(name)
        if not definitions or name in CHEAP_SHARED_FIXTURES:
            continue
        definition = definitions[-1]  # pytest's own (tmp_path_factory) have no baseid: not ours to group by
        if definition.baseid and definition.scope in ("module", "session"):
            found.add(f"{definition.baseid}::{name}")
    return found


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups into the node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``make test``'s workers (``--dist loadgroup``): the tests of an expensive module or session fixture (a run, a
    converted network, a browser) share one worker, so it is built once; tests using two such fixtures join their
    groups. Every other test goes where there is room."""
    if not config.pluginmanager.hasplugin("xdist"):  # -p no:xdist: one process, nothing to group
        return
    group: dict[str, str] = {}  # union-find: each fixture's representative

    def root(name: str) -> str:
        while group.setdefault(name, name) != name:
            name = group[name]
        return name

    used = {item: sorted(_expensive_fixtures(item)) for item in items}
    for names in used.values():
        for other in names[1:]:
            group[root(other)] = root(names[0])
    for item, names in used.items():
        if names:
            item.add_marker(pytest.mark.xdist_group(root(names[0])))


def pytest_collection_finish(session: pytest.Session) -> None:
    """A worker whose grouped tests lost their group (pytest-xdist writes it into the node id, which a pytest it does
    not know may keep elsewhere) would build each expensive fixture once per worker: stop instead."""
    if not getattr(session.config.option, "loadgroup", False):
        return
    lost = [item.nodeid for item in session.items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if lost:
        raise pytest.UsageError(f"pytest-xdist did not group {lost[0]} (and {len(lost) - 1} more) with pytest "
                                f"{pytest.__version__}: install the versions pyproject.toml's test extras pin")
