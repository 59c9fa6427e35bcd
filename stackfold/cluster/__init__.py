"""Runs on a Dask cluster: every (model, fold) fit a task, slow feature views extracted in row partitions.

Named by ``--scheduler`` or ``[cluster] scheduler``; without one nothing here is imported and
Dask is never loaded. The client keeps writing every artifact of the run folder, so only the
challenge's data (images, for extraction) must be where the workers see them.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stackfold.cluster.connect import check_workers_see, cluster_client, dashboard
from stackfold.cluster.runner import ClusterRunner
from stackfold.progress import console


@contextmanager
def open_runner(address: str, data_dir: Path, n_jobs: int, partition_rows: int,
                resources: dict[str, float] | None = None) -> Iterator[ClusterRunner]:
    """Connect to ``address``, check every worker sees ``data_dir``, print the dashboard, yield the runner."""
    with cluster_client(address) as client:
        check_workers_see(client, data_dir, "the data folder")
        link = dashboard(client)
        workers = len(client.scheduler_info()["workers"])
        console.print(f"cluster: {address}, {workers} workers" + (f"; dashboard {link}" if link else ""),
                      soft_wrap=True)
        yield ClusterRunner(client, n_jobs, partition_rows, resources)
