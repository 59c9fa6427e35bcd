"""Probabilities over many classes kept as each row's top k: the OOF matrix of a 5,270-class challenge.

A dense OOF matrix of Cdiscount's 7,069,896 products x 5,270 classes is 149 GB of float32 per
model. :class:`TopK` keeps each row's ``k`` most probable classes (positions into the
challenge's classes, int16, best first, ties to the lower position as ``argmax``), their
probabilities (float16) and the mass left over (float32): 4k + 4 bytes a row, 84 at k = 20.
A class outside a row's top k is taken to hold an even share of that rest
(:meth:`TopK.probability_of`). With ``k`` = the number of classes nothing is dropped and every
computation equals its dense counterpart up to float16 rounding.

:class:`Pool` lines several models' top k up on each row's candidates (the union of their
classes) for the blends; :func:`predict_top_k` predicts in row chunks so that no dense
``rows x classes`` matrix larger than a chunk ever exists.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stackfold.io import save_arrays_atomic

CHUNK_BYTES = 2**27
"""Largest dense float64 block made at once: 128 MB, 3,183 rows at 5,270 classes."""
_LOOKUP_CELLS = 2**24
"""Cells of the ``rows x candidates x k`` comparison of :meth:`TopK.probability_of` made at once."""


def _position_dtype(n_classes: int) -> type:
    return np.int16 if n_classes <= np.iinfo(np.int16).max else np.int32


def _rest(listed: np.ndarray) -> np.ndarray:
    """The mass each row's listed (float16) probabilities leave, float32, so that listed + rest is 1."""
    return np.clip(1.0 - listed.astype(np.float64).sum(axis=1), 0.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class TopK:
    """Each row's ``k`` most probable classes, best first, their probabilities and the rest of the mass.

    ``classes``: ``(n, k)`` class positions; ``proba``: ``(n, k)`` float16, NaN on a row no fold
    covered; ``rest``: ``(n,)`` float32, the probability of every other class together.
    """

    classes: np.ndarray
    proba: np.ndarray
    rest: np.ndarray
    n_classes: int

    @classmethod
    def from_dense(cls, proba: np.ndarray, k: int) -> "TopK":
        """The top ``k`` of dense probabilities ``(n, n_classes)``; a row holding NaN stays uncovered (NaN)."""
        n, n_classes = proba.shape
        k = min(k, n_classes)
        uncovered = np.isnan(proba).any(axis=1)
        clean = np.where(uncovered[:, None], 0.0, proba)
        if k < n_classes:
            picked = np.argpartition(-clean, k - 1, axis=1)[:, :k]
        else:
            picked = np.broadcast_to(np.arange(n_classes), (n, n_classes))
        values = np.take_along_axis(clean, picked, axis=1)
        order = np.lexsort((picked, -values), axis=1)  # best first, ties to the lower class position
        classes = np.take_along_axis(picked, order, axis=1).astype(_position_dtype(n_classes))
        listed = np.take_along_axis(values, order, axis=1).astype(np.float16)
        rest = _rest(listed)
        listed[uncovered] = np.nan
        rest[uncovered] = np.nan
        return cls(classes, listed, rest, n_classes)

    @classmethod
    def concat(cls, parts: Sequence["TopK"]) -> "TopK":
        """Rows of ``parts`` one after another."""
        return cls(np.concatenate([p.classes for p in parts]), np.concatenate([p.proba for p in parts]),
                   np.concatenate([p.rest for p in parts]), parts[0].n_classes)

    @classmethod
    def uncovered(cls, n: int, k: int, n_classes: int) -> "TopK":
        """``n`` rows no model has predicted yet (NaN), to be filled by :meth:`put`."""
        k = min(k, n_classes)
        return cls(np.zeros((n, k), _position_dtype(n_classes)), np.full((n, k), np.nan, np.float16),
                   np.full(n, np.nan, np.float32), n_classes)

    @property
    def k(self) -> int:
        return self.classes.shape[1]

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, classes)``, as the dense matrix it stands for."""
        return len(self.rest), self.n_classes

    def __len__(self) -> int:
        return len(self.rest)

    def take(self, rows: np.ndarray) -> "TopK":
        return TopK(self.classes[rows], self.proba[rows], self.rest[rows], self.n_classes)

    def put(self, rows: np.ndarray, part: "TopK") -> None:
        """Write ``part``'s rows at positions ``rows`` (in place)."""
        self.classes[rows], self.proba[rows], self.rest[rows] = part.classes, part.proba, part.rest

    def covered(self) -> np.ndarray:
        """Whether each row has been predicted."""
        return ~np.isnan(self.rest)

    def predicted(self) -> np.ndarray:
        """Class position of each row's highest probability; -1 for a row no fold covered."""
        return np.where(self.covered(), self.classes[:, 0].astype(np.int64), -1)

    def rest_share(self) -> np.ndarray:
        """Probability of each class outside a row's top k: the rest spread evenly (0 when k covers every class)."""
        others = self.n_classes - self.k
        return (self.rest / others).astype(np.float32) if others else np.zeros(len(self), np.float32)

    def probability_of(self, positions: np.ndarray) -> np.ndarray:
        """Probability of class ``positions[i, j]`` on row ``i``, ``(n, u)`` float32: listed, or the rest share."""
        out = np.empty(positions.shape, np.float32)
        step = max(1, _LOOKUP_CELLS // max(1, positions.shape[1] * self.k))
        share = self.rest_share()
        for start in range(0, len(self), step):
            rows = slice(start, start + step)
            match = positions[rows, :, None] == self.classes[rows, None, :]
            listed = (match * self.proba[rows, None, :].astype(np.float32)).sum(axis=2)
            out[rows] = np.where(match.any(axis=2), listed, share[rows, None])
        return out

    def to_dense(self) -> np.ndarray:
        """The ``(n, n_classes)`` float32 matrix: listed probabilities, every other class its rest share."""
        dense = np.repeat(self.rest_share()[:, None], self.n_classes, axis=1)
        np.put_along_axis(dense, self.classes.astype(np.int64), self.proba.astype(np.float32), axis=1)
        dense[~self.covered()] = np.nan
        return dense

    def without(self, positions: np.ndarray) -> "TopK":
        """The same rows with classes ``positions`` given no probability (renormalised, re-sorted): a stacker's
        classes that no training row had. A row whose listed classes all go keeps them, at 0, and its rest:
        which class outside them is best, the top k cannot say (at a challenge's size no class is missing)."""
        if len(positions) == 0:
            return self
        proba = np.where(np.isin(self.classes, positions), 0.0, self.proba.astype(np.float64))
        total = np.where(self.covered(), proba.sum(axis=1) + self.rest, np.nan)
        total[total == 0] = 1.0  # nothing left to renormalise: every listed class absent and no rest
        order = np.lexsort((self.classes, -proba), axis=1)
        listed = np.take_along_axis(proba, order, axis=1) / total[:, None]
        return TopK(np.take_along_axis(self.classes, order, axis=1), listed.astype(np.float16),
                    (self.rest / total).astype(np.float32), self.n_classes)

    @property
    def nbytes(self) -> int:
        return self.classes.nbytes + self.proba.nbytes + self.rest.nbytes

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Its arrays named for an ``.npz`` file (:meth:`from_arrays` reads them back)."""
        return {f"{prefix}_classes": self.classes, f"{prefix}_proba": self.proba, f"{prefix}_rest": self.rest,
                f"{prefix}_n_classes": np.array(self.n_classes)}

    @classmethod
    def from_arrays(cls, arrays: Any, prefix: str) -> "TopK":
        return cls(arrays[f"{prefix}_classes"], arrays[f"{prefix}_proba"], arrays[f"{prefix}_rest"],
                   int(arrays[f"{prefix}_n_classes"]))

    def save(self, path: Path, ids: np.ndarray) -> None:
        """Write an ``.npz`` of the rows' ``ids`` and the arrays ``proba_*``, atomically."""
        save_arrays_atomic(path, ids=ids, **self.arrays("proba"))

    @classmethod
    def load(cls, path: Path) -> "TopK":
        """Read what :meth:`save` wrote (plain arrays: no pickled object is ever loaded)."""
        with np.load(path, allow_pickle=False) as saved:
            return cls.from_arrays(saved, "proba")


Probabilities = np.ndarray | TopK
"""A model's output: dense ``(n, n_classes)``, or each row's top k."""


def predicted_positions(proba: Probabilities) -> np.ndarray:
    """Class position of each row's highest probability, either form; -1 for a row no fold covered (NaN).

    ``argmax`` returns the position of a NaN when a row holds one, so one lookup finds those rows.
    """
    if isinstance(proba, TopK):
        return proba.predicted()
    best = np.argmax(proba, axis=1)
    return np.where(np.isnan(proba[np.arange(len(proba)), best]), -1, best)


def predict_top_k(predict: Callable[[Any], np.ndarray], X: Any, n_rows: int, n_classes: int, k: int,
                  take: Callable[[Any, np.ndarray], Any]) -> TopK:
    """``predict(X)`` reduced to each row's top ``k``, predicted ``CHUNK_BYTES`` of dense output at a time."""
    step = max(1, CHUNK_BYTES // (8 * n_classes))
    parts = []
    for start in range(0, n_rows, step):
        rows = np.arange(start, min(start + step, n_rows))
        proba = predict(take(X, rows) if len(rows) < n_rows else X)
        parts.append(proba if isinstance(proba, TopK) else TopK.from_dense(proba, k))
    return TopK.concat(parts) if parts else TopK.uncovered(0, k, n_classes)


def average(parts: Sequence[TopK], k: int, rows_per_chunk: int = 65536) -> TopK:
    """The mean of several predictions of the same rows (the fold models' test predictions), top ``k``."""
    chunks = []
    for start in range(0, len(parts[0]), rows_per_chunk):
        rows = np.arange(start, min(start + rows_per_chunk, len(parts[0])))
        pool = Pool.of([p.take(rows) for p in parts])
        chunks.append(pool.top_k(pool.filled()[0].mean(axis=1), k))
    return TopK.concat(chunks) if chunks else TopK.uncovered(0, k, parts[0].n_classes)


@dataclass(frozen=True)
class TopKStack:
    """The stack matrix of a top-k run: each base model's top k, rows aligned; what the blends read."""

    parts: tuple[TopK, ...]

    @property
    def n_classes(self) -> int:
        return self.parts[0].n_classes

    @property
    def k(self) -> int:
        return self.parts[0].k

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, models x classes)``, as the dense stack matrix it stands for."""
        return len(self.parts[0]), len(self.parts) * self.n_classes

    def __len__(self) -> int:
        return len(self.parts[0])

    def take(self, rows: np.ndarray) -> "TopKStack":
        return TopKStack(tuple(p.take(rows) for p in self.parts))


@dataclass(frozen=True)
class Pool:
    """Several models' probabilities of each row's candidate classes: the union of their top k.

    ``candidates`` ``(n, u)``: class positions, sorted, a repeat marked not ``valid``; ``values``
    ``(n, m, u)``: model m's probability of each candidate (NaN where the model did not cover the
    row); ``other`` ``(n, m)``: model m's probability of any one class outside the candidates, of
    which each row has ``n_other``.
    """

    candidates: np.ndarray
    valid: np.ndarray
    values: np.ndarray
    other: np.ndarray
    n_other: np.ndarray
    n_classes: int

    @classmethod
    def of(cls, parts: Sequence[TopK]) -> "Pool":
        n_classes = parts[0].n_classes
        candidates = np.sort(np.concatenate([p.classes.astype(np.int32) for p in parts], axis=1), axis=1)
        valid = np.ones(candidates.shape, bool)
        valid[:, 1:] = candidates[:, 1:] != candidates[:, :-1]
        values = np.stack([np.where(p.covered()[:, None], p.probability_of(candidates), np.nan) for p in parts],
                          axis=1)
        other = np.stack([p.rest_share() for p in parts], axis=1)
        return cls(candidates, valid, values, other, n_classes - valid.sum(axis=1), n_classes)

    def filled(self) -> tuple[np.ndarray, np.ndarray]:
        """``values`` and ``other`` with a model's uncovered rows as uniform probabilities, as the dense blends."""
        uniform = np.float32(1.0 / self.n_classes)
        return np.nan_to_num(self.values, nan=uniform), np.nan_to_num(self.other, nan=uniform)

    def top_k(self, mixed: np.ndarray, k: int) -> TopK:
        """The top ``k`` of one distribution over the candidates (``mixed`` ``(n, u)``); the rest is what it leaves."""
        k = min(k, mixed.shape[1])
        scored = np.where(self.valid, mixed, -np.inf)
        order = np.lexsort((self.candidates, -scored), axis=1)[:, :k]
        classes = np.take_along_axis(self.candidates, order, axis=1)
        listed = np.take_along_axis(scored, order, axis=1)
        listed = np.where(np.isfinite(listed), listed, 0.0).astype(np.float16)
        rest = _rest(listed)
        return TopK(classes.astype(_position_dtype(self.n_classes)), listed, rest, self.n_classes)

