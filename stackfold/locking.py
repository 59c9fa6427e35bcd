"""A lock per run folder, so two writers never interleave their artifacts.

The lock is an OS file lock (``flock``) on ``RUN/.lock``: the kernel releases it when its
holder dies, however it dies, so a stale lock of a killed process is simply taken over.
``stackfold run`` holds it exclusively; ``stackfold tune`` workers hold it shared (several
workers may fill one study), which keeps a ``run`` from rewriting the OOF matrix under them.
Whoever takes the lock writes its PID, host and command into the file, so a refused writer
is told who holds it.
"""

import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stackfold.errors import RunFolderLockedError


def _holder(path: Path) -> str:
    """Who last took the lock at ``path``, as the message of a refused writer."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return (f"pid {info['pid']} on {info['host']} (stackfold {info['command']}, since "
                f"{time.strftime('%H:%M:%S', time.localtime(info['since']))})")
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


@contextmanager
def folder_lock(path: Path, command: str, shared: bool = False) -> Iterator[None]:
    """Hold the lock file ``path`` for the block: exclusively, or ``shared`` with other shared holders.

    A writer that cannot take it gets :class:`RunFolderLockedError` naming the holder, at once:
    waiting would hide that two commands were started on one folder.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise RunFolderLockedError(
                f"{path.parent} is in use by {_holder(path)}; wait for it to finish, or use another folder"
            ) from e
        info = {"pid": os.getpid(), "host": socket.gethostname(), "command": command, "since": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
