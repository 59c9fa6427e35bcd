"""A large on-disk array filled batch by batch that survives being killed and resumes where it stopped.

Image features of 85k products take hours to extract; an interrupted run must not start
over. The array is a memory-mapped ``.npy`` file; beside it, ``<name>.state.npz`` holds a
per-row ``done`` mask and a per-row ``flagged`` mask (e.g. images replaced by blanks). After
each batch the rows are flushed to disk *before* the state is replaced atomically, so a
``kill -9`` at any moment never marks an unwritten row done: the worst case recomputes one batch.
"""

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from stackfold.io import save_arrays_atomic


class ResumableArray:
    """The ``.npy`` array at ``path`` of ``shape`` and ``dtype``, with which rows are already computed."""

    def __init__(self, path: Path, shape: tuple[int, ...], dtype: str | np.dtype):
        self.path = Path(path)
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.state_path = self.path.with_suffix(".state.npz")
        self.done, self.flagged = self._load_state()
        self._data: np.memmap | None = None

    def _load_state(self) -> tuple[np.ndarray, np.ndarray]:
        """Saved masks if the data file matches ``shape`` and ``dtype``, else nothing done."""
        n = self.shape[0]
        if self.state_path.is_file() and self.path.is_file():
            existing = np.load(self.path, mmap_mode="r")
            if existing.shape == self.shape and existing.dtype == self.dtype:
                with np.load(self.state_path) as state:
                    return state["done"].copy(), state["flagged"].copy()
        return np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)

    def _writable(self) -> np.memmap:
        if self._data is None:
            if self.done.any():
                self._data = np.lib.format.open_memmap(self.path, mode="r+")
            else:
                self.state_path.unlink(missing_ok=True)
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._data = np.lib.format.open_memmap(self.path, mode="w+", dtype=self.dtype, shape=self.shape)
        return self._data

    def write(self, start: int, values: np.ndarray, flagged: np.ndarray | None = None) -> None:
        """Store rows ``start:start + len(values)`` on disk, then mark them done (and ``flagged``)."""
        stop = start + len(values)
        data = self._writable()
        data[start:stop] = values
        data.flush()
        self.done[start:stop] = True
        self.flagged[start:stop] = False if flagged is None else flagged
        save_arrays_atomic(self.state_path, done=self.done, flagged=self.flagged)

    def fill(self, batches: Iterable[tuple[int, np.ndarray, np.ndarray | None]]) -> np.ndarray:
        """Write every ``(start, values, flagged)`` batch as it comes; return the finished array, read-only.

        The producer computes only rows not yet :attr:`done`; an exception from it leaves
        the batches written so far done, for the next run to resume from.
        """
        for start, values, flagged in batches:
            self.write(start, values, flagged)
        return self.result()

    def result(self) -> np.ndarray:
        """The finished array, memory-mapped read-only."""
        missing = int((~self.done).sum())
        if missing:
            raise RuntimeError(f"{self.path}: {missing} of {self.shape[0]} rows not computed yet")
        if self._data is None and not self.path.is_file():
            self._writable()  # an empty array is complete without any batch
        self._data = None
        return np.load(self.path, mmap_mode="r")
