"""A throwaway PostgreSQL server on loopback, for tests of several tuning workers on one study.

Import the fixture into a test module: ``from postgres import postgres_url``. Where the server
binaries are missing the test skips, unless ``STACKFOLD_REQUIRE_POSTGRES=1`` (CI) makes it fail.
The server runs as a non-root user because ``initdb`` refuses root.
"""

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVER_USER = "postgres"
DB_USER = "stackfold"
DB_NAME = "postgres"


def server_bin() -> Path | None:
    """Folder holding initdb and pg_ctl: on PATH, or Debian's newest /usr/lib/postgresql/<version>/bin."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    on_path = shutil.which("initdb")
    candidates = [p.parent for p in found[::-1]] + ([Path(on_path).resolve().parent] if on_path else [])
    return next((d for d in candidates if (d / "pg_ctl").is_file()), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(*args: str | Path) -> list[str]:
    """The command, run as the server user when we are root."""
    command = [str(a) for a in args]
    return ["runuser", "-u", SERVER_USER, "--", *command] if os.geteuid() == 0 else command


def _run(*args: str | Path) -> None:
    result = subprocess.run(_as_server_user(*args), capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed: {result.stderr.strip() or result.stdout.strip()}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of the empty default database of a fresh server (trust auth, 127.0.0.1, free port), stopped afterwards."""
    bin_dir = server_bin()
    if bin_dir is None:
        message = "PostgreSQL server not installed (apt-get install postgresql)"
        if os.environ.get("STACKFOLD_REQUIRE_POSTGRES") == "1":
            pytest.fail(message + ", but STACKFOLD_REQUIRE_POSTGRES=1")
        pytest.skip(message)
    root = Path(tempfile.mkdtemp(prefix="stackfold-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, user=SERVER_USER)
    data, port = root / "data", free_port()
    _run(bin_dir / "initdb", "-D", data, "-U", DB_USER, "--auth=trust", "-E", "UTF8", "--no-sync")
    options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={root} -c fsync=off"
    _run(bin_dir / "pg_ctl", "-D", data, "-o", options, "-l", root / "server.log", "-w", "start")
    try:
        yield f"postgresql://{DB_USER}@127.0.0.1:{port}/{DB_NAME}"
    finally:
        subprocess.run(_as_server_user(bin_dir / "pg_ctl", "-D", data, "stop", "-m", "immediate"),
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
