"""List scheduling for the benchmarks that model a run on more workers (bench/cluster.py, bench/scale_out.py)."""

import numpy as np


def list_schedule(durations: list[float], slots: int) -> float:
    """Makespan of running ``durations`` in order, each on the first free of ``slots`` workers."""
    free = np.zeros(slots)
    for d in durations:
        free[np.argmin(free)] += d
    return float(free.max())
