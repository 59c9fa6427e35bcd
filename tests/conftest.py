"""Shared fixtures: the real challenge samples in ../shared, and the CLI run in-process."""

import os
import shutil
import sys
from pathlib import Path

import pytest

from stackfold import cli

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _shared(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.is_dir():
        message = f"real sample {path} not found (CI provides ../shared beside the clone)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def rakuten_sample() -> Path:
    """The unmodified real Rakuten extract (read-only)."""
    return _shared("rakuten-sample")


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
