"""The ``[cluster]`` table of a run's configuration, checked without importing Dask (:mod:`stackfold.cluster` does).

Parameters:
    scheduler: the Dask scheduler's address (``tcp://host:8786``), or ``local:N``: N single-threaded worker processes
        on this machine. ``--scheduler`` replaces it.
    partition_rows: rows a feature task of a slow view (images, sentence vectors, text cleaning) extracts.
    resources: what a pretrained encoder's partition asks of a worker, e.g. ``{GPU = 1}``: such partitions run only on
        workers started with ``--resources GPU=1``.
"""

from typing import Any

from stackfold.errors import ConfigError

TYPE_NAMES = {str: "a string", bool: "true or false", int: "an integer", list: "a list", dict: "a table"}
"""How an error names the TOML type a key needs."""


CLUSTER_KEYS = {"scheduler": str, "partition_rows": int, "resources": dict}
DEFAULT_PARTITION_ROWS = 2048


def check_cluster(cluster: dict[str, Any]) -> None:
    """``[cluster]``: known keys of their types; a positive partition size; resources as name = amount."""
    for key, value in cluster.items():
        expected = CLUSTER_KEYS.get(key)
        if expected is None:
            raise ConfigError(f"[cluster] {key}: unknown key; known keys: {', '.join(CLUSTER_KEYS)}")
        if not isinstance(value, expected) or isinstance(value, bool):
            raise ConfigError(f"[cluster] {key} must be {TYPE_NAMES[expected]}, got {value!r}")
    scheduler = cluster.get("scheduler", "tcp://")
    local = scheduler.removeprefix("local:")
    if "://" not in scheduler and not (scheduler.startswith("local:") and local.isdigit() and int(local) > 0):
        raise ConfigError(f"[cluster] scheduler = {scheduler!r}: give a scheduler address (tcp://host:8786) or "
                          "local:N (N worker processes here)")
    if cluster.get("partition_rows", DEFAULT_PARTITION_ROWS) < 1:
        raise ConfigError(f"[cluster] partition_rows = {cluster['partition_rows']}: need at least 1")
    for name, amount in cluster.get("resources", {}).items():
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount <= 0:
            raise ConfigError(f"[cluster] resources: {name} = {amount!r}; give a positive amount, e.g. {{GPU = 1}}")
