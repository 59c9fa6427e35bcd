"""How fast this machine runs now against the reference machine the step costs were measured on: a short calibration.

The costs of :class:`~stackfold.progress.Cost` are seconds on the reference machine (2 cores, ``bench/full_size.py``).
A time-limited run plans with them before any step has run, so it first times a fixed workload like a run's
(dense BLAS products, sparse products as in the linear text models, interpreted Python as in the feature builders)
on the run's threads: its seconds over the reference's are the factor the plan multiplies every cost by. Once steps
have run, the run's own pace takes over (:meth:`stackfold.progress.Pace.rate`).
"""

import statistics
import time

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

REFERENCE_SECONDS = {1: 0.40, 2: 0.33}
"""Median seconds of :func:`_workload` on the reference machine (AMD EPYC, 2 cores, idle: load average below 1),
by thread count (more threads: the 2-thread figure)."""
REPEATS = 3


def _workload(dense: np.ndarray, sparse: sp.csr_matrix) -> None:
    for _ in range(6):
        dense @ dense
    vector = np.ones(sparse.shape[1], dtype=np.float32)
    for _ in range(40):
        vector = sparse.T @ (sparse @ vector) / np.float32(sparse.shape[0])
    total = 0
    for i in range(300_000):
        total += i % 7


def machine_speed(n_jobs: int) -> float:
    """Seconds this machine takes per reference second now (above 1: slower or busier), from the median of three
    timings of a ~0.3 s workload on ``n_jobs`` threads."""
    rng = np.random.default_rng(0)
    dense = rng.standard_normal((700, 700)).astype(np.float32)
    rows, per_row, columns = 30_000, 15, 5_000
    indices = rng.integers(0, columns, rows * per_row)
    sparse = sp.csr_matrix((np.ones(rows * per_row, np.float32), indices, np.arange(0, rows * per_row + 1, per_row)),
                           shape=(rows, columns))
    timings = []
    with threadpool_limits(limits=n_jobs):
        for _ in range(REPEATS):
            start = time.perf_counter()
            _workload(dense, sparse)
            timings.append(time.perf_counter() - start)
    return statistics.median(timings) / REFERENCE_SECONDS[min(n_jobs, 2)]
