"""The run folder: every artifact of one run, at one documented place.

::

    RUN/
      .lock                          held by the writing `run` (exclusive) or `tune` workers (shared)
      origin.json                    what the folder's results come from: data fingerprint, folds, seed
      config.running.toml            configuration of a run in progress (or one that failed) ...
      config.toml                    ... renamed to this when the run succeeds: the last finished run's
      challenge.toml                 the challenge's spec as the run read it, its classes listed (a run on
                                     a spec file; its config names it), so the folder reads without the data
      folds.csv                      index,fold,label: the one assignment every model and stacker uses
      cache/<view>-<key>/            feature views, keyed by content hash of data and builder
                                     (image views: memory-mapped .npy + done-mask, resumable)
      cache/bson-index-<file>-<key>.npz  where every image of a BSON file lies (Cdiscount), reused
                                     while the file keeps its size and modification time
      models/<name>/                 one folder per base model ...
      stackers/<name>/               ... and per stacker, each holding:
          manifest.json              content key, parameters, per-fold scores and seconds, blank images
          oof.parquet                OOF probabilities, columns {model}__{class}, original index
          test.parquet               test probabilities (fold average; stackers: refit on all rows)
          oof.npz, test.npz          instead, in a top-k run: each row's top k (`probability_files`)
          checkpoints-<key>/fold_k.npz   finished folds of an interrupted run
          fitted-<key>/fold_k/, refit/   the fitted models of the result (`model_files`): each fold's, and
                                     a stacker's refit on all rows; `stackfold predict` applies them
      views/<view>-<key>.npy         what a view learned from the run's rows: a count view's vocabulary
      meta/train.parquet, meta/test.parquet   meta-features of the boosted stackers (when configured)
      tuning/<stacker>.json          best parameters of `stackfold tune`, used by the next run
      tuning/<stacker>.db            the Optuna study (SQLite) unless --storage names another
      leaderboard.csv, leaderboard.md  one row per model and stacker, CV scores; `submitted` marks best.csv's
      submissions/best.csv           the submitted row's submission (challenge format): the latest
      submissions/<model>.csv        one per model, when model_submissions = true
      submissions/history/<UTC time>_<row>_<cv>.csv  every distinct submission ever written, kept
      submissions/registry.csv       one line per submission written: file, history copy, row, level,
                                     CV score, sha256, data and config keys, time
      explain/shares.json            each base model's share of mean |SHAP| in the lgbm stacker, overall
                                     and per class, with the key of the lgbm result explained
                                     (`stackfold explain`; `run` writes it too)
      shift/summary.json, shift/rows.parquet  the train/test shift check (`stackfold shift --out`, or a run
                                     with `shift = true`): each view's AUC and separators; each training
                                     row's test-probability and validation weight
      report/index.html              the run's report, one self-contained page (`stackfold report`)
      plan.json                      a time-limited run's plan: the limit, this machine's calibrated speed,
                                     the predicted total, each model and stacker run, reused, left out by
                                     the plan or skipped during the run, with why (none without a limit)
      timeline.csv                   the last `run`'s steps (views built, models and stackers trained,
                                     leaderboard, report): start, seconds, peak memory, run-folder size,
                                     the ETA shown as each began; rewritten after every step (a failed
                                     run's too: it shows how far the run got)
"""

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from stackfold.competition.folds import FoldAssignment, load_folds
from stackfold.errors import RunFolderMismatchError
from stackfold.io import atomic_file, write_json_atomic
from stackfold.run_folder.results import Level, ResultFiles
from stackfold.shift.result import ShiftResult

__all__ = ["Level", "RunFolder"]


