"""Atomic writes: an artifact is either complete on disk or absent, never half-written.

Each artifact is written to a temporary file beside its target, flushed to the disk, then
renamed over the target, so a crash, a ``kill -9`` or a full disk leaves the previous
version (or nothing) in place. The file gets the permissions a plain ``open()`` gives under
the current umask (0644 under umask 022), not ``mkstemp``'s 0600, so teammates and
containers can read a run.
"""

import json
import os
import secrets
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np

from stackfold.errors import ConfigError

_NEW_FILE = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC


@contextmanager
def atomic_file(path: Path) -> Iterator[IO[bytes]]:
    """Open a temporary file beside ``path``; on success sync and rename it into place, else delete it.

    The data is fsynced before the rename and the folder after it: without that, a power
    loss could leave the new name pointing at an empty file. An ``OSError`` of the write that
    names no file (a full disk, a quota) is raised again naming ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, _NEW_FILE, 0o666)  # the kernel applies the umask, as for open()
    try:
        # "w+b" (a BufferedRandom): numpy then writes through f.write, which reports a full disk as
        # ENOSPC; on a "wb" file its fast path reports only "N requested and M written"
        with os.fdopen(fd, "w+b") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, OSError) and e.filename is None and e.errno is not None:
            raise OSError(e.errno, e.strerror, str(path)) from e  # same errno: the same OSError subclass
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """Make a rename inside ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_file(path) as f:
        f.write(text.encode("utf-8"))


def write_json_atomic(path: Path, payload: Any) -> None:
    write_text_atomic(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")


def save_arrays_atomic(path: Path, **arrays: np.ndarray) -> None:
    """Save named arrays as one uncompressed ``.npz``."""
    with atomic_file(path) as f:
        np.savez(f, **arrays)


def toml_value(value: Any) -> str:
    """``value`` (a bool, number, string, list or table) as TOML: what config and spec files are written with."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in sorted(value.items())) + "}"
    return repr(value)


def read_toml(path: Path, not_found: str) -> dict[str, Any]:
    """The table of TOML file ``path``; a missing, unreadable or invalid file is one :class:`ConfigError` line
    (``not_found``: what to say when it is missing)."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: {not_found}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text; re-save it as UTF-8") from e
