"""Running a run's fits and feature partitions as Dask tasks, and keeping their results as a local run would.

Every missing (model, fold) fit, and every stacker refit, is one task. The client scatters a
model's inputs to the workers once, submits its folds, and saves each result as the fold checkpoint a local
run writes (``core.cv``): the ordinary OOF loop then assembles the model from its checkpoints,
so a cluster run and a local run give the same bytes, and a run whose scheduler died resumes
from the folds that finished, locally or on another cluster.
"""

from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from stackfold.cluster.tasks import fit_fold, frame_rows, image_rows, refit, sentence_rows
from stackfold.cluster.progress import ClusterProgress
from stackfold.core import cv
from stackfold.errors import ClusterError
from stackfold.model_files import FittedModels
from stackfold.progress import console, progress_bar

if TYPE_CHECKING:
    from distributed import Client, Future

MAX_RESUBMITS = 3
"""Times a job's fits are submitted again after workers holding its inputs died, before the run gives up."""
PARTITION_PRIORITY = 2**31
"""Dask priority of feature partitions, above every fit: the client waits for them to submit the fits they feed."""


@dataclass(frozen=True)
class FoldJob:
    """The fits of one model: every fold of ``folds`` (and a refit on all rows) not yet checkpointed."""

    name: str
    make_model: Callable[[], Any]
    inputs: Callable[[], tuple[Any, Any]]
    y: np.ndarray
    folds: np.ndarray
    checkpoint_dir: Path
    refit: bool
    top_k: int | None = None
    keep: FittedModels | None = None
    metric: str = "weighted_f1"
    """The challenge's metric: a fold's scores include it (:func:`~stackfold.core.cv.fold_scores`)."""

    def missing(self) -> list[int]:
        """Folds without checkpoint, or whose fitted model is not kept (``-1``: the refit; with a refit, the folds'
        models are not kept, as in ``core.cv``)."""
        n_folds = int(self.folds.max()) + 1
        folds = [k for k in range(n_folds)
                 if not cv.fold_checkpoint(self.checkpoint_dir, k).is_file() or not (self.refit or self._kept(k))]
        if self.refit and (not cv.refit_checkpoint(self.checkpoint_dir).is_file() or not self._kept(-1)):
            folds.append(-1)
        return folds

    def _kept(self, fold: int) -> bool:
        return self.keep is None or self.keep.has(fold)