@dataclass(frozen=True)
class RunFolder(ResultFiles):
    """Paths and (de)serialisation of a run's artifacts: no other module builds a path inside a run folder."""

    root: Path

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    @property
    def origin(self) -> Path:
        return self.root / "origin.json"

    @property
    def running_config(self) -> Path:
        return self.root / "config.running.toml"

    @property
    def config(self) -> Path:
        return self.root / "config.toml"

    @property
    def challenge(self) -> Path:
        return self.root / "challenge.toml"

    @property
    def folds(self) -> Path:
        return self.root / "folds.csv"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    def bson_index(self, file: Path, key: str) -> Path:
        """Where the index of BSON file ``file`` under content key ``key`` is cached."""
        return self.cache / f"bson-index-{Path(file).stem}-{key}.npz"

    @property
    def leaderboard(self) -> Path:
        return self.root / "leaderboard.csv"

    @property
    def leaderboard_markdown(self) -> Path:
        return self.root / "leaderboard.md"

    @property
    def submissions(self) -> Path:
        return self.root / "submissions"

    def submission(self, name: str) -> Path:
        """``submissions/<name>.csv``: ``best`` or a model's name."""
        return self.submissions / f"{name}.csv"

    @property
    def history(self) -> Path:
        return self.submissions / "history"

    def history_submission(self, row: str, cv_score: float, when: datetime) -> Path:
        """``submissions/history/<UTC time>_<row>_<cv>.csv``: a kept copy of one written submission."""
        return self.history / f"{when.astimezone(UTC):%Y%m%dT%H%M%SZ}_{row}_{cv_score:.4f}.csv"

    @property
    def submission_registry(self) -> Path:
        """Every submission written, with its model, CV score and sha256."""
        return self.submissions / "registry.csv"

    @property
    def shares(self) -> Path:
        """``explain/shares.json``: the saved result of ``stackfold explain``."""
        return self.root / "explain" / "shares.json"

    @property
    def shift(self) -> Path:
        """``shift/``: the train/test shift check (``summary.json``, ``rows.parquet``)."""
        return self.root / "shift"

    def save_shift(self, result: ShiftResult) -> None:
        """Write a shift check: its rows, then its summary; the old summary goes first, so a check stopped half-way
        leaves none (a reader takes the summary as the sign that the check is whole)."""
        (self.shift / "summary.json").unlink(missing_ok=True)
        with atomic_file(self.shift / "rows.parquet") as f:
            result.rows.to_parquet(f)
        write_json_atomic(self.shift / "summary.json", result.summary())

    def load_shift(self) -> ShiftResult | None:
        """The saved shift check, or ``None`` if there is none."""
        summary = self.shift / "summary.json"
        if not summary.is_file():
            return None
        rows = pd.read_parquet(self.require(self.shift / "rows.parquet", "shift check's rows"))
        return ShiftResult.from_saved(json.loads(summary.read_text(encoding="utf-8")), rows)

    def origin_data(self) -> str | None:
        """The data fingerprint of the folder's results (``origin.json``), ``None`` before a first run."""
        return json.loads(self.origin.read_text(encoding="utf-8"))["data"] if self.origin.is_file() else None

    @property
    def report(self) -> Path:
        """``report/index.html``: the run's report."""
        return self.root / "report" / "index.html"

    @property
    def plan(self) -> Path:
        """``plan.json``: the last time-limited run's plan (see :mod:`stackfold.pipeline.budget`)."""
        return self.root / "plan.json"

    def load_plan(self) -> dict | None:
        """The plan of the last run if it had a time limit, else ``None``."""
        return json.loads(self.plan.read_text()) if self.plan.is_file() else None

    @property
    def timeline(self) -> Path:
        """``timeline.csv``: the steps of the last ``run`` (see :meth:`save_timeline`)."""
        return self.root / "timeline.csv"

    def save_timeline(self, steps: list[dict[str, Any]]) -> None:
        """Write the steps so far (:class:`~stackfold.progress.Step` fields and ``disk_bytes``) as ``timeline.csv``."""
        frame = pd.DataFrame(steps)
        with atomic_file(self.timeline) as f:
            frame.to_csv(f, index=False, lineterminator="\n")

    def disk_bytes(self) -> int:
        """Bytes of every file under the run folder (feature caches included)."""
        return sum(path.stat().st_size for path in self.root.rglob("*") if path.is_file() and not path.is_symlink())

    @property
    def tuning(self) -> Path:
        return self.root / "tuning"

    def tuning_result(self, stacker: str) -> Path:
        """``tuning/<stacker>.json``: the best parameters of ``stackfold tune``, applied by the next run."""
        return self.tuning / f"{stacker}.json"

    def study_storage(self, stacker: str) -> Path:
        """``tuning/<stacker>.db``: the default SQLite storage of a stacker's Optuna study (folder created)."""
        self.tuning.mkdir(parents=True, exist_ok=True)
        return self.tuning / f"{stacker}.db"

    def tuned_params(self, stacker: str) -> dict[str, Any]:
        """Best parameters saved by ``stackfold tune`` for ``stacker`` (empty if never tuned)."""
        path = self.tuning_result(stacker)
        return json.loads(path.read_text())["params"] if path.is_file() else {}

    def load_fold_assignment(self) -> FoldAssignment:
        return load_folds(self.require(self.folds, "fold assignment"))

    def save_shares(self, overall: pd.Series, per_class: pd.DataFrame, stacker_key: str | None, rows: int) -> None:
        """Write ``explain/shares.json``: the shares overall and per class code, of stacker result ``stacker_key``
        over ``rows`` explained rows."""
        write_json_atomic(self.shares, {
            "stacker_key": stacker_key, "rows": rows, "overall": overall.to_dict(),
            "per_class": {str(code): row for code, row in per_class.to_dict("index").items()},
        })

    def load_explained(self, stacker_key: str | None, rows: int, classes: tuple
                       ) -> tuple[pd.Series, pd.DataFrame] | None:
        """The shares saved for stacker result ``stacker_key`` over ``rows`` rows, overall and per class (indexed by
        the challenge's ``classes``); ``None`` if none, or of another result or sample."""
        if not self.shares.is_file():
            return None
        saved = json.loads(self.shares.read_text(encoding="utf-8"))
        if saved.get("stacker_key") != stacker_key or saved.get("rows") != rows:
            return None
        code = {str(c): c for c in classes}
        per_class = pd.DataFrame.from_dict({code[k]: v for k, v in saved["per_class"].items()}, orient="index")
        return pd.Series(saved["overall"], name="share"), per_class

    def load_shares(self, stacker_key: str | None) -> pd.Series | None:
        """The overall shares saved for the stacker result ``stacker_key``; ``None`` if none or of another result."""
        if not self.shares.is_file():
            return None
        saved = json.loads(self.shares.read_text(encoding="utf-8"))
        return pd.Series(saved["overall"], name="share") if saved.get("stacker_key") == stacker_key else None

    def check_folder(self) -> None:
        """A one-line error, before any work, when the run folder's path names a file."""
        if self.root.exists() and not self.root.is_dir():
            raise RunFolderMismatchError(f"{self.root}: a file, not a run folder; pass a folder to --out")

    def check_origin(self, origin: dict[str, Any], data_dir: Path) -> None:
        """Refuse, naming what differs, to add results made from other data, folds or seed to this folder.

        The first run records ``origin`` (``save_origin``); a later run on the same folder must
        match it, or start over with ``--force``.
        """
        if not self.origin.is_file():
            return
        saved = json.loads(self.origin.read_text(encoding="utf-8"))
        differs = [f"{key} {saved.get(key)!r} -> {value!r}" for key, value in origin.items() if saved.get(key) != value]
        if differs:
            raise RunFolderMismatchError(
                f"{self.root} holds results of another run ({'; '.join(differs)}; data {saved.get('data_dir')} -> "
                f"{data_dir}); pass --force to delete them and start over, or choose another --out"
            )

    def save_origin(self, origin: dict[str, Any], data_dir: Path) -> None:
        write_json_atomic(self.origin, {**origin, "data_dir": str(Path(data_dir).resolve())})

    def remove_dead_temp_files(self) -> int:
        """Delete the temporary files of atomic writes a killed process left (call only holding the exclusive lock)."""
        stale = list(self.root.rglob(".*.tmp"))  # a folder among them: a fitted model's, half written
        for path in stale:
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        return len(stale)

    def clear_results(self) -> None:
        """Delete every result (``--force``); feature caches, which are keyed by content, and submissions stay."""
        for folder in ("models", "stackers", "meta", "tuning", "views", "shift"):
            shutil.rmtree(self.root / folder, ignore_errors=True)
        for path in (self.origin, self.folds, self.config, self.leaderboard, self.leaderboard_markdown):
            path.unlink(missing_ok=True)
