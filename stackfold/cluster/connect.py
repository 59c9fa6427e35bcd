"""Reaching a Dask cluster: a scheduler's address, or ``local:N`` for N single-threaded worker processes here.

Dask is imported only here and only when a scheduler is named: a run without one never loads it.
"""

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from stackfold.errors import ClusterError

if TYPE_CHECKING:
    from distributed import Client

CONNECT_TIMEOUT_S = 10
INSTALL = "pip install 'dask[distributed]>=2024.8'"


def parse_local(address: str) -> int | None:
    """N of ``local:N`` (``None`` for a scheduler address); a bad N is a one-line error."""
    if not address.startswith("local:"):
        return None
    count = address.removeprefix("local:")
    if not count.isdigit() or int(count) < 1:
        raise ClusterError(f"scheduler {address!r}: local:N needs a number of worker processes, e.g. local:2")
    return int(count)


@contextmanager
def cluster_client(address: str) -> Iterator["Client"]:
    """A client of the scheduler at ``address`` (``tcp://host:8786``), or of a new ``LocalCluster`` (``local:N``)."""
    try:
        import distributed
    except ImportError as e:
        raise ClusterError(f"scheduler {address!r}: Dask distributed is not installed; {INSTALL}") from e
    workers = parse_local(address)
    client = _local_client(distributed, workers) if workers is not None else _remote_client(distributed, address)
    with _quiet_dask(), client as connected:
        yield connected


@contextmanager
def _local_client(distributed, workers: int) -> Iterator["Client"]:
    """A ``LocalCluster`` of ``workers`` single-threaded processes, closed on exit."""
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  silence_logs=logging.CRITICAL, dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        yield client


@contextmanager
def _remote_client(distributed, address: str) -> Iterator["Client"]:
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as e:
        raise ClusterError(f"scheduler {address!r}: no Dask scheduler answers there ({_reason(e)}); start one with "
                           "`dask scheduler` and workers with `dask worker ADDRESS`, or check the address") from e
    with client:
        yield client


@contextmanager
def _quiet_dask() -> Iterator[None]:
    """Dask's own log records (reconnection tracebacks) off: a lost scheduler is reported in one line instead.

    Dask configures some of its loggers with levels of their own, so each is silenced, then restored.
    """
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
               if name == "distributed" or name.startswith("distributed.")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _reason(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def check_workers_see(client: "Client", path: Path, what: str) -> None:
    """Refuse, naming the first worker, when a worker cannot read ``path`` at the same place (no shared file system)."""
    target = str(Path(path).resolve())
    seen = client.run(os.path.exists, target)
    blind = sorted(worker for worker, exists in seen.items() if not exists)
    if not seen:
        raise ClusterError("the Dask cluster has no worker; start some with `dask worker SCHEDULER_ADDRESS`")
    if blind:
        raise ClusterError(f"worker {blind[0]} cannot see {what} {target} ({len(blind)} of {len(seen)} workers); "
                           "every worker needs it at the same path: put it on a file system they all mount")


def dashboard(client: "Client") -> str | None:
    """The Dask dashboard's address, when the scheduler serves one."""
    link = client.dashboard_link
    return link if link and ":0/" not in link else None
