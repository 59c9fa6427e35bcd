"""The run folder's results: each model's and stacker's probabilities, manifest, checkpoints and fitted models,
and the stack matrices read back from them (the layout: :mod:`stackfold.run_folder`)."""

import json
import shutil
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stackfold.core.cv import CVResult
from stackfold.core.stack import stack_columns
from stackfold.errors import RunFolderError
from stackfold.io import atomic_file, write_json_atomic
from stackfold.model_files import FittedModels
from stackfold.probability_files import read_probabilities, write_probabilities

FITTED_PREFIX = "fitted-"


class Level(StrEnum):
    """Where a result sits: a base model over features, or a stacker (or decision rule) over the stack."""

    BASE = "base"
    STACK = "stack"


_LEVEL_FOLDERS = {Level.BASE: "models", Level.STACK: "stackers"}


class ResultFiles:
    """The methods of :class:`~stackfold.run_folder.RunFolder` that read and write results under its ``root``."""

    root: Path

    @property
    def meta(self) -> Path:
        return self.root / "meta"

    def require(self, path: Path, what: str) -> Path:
        if not path.is_file():
            raise RunFolderError(f"{path}: no {what} in {self.root}; run `stackfold run DATA --out {self.root}` first")
        return path

    def stack_inputs(self, models: list[str], meta: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """OOF and test probabilities of base ``models`` side by side (then the meta-features), as stackers see them."""
        parts = []
        for name in models:
            folder = self.model_dir(Level.BASE, name)
            self.require(folder / "manifest.json", f"result of model {name!r}")
            parts.append([read_probabilities(folder, part, dense=True) for part in ("oof", "test")])
        if meta:
            parts.append([frame.to_numpy() for frame in self.load_meta()])
        return (np.hstack([p[0] for p in parts]).astype(np.float32),
                np.hstack([p[1] for p in parts]).astype(np.float32))

    def save_meta(self, train: pd.DataFrame, test: pd.DataFrame) -> None:
        """Write the meta-features (frames indexed like the train and test files)."""
        for part, frame in (("train", train), ("test", test)):
            with atomic_file(self.meta / f"{part}.parquet") as f:
                frame.to_parquet(f)

    def load_meta(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        return tuple(pd.read_parquet(self.require(self.meta / f"{part}.parquet", "meta-features"))
                     for part in ("train", "test"))

    def model_dir(self, level: Level, name: str) -> Path:
        """Folder of a base model or a stacker; a level that is not a :class:`Level` is a bug, never a new folder."""
        return self.root / _LEVEL_FOLDERS[Level(level)] / name

    def checkpoint_dir(self, level: Level, name: str, key: str) -> Path:
        return self.model_dir(level, name) / f"checkpoints-{key}"

    def fitted(self, level: Level, name: str, key: str) -> FittedModels:
        """The fitted models of a model's result of content key ``key``."""
        return FittedModels(self.model_dir(level, name) / f"{FITTED_PREFIX}{key}")

    @property
    def view_states(self) -> Path:
        """``views/``: what feature views learned from the run's rows (a count view's vocabulary), by view key."""
        return self.root / "views"

    def manifest(self, level: Level, name: str) -> dict[str, Any]:
        """The saved manifest of a model; empty if it has none."""
        path = self.model_dir(level, name) / "manifest.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def has_result(self, level: Level, name: str, key: str) -> bool:
        """Whether a result of content key ``key`` is saved for the model (nothing is loaded)."""
        return self.manifest(level, name).get("key") == key

    def load_result(self, level: Level, name: str, key: str, with_models: bool = False) -> CVResult | None:
        """The saved result of a model if its content key matches ``key`` (and, ``with_models``, its fitted
        models were kept, in the format this stackfold reads: a result saved before stackfold kept them has none, one
        of an older model format has models ``predict`` cannot load), else ``None``."""
        folder = self.model_dir(level, name)
        manifest = self.manifest(level, name)
        if manifest.get("key") != key:
            return None
        if with_models and not (manifest.get("fitted_models") and self.fitted(level, name, key).readable()):
            return None
        oof, test = (read_probabilities(folder, part) for part in ("oof", "test"))
        return CVResult(name, oof, test, pd.DataFrame(manifest["folds"]))

    def save_result(
        self, level: Level, result: CVResult, key: str, classes: list[int], train_index: pd.Index,
        test_index: pd.Index, info: dict[str, Any],
    ) -> None:
        """Write probabilities, then the manifest last: a result without manifest is not trusted."""
        folder = self.model_dir(level, result.name)
        columns = stack_columns(result.name, classes)
        for part, index in (("oof", train_index), ("test", test_index)):
            write_probabilities(folder, part, getattr(result, part), index, columns)
        manifest = {"key": key, "name": result.name, "level": level, **info,
                    "summary": result.summary(), "folds": result.scores.to_dict("records")}
        write_json_atomic(folder / "manifest.json", manifest)
        shutil.rmtree(self.checkpoint_dir(level, result.name, key), ignore_errors=True)
        for stale in folder.glob(f"{FITTED_PREFIX}*"):  # the fitted models of results this one replaces
            if stale.name != f"{FITTED_PREFIX}{key}":
                shutil.rmtree(stale, ignore_errors=True)