class ClusterRunner:
    """Submits fits and feature partitions to ``client``; every task computes with ``n_jobs`` threads."""

    def __init__(self, client: "Client", n_jobs: int, partition_rows: int, resources: dict[str, float] | None = None):
        self.client = client
        self.n_jobs = n_jobs
        self.partition_rows = partition_rows
        self.resources = resources or None
        self.submitted_jobs = 0

    def run_folds(self, jobs: Sequence[FoldJob]) -> None:
        """Fit every missing fold of ``jobs``; each result is saved as its checkpoint as soon as it arrives.

        A job's inputs are built (features) while earlier jobs' folds run; results that arrive
        meanwhile are saved at once, so a lost scheduler loses only the folds still running.
        """
        from distributed import as_completed

        todo = [(job, folds) for job in jobs if (folds := job.missing())]
        if not todo:
            return
        pending: dict[Future, tuple[FoldJob, int, list[Future]]] = {}
        resubmitted: Counter[str] = Counter()
        with ClusterProgress(self.client, {job.name: len(folds) for job, folds in todo}) as progress:
            try:
                for job, folds in todo:
                    self._submit(job, folds, pending)
                    progress.watch(pending)
                    for future in [f for f in list(pending) if f.done()]:
                        if future in pending:  # not a cancelled fit of a resubmitted job
                            self._save(future, pending, progress, resubmitted)
                finished = as_completed(list(pending))
                for future in finished:
                    if future in pending:  # not a cancelled fit of a resubmitted job
                        finished.update(self._save(future, pending, progress, resubmitted))
            finally:
                self.client.cancel(list(pending))

    def _submit(self, job: FoldJob, folds: list[int], pending: dict, attempt: int = 0) -> list["Future"]:
        """Submit ``folds`` of ``job`` and record them in ``pending``, each holding the job's scattered inputs.

        While any fit of the job is unsaved its inputs stay wanted, so a finished result lost
        with a worker can be computed again.
        """
        submitted, inputs = self._submit_folds(job, folds, attempt)
        pending.update({future: (job, fold, inputs) for fold, future in submitted.items()})
        return list(submitted.values())

    def _save(self, future: "Future", pending: dict, progress: ClusterProgress, resubmitted: Counter[str]
              ) -> list["Future"]:
        """Save a finished fit as its checkpoint; the fits submitted again if its job's inputs were lost."""
        job, fold, _ = pending.pop(future)
        try:
            result = task_result(future, f"{job.name} fold {fold + 1}" if fold >= 0 else f"{job.name} refit")
        except LostInputs:
            return self._resubmit(job, pending, resubmitted)
        model_files = result.pop("model_files")
        if job.keep is not None and model_files is not None:
            job.keep.write(fold, model_files)
        where = job.checkpoint_dir
        cv.save_checkpoint(cv.fold_checkpoint(where, fold) if fold >= 0 else cv.refit_checkpoint(where), result)
        progress.finished(job.name)
        return []

    def _resubmit(self, job: FoldJob, pending: dict, resubmitted: Counter[str]) -> list["Future"]:
        """Submit the job's unsaved folds again with freshly scattered inputs, its other fits cancelled.

        Dask keeps one copy of scattered data (its memory manager drops extra replicas): a
        worker dying with it makes the fits that need it cancelled, not rerun.
        """
        resubmitted[job.name] += 1
        if resubmitted[job.name] > MAX_RESUBMITS:
            raise ClusterError(f"{job.name}: workers holding its inputs died {MAX_RESUBMITS} times; check the workers' "
                               "memory and logs, then run the same command again: finished folds are kept")
        stale = [f for f, (other, _, _) in pending.items() if other is job]
        for f in stale:
            del pending[f]
        self.client.cancel(stale)
        console.print(f"  {job.name}: a worker holding its inputs died; its unsaved folds are submitted again")
        return self._submit(job, job.missing(), pending, attempt=resubmitted[job.name])

    def _submit_folds(self, job: FoldJob, folds: list[int], attempt: int) -> tuple[dict[int, "Future"], list["Future"]]:
        """Scatter the job's inputs, then one task per fold (``-1``: the refit); the tasks and the inputs.

        Task keys name the model, the fold, its content key and the attempt (a key is never reused).
        The newest job's fits go first (a higher Dask priority): a job submitted late, because its views
        were slow to build, then does not wait behind every older job's fits and end the level alone on
        one worker; the older fits fill the workers around it (measured in ``bench/cluster.py``).
        The inputs are copied to as many workers as there are fits: Dask prices a new task at 0.5 s
        until one finishes, so it would queue every fold on the one worker holding the inputs rather
        than copy them (seen on the bench: one worker idle for a minute beside four queued folds).
        """
        self.submitted_jobs += 1
        X, X_test = job.inputs()
        inputs = self._scatter([X, job.y, X_test], f"{job.name}'s inputs", copies=len(folds))
        X_f, y_f, test_f = inputs
        submitted = {}
        for fold in folds:
            key = f"{job.name}-{'refit' if fold < 0 else f'fold{fold}'}-{_tag(job)}-{attempt}"
            if fold < 0:
                submitted[fold] = self.client.submit(refit, job.make_model, X_f, y_f, test_f, self.n_jobs, job.top_k,
                                                     key=key, pure=False, priority=self.submitted_jobs)
                continue
            train, valid = np.flatnonzero(job.folds != fold), np.flatnonzero(job.folds == fold)
            submitted[fold] = self.client.submit(fit_fold, job.make_model, X_f, y_f, test_f, train, valid,
                                                 self.n_jobs, job.top_k, not job.refit, job.metric, key=key,
                                                 pure=False,
                                                 priority=self.submitted_jobs)
        return submitted, inputs

    def image_rows(self, table: Any, feature: Any, array: Any, on_bad: str, heavy: bool) -> None:
        """Extract the image rows ``array`` (a :class:`~stackfold.features.image_cache.ResumableArray`) lacks."""
        def submit() -> list["Future"]:
            table_f, feature_f = self._scatter([table, feature], "the image table")
            return [self.client.submit(image_rows, table_f, feature_f, start, stop, on_bad, self.n_jobs, pure=False,
                                       resources=self._resources(heavy), priority=PARTITION_PRIORITY)
                    for start, stop in self._partitions(len(table), feature.batch_size, array.done)]

        self._write(submit, array, "image feature rows")

    def sentence_rows(self, texts: list[str], array: Any, batch_size: int) -> None:
        """Encode the texts whose vectors ``array`` lacks, a partition of texts a task."""
        def submit() -> list["Future"]:
            return [self.client.submit(sentence_rows, texts[start:stop], start, batch_size, self.n_jobs, pure=False,
                                       resources=self._resources(True), priority=PARTITION_PRIORITY)
                    for start, stop in self._partitions(len(texts), batch_size, array.done)]

        self._write(submit, array, "sentence vectors")

    def frame_rows(self, frame: pd.DataFrame, rows: Callable[[pd.DataFrame], pd.DataFrame]) -> pd.DataFrame:
        """``rows`` of ``frame``'s row partitions computed on the workers, concatenated in order."""
        starts: dict[str, int] = {}
        parts: dict[int, pd.DataFrame] = {}

        def submit() -> list["Future"]:
            futures = []
            for start in range(0, len(frame), self.partition_rows):
                part = frame.iloc[start: start + self.partition_rows]
                futures.append(self.client.submit(frame_rows, rows, part, self.n_jobs, pure=False,
                                                  priority=PARTITION_PRIORITY))
                starts[futures[-1].key] = start
            return futures

        def keep(future: "Future") -> None:
            parts[starts[future.key]] = task_result(future, "view rows")

        self._gather(submit, keep, "view rows")
        return pd.concat([parts[start] for start in sorted(parts)], ignore_index=True)

    def _partitions(self, n_rows: int, batch_size: int, done: np.ndarray) -> list[tuple[int, int]]:
        """Row ranges of whole batches (a local extraction's, so the same bytes) holding a row not ``done``."""
        size = max(batch_size, self.partition_rows // batch_size * batch_size)
        return [(s, min(s + size, n_rows)) for s in range(0, n_rows, size) if not done[s: s + size].all()]

    def _scatter(self, data: list[Any], what: str, copies: int | None = None) -> list["Future"]:
        """Send ``data`` to ``copies`` workers (every worker by default); a lost scheduler is one line."""
        try:
            futures = self.client.scatter(data, hash=False)
            self.client.replicate(futures, n=copies)
        except (OSError, CancelledError) as e:  # distributed's CommClosedError and TimeoutError are OSErrors
            raise lost_cluster(f"sending {what}", e) from e
        return futures

    def _resources(self, heavy: bool) -> dict[str, float] | None:
        """Pretrained encoders ask for the configured worker resources (e.g. ``{"GPU": 1}``)."""
        return self.resources if heavy else None

    def _write(self, submit: Callable[[], list["Future"]], array: Any, what: str) -> None:
        """Write each partition's batches into ``array`` as the partition finishes (resumable: done rows are kept)."""
        def write(future: "Future") -> None:
            for start, values, flagged in task_result(future, what):
                array.write(start, values, flagged)

        self._gather(submit, write, what)

    def _gather(self, submit: Callable[[], list["Future"]], keep: Callable[["Future"], None], what: str) -> None:
        """``keep`` each partition's future as it finishes.

        ``submit`` submits the partitions still missing; it is called again when a worker died with
        the only copy of their inputs.
        """
        from distributed import as_completed

        futures = submit()
        if not futures:
            return
        with progress_bar(f"cluster: {what}, {len(futures)} partitions", len(futures)) as advance:
            try:
                for _ in range(MAX_RESUBMITS + 1):
                    try:
                        for future in as_completed(futures):
                            keep(future)
                            advance()
                        return
                    except LostInputs:
                        self.client.cancel(futures)
                        console.print(f"  {what}: a worker holding the inputs died; the rest is submitted again")
                        futures = submit()
            finally:
                self.client.cancel(futures)
        raise ClusterError(f"{what}: workers holding the inputs died {MAX_RESUBMITS} times; check the workers' memory "
                           "and logs, then run the same command again: finished rows are kept")


def _tag(job: FoldJob) -> str:
    """The checkpoint folder's name: a task key unique to the model's content key."""
    return job.checkpoint_dir.name


class LostInputs(Exception):
    """A task was cancelled while the scheduler is still there: a worker died holding the only copy of its inputs."""


def task_result(future: "Future", what: str) -> Any:
    """The task's result; its own error is raised as is, a lost scheduler is one line saying how to resume."""
    try:
        return future.result()
    except Exception as e:
        if future.status == "error":
            raise
        if future.status == "cancelled" and future.client.status == "running":
            raise LostInputs(what) from e
        raise lost_cluster(f"waiting for {what}", e) from e


def lost_cluster(doing: str, e: BaseException) -> ClusterError:
    """One line: the cluster went away while ``doing``, and how to resume."""
    return ClusterError(f"lost the Dask cluster while {doing} ({type(e).__name__}: {e}); run the same command again: "
                        "finished folds are kept (with --scheduler, or without to run here)")
