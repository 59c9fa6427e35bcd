"""Atomic writes: the permissions of a plain open(), the previous file kept on any failure, a full disk named."""

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from stackfold.io import atomic_file, save_arrays_atomic, write_json_atomic, write_text_atomic


def _parquet(path: Path, rows: int) -> None:
    with atomic_file(path) as f:
        pd.DataFrame(np.random.default_rng(0).random((rows, 4))).to_parquet(f)


def _npy(path: Path, rows: int) -> None:
    with atomic_file(path) as f:
        np.save(f, np.random.default_rng(0).random(rows))


def _sparse(path: Path, rows: int) -> None:
    with atomic_file(path) as f:
        sp.save_npz(f, sp.random(rows, 100, density=0.1, format="csr", random_state=0), compressed=False)


WRITERS: dict[str, Callable[[Path, int], None]] = {
    "text": lambda path, rows: write_text_atomic(path, "x" * 32 * rows),
    "json": lambda path, rows: write_json_atomic(path, list(range(rows * 4))),
    "npz": lambda path, rows: save_arrays_atomic(path, a=np.random.default_rng(0).random(rows)),
    "parquet": _parquet,
    "npy": _npy,
    "sparse npz": _sparse,
}
"""Every way an artifact is written; ``rows`` scales the size (10_000 rows: well over 64 KiB)."""


@pytest.fixture
def restore_umask():
    """Give the process its umask back after a test that sets it."""
    saved = os.umask(0o022)
    yield
    os.umask(saved)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o027, 0o640)], ids=["umask022", "umask027"])
@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_artifact_gets_the_mode_of_a_plain_open_under_the_umask(tmp_path, restore_umask, mask, mode, writer):
    os.umask(mask)
    plain = tmp_path / "plain"
    plain.write_text("x")
    target = tmp_path / "sub" / "artifact"
    WRITERS[writer](target, 10)
    assert _mode(target) == _mode(plain) == mode
    target.chmod(0o600)  # a replacement is a new file: it gets the umask's mode again, not the old file's
    WRITERS[writer](target, 20)
    assert _mode(target) == mode


def test_written_artifact_reads_back(tmp_path):
    write_json_atomic(tmp_path / "a.json", {"b": 1, "a": [2]})
    assert (tmp_path / "a.json").read_text() == '{\n  "a": [\n    2\n  ],\n  "b": 1\n}\n'
    save_arrays_atomic(tmp_path / "a.npz", x=np.arange(3), y=np.ones(2))
    with np.load(tmp_path / "a.npz") as saved:
        assert saved["x"].tolist() == [0, 1, 2] and saved["y"].tolist() == [1.0, 1.0]


def test_data_then_rename_are_synced_to_disk(tmp_path, monkeypatch):
    synced = []

    def fsync(fd: int) -> None:
        synced.append("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else os.path.getsize(f"/proc/self/fd/{fd}"))

    monkeypatch.setattr(os, "fsync", fsync)
    write_text_atomic(tmp_path / "a.txt", "12345")
    assert synced == [5, "folder"]  # the whole file before the rename, then the folder holding the new name


class _Failure(Exception):
    pass


@pytest.mark.parametrize(("raised", "expected", "match"), [
    (_Failure("writer failed"), _Failure, r"^writer failed$"),
    (KeyboardInterrupt(), KeyboardInterrupt, r"^$"),
    (OSError("no errno"), OSError, r"^no errno$"),  # nothing to name a file with: raised as it is
    (OSError(errno.EIO, "Input/output error"), OSError, r"^\[Errno 5\] Input/output error: '.*leaderboard.csv'$"),
    (PermissionError(errno.EACCES, "Permission denied", "/elsewhere"), PermissionError, r"'/elsewhere'$"),
])
def test_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path, raised, expected, match):
    target = tmp_path / "leaderboard.csv"
    target.write_text("previous\n")
    with pytest.raises(expected, match=match):
        with atomic_file(target) as f:
            f.write(b"half of the new")
            raise raised
    assert target.read_text() == "previous\n"
    assert os.listdir(tmp_path) == ["leaderboard.csv"]


FULL_DISK = r"^\[Errno \d+\] (No space left on device|File too large): '.*artifact'$"


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_full_disk_keeps_the_previous_artifact_and_names_it(small_disk, writer):
    target = small_disk.folder / "artifact"
    WRITERS[writer](target, 10)
    previous = target.read_bytes()
    with small_disk.full():
        with pytest.raises(OSError, match=FULL_DISK) as info:
            WRITERS[writer](target, 10_000)
        WRITERS[writer](small_disk.folder / "small", 10)  # the disk still takes what fits
    assert info.value.errno in (errno.ENOSPC, errno.EFBIG) and info.value.filename == str(target)
    assert isinstance(info.value.__cause__, OSError)  # the writer's own error, chained
    assert target.read_bytes() == previous
    assert sorted(os.listdir(small_disk.folder)) == ["artifact", "small"]
