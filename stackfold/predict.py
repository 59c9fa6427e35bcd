"""Predicting new products with a finished run's saved models: views -> base models -> stacker -> labels.

The new products' views are built with the run's parameters (a count view over the vocabulary the run
learned, :class:`~stackfold.features.store.ViewStates`) and cached in the run's ``cache/`` under keys of
their own. Each base model's fold models predict them and are averaged as the run averaged them
(:func:`~stackfold.core.cv.fold_average`); a stacker's refit model (a decision rule's, over its stacker)
then predicts from their probabilities side by side, as in the run. On the run's own test set this gives
the run's test probabilities, so ``submissions/best.csv`` again, byte for byte.
"""

import hashlib
import os
import tempfile
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from stackfold.competition.load import Dataset, load_test, products_dataset, validate_products
from stackfold.competition.challenges import get_spec
from stackfold.competition.spec import CompetitionSpec
from stackfold.config import RunConfig, load_config
from stackfold.core.cv import fold_average, predict_rows
from stackfold.core.estimator import BaseModel
from stackfold.core.topk import Probabilities, TopK, TopKStack, predicted_positions
from stackfold.errors import DataError, RunFolderError
from stackfold.external import read_external
from stackfold.features.meta import meta_features
from stackfold.features.store import FeatureStore, ViewStates
from stackfold.io import atomic_file
from stackfold.leaderboard import read_leaderboard
from stackfold.locking import folder_lock
from stackfold.model_files import FittedModels, check_saved
from stackfold.models.catalog import model_catalog
from stackfold.progress import console
from stackfold.run_folder import Level, RunFolder
from stackfold.submissions import write_submission


@dataclass(frozen=True)
class Prediction:
    """A run's prediction of new products: the leaderboard ``row`` that made it, each product's label, and the
    probabilities (a column per class, or each row's top k in a top-k run)."""

    row: str
    labels: pd.Series
    proba: Probabilities
    spec: CompetitionSpec

    def probabilities(self) -> pd.DataFrame:
        """The probabilities as a frame: a column per class (its code, or a string label as the challenge writes
        it), a row per product (dense runs only)."""
        if isinstance(self.proba, TopK):
            raise RunFolderError(f"{self.row}: a top-k run keeps each product's top {self.proba.k} classes only; "
                                 "write them with `stackfold predict --proba FILE.npz`")
        return pd.DataFrame(self.proba, index=self.labels.index, columns=self.spec.column_names())

    def write(self, submission: Path, proba: Path | None = None) -> None:
        """Write the challenge-format submission (validated first, atomically) and, if asked, the probabilities
        (``.parquet``: a column per class; a top-k run's: ``.npz`` of each row's top k)."""
        wanted = ".npz" if isinstance(self.proba, TopK) else ".parquet"
        if proba is not None and Path(proba).suffix != wanted:  # refused before anything is written
            raise RunFolderError(f"{proba}: this run's probabilities are written as {wanted}; name a {wanted} file")
        write_submission(Path(submission), self.spec, self.labels.index, self.labels.to_numpy(),
                         proba=None if isinstance(self.proba, TopK) else self.proba)
        if proba is None:
            return
        proba = Path(proba)
        if isinstance(self.proba, TopK):
            self.proba.save(proba, self.labels.index.to_numpy())
        else:
            frame = self.probabilities()
            frame.columns = [str(c) for c in frame.columns]
            with atomic_file(proba) as f:
                frame.to_parquet(f)


def run_config(run: RunFolder) -> RunConfig:
    """The configuration of the run's last finished ``stackfold run`` (``config.toml``), checked."""
    return load_config(run.require(run.config, "finished run (config.toml)"))


def load_products(run: RunFolder, config: RunConfig, products: str | Path | pd.DataFrame,
                  images: Path | None) -> Dataset:
    """New products as the dataset :func:`predict_products` takes: a folder holding the challenge's test file (and
    its photos), or a frame of products in the test file's columns with ``images`` the folder of their photo files.
    A frame's dataset is keyed by its content and that folder, so its views are cached as a folder's are."""
    spec = get_spec(config.challenge)
    if not isinstance(products, pd.DataFrame):
        writable = os.access(run.root, os.W_OK)  # a read-only run keeps no index of a BSON file
        return load_test(Path(products), spec, images=config.images, on_bad_image=config.on_bad_image,
                         index_file=run.bson_index if writable else None)
    if spec.format == "bson":
        raise DataError(f"{spec.name} products are read from a BSON file: pass the folder holding {spec.test_file}")
    if config.images and images is None:
        raise DataError(f"{run.root}: the run reads the products' photos; pass images=FOLDER holding their "
                        f"files ({spec.image_template})")
    frame = validate_products(products, spec, "products frame")
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    digest.update(str(Path(images or ".").resolve()).encode())
    return products_dataset(frame, replace(spec, test_image_dir="."), Path(images or "."), config.images,
                            config.on_bad_image, "frame-" + digest.hexdigest()[:16])


def predict_products(run_dir: Path, dataset: Dataset, row: str | None = None, cache: Path | None = None,
                     external: Mapping[str, Path] | None = None) -> Prediction:
    """The prediction of leaderboard ``row`` (default: the submitted one, ``best.csv``'s) of ``dataset``'s test
    products (:func:`load_products`), with the run's saved models; ``external``: the probabilities of those products
    by each external model the row needs (its name -> a file as ``add-oof`` takes).

    The new products' views are cached in ``cache``, by default the run's ``cache/``. A run folder one may write
    to is held with a shared lock, so no ``stackfold run`` replaces its models meanwhile; a read-only one (a
    Kaggle dataset) is not locked, and without ``cache`` its views go to a temporary folder, said in one line.
    """
    run = RunFolder(Path(run_dir))
    config = run_config(run)
    run_spec = get_spec(config.challenge)
    if dataset.spec.name != run_spec.name:
        raise RunFolderError(f"{run.root}: a {run_spec.name} run cannot predict {dataset.spec.name} products")
    writable = os.access(run.root, os.W_OK)
    with ExitStack() as stack:
        if writable:
            stack.enter_context(folder_lock(run.lock, "predict", shared=True))
        elif cache is None:
            cache = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="stackfold-predict-")))
            console.print(f"{run.root} is read-only: the new products' views are built in {cache}, deleted at the "
                          "end (--cache DIR keeps them)", soft_wrap=True)
        board = read_leaderboard(run.require(run.leaderboard, "leaderboard"))
        row = _row(board, row, run)
        levels = {m: Level(v) for m, v in zip(board["model"], board["level"])}
        predictor = _Predictor(run, config, dataset, levels, Path(cache) if cache else run.cache, dict(external or {}))
        predictor.check(row)  # a run folder missing anything is one line before any work
        proba = predictor.predict(row)
    labels = np.asarray(dataset.spec.classes)[predicted_positions(proba)]
    return Prediction(row, pd.Series(labels, index=dataset.test.index, name=dataset.spec.label_column), proba,
                      dataset.spec)


def _row(board: pd.DataFrame, row: str | None, run: RunFolder) -> str:
    if row is None:
        return str(board.loc[board["submitted"].astype(str) == "True", "model"].iloc[0])
    if row not in set(board["model"]):
        raise RunFolderError(f"{run.leaderboard}: no row {row!r}; choose one of {', '.join(board['model'])}")
    return row


class _Predictor:
    """Predicts the rows of one run, each base model once."""

    def __init__(self, run: RunFolder, config: RunConfig, dataset: Dataset, levels: dict[str, Level], cache: Path,
                 external: dict[str, Path]):
        self.run, self.config, self.dataset, self.levels, self.external = run, config, dataset, levels, external
        self.probabilities: dict[str, Probabilities] = {}
        view_keys = {}
        for folder in (run.root / "models").glob("*/manifest.json"):
            view_keys.update(run.manifest(Level.BASE, folder.parent.name).get("views", {}))
        self.store = FeatureStore(dataset, cache, config.features, config.on_bad_image, config.n_jobs,
                                  states=ViewStates(run.view_states, view_keys))

    def _manifest(self, name: str) -> dict:
        level = self.levels[name]
        manifest = self.run.manifest(level, name)
        if not manifest:
            raise RunFolderError(f"{self.run.model_dir(level, name)}: no result of {name!r}; the run folder is "
                                 "incomplete: rerun `stackfold run`")
        if "external" in manifest:
            if name not in self.external:
                raise RunFolderError(f"{name!r} was trained outside stackfold: give its probabilities of the new "
                                     f"products with --external {name}=FILE (the row id, then one column per class)")
            return manifest
        if not manifest.get("fitted_models"):
            raise RunFolderError(f"{self.run.model_dir(level, name)}: {name!r} was trained by a stackfold that kept "
                                 "no fitted models; rerun `stackfold run` on this folder to keep them, then predict")
        return manifest

    def _inputs(self, name: str) -> list[str]:
        """The rows whose probabilities row ``name`` reads (none for a base model)."""
        return [] if self.levels[name] == Level.BASE else self._manifest(name)["inputs"]

    def _folds(self, name: str) -> list[int]:
        """The saved models row ``name`` averages (a base model's folds) or applies (``-1``: a stacker's refit)."""
        if self.levels[name] != Level.BASE:
            return [-1]
        return [int(f["fold"]) for f in self._manifest(name)["folds"] if f["fold"] >= 0]

    def _trusted(self) -> dict[str, type[BaseModel]]:
        """The user's model classes this run's configuration names: the only ones its saved models may load as."""
        catalog = model_catalog(self.config.model, self.config.plugins)
        return {name: cls for name, cls in catalog.items() if cls.source()}

    def _fitted(self, name: str) -> FittedModels:
        return self.run.fitted(self.levels[name], name, self._manifest(name)["key"])

    def check(self, name: str) -> None:
        """One line unless every saved model row ``name`` needs is there, in the format this stackfold reads."""
        if "external" in self._manifest(name):
            return
        for fold in self._folds(name):
            check_saved(self._fitted(name).path(fold))
        if self.levels[name] == Level.BASE:
            for view in self.config.model_class(name).views:
                self.store.learned(view)  # a view that learns nothing: None
        for used in self._inputs(name):
            self.check(used)

    def predict(self, name: str) -> Probabilities:
        """Row ``name``'s probabilities of the new products: a base model's fold average, a stacker's (or decision
        rule's) refit model over its inputs' probabilities, each base model predicted once."""
        if name in self.probabilities:
            return self.probabilities[name]
        manifest = self._manifest(name)
        if "external" in manifest:
            self.probabilities[name] = read_external(self.external[name], self.dataset.spec, self.dataset.test.index,
                                                     "the new products")
            return self.probabilities[name]
        fitted = self._fitted(name)
        if self.levels[name] == Level.BASE:
            X = self.store.views(self.config.model_class(name).views)[1]
        elif "decision" in manifest:
            target = manifest["inputs"][0]
            X = np.hstack([np.asarray(self.predict(target), dtype=np.float32),
                           self._stack_matrix(self._inputs(target))])
        else:
            X = self._stack_matrix(manifest["inputs"])
            if manifest.get("meta_features"):
                X = np.hstack([X, self._meta(manifest["meta_features"], manifest["inputs"], X)])
        tests = []
        for fold in self._folds(name):
            console.print(f"  {name}: {'refit' if fold < 0 else f'fold {fold + 1}'} predicting "
                          f"{len(self.dataset.test)} products")
            tests.append(predict_rows(fitted.load(fold, self.config.n_jobs, self._trusted()), X, self.config.top_k)[0])
        base = self.levels[name] == Level.BASE  # a base model's folds are averaged; a stacker's refit is one model
        self.probabilities[name] = fold_average(tests, self.config.top_k) if base else tests[0]
        return self.probabilities[name]

    def _stack_matrix(self, inputs: list[str]) -> np.ndarray | TopKStack:
        probabilities = [self.predict(name) for name in inputs]
        if self.config.top_k is not None:
            return TopKStack(tuple(probabilities))
        return np.hstack(probabilities).astype(np.float32)

    def _meta(self, groups: list[str], inputs: list[str], stack: np.ndarray) -> np.ndarray:
        empty = np.empty((0, stack.shape[1]), dtype=stack.dtype)
        _, test = meta_features(tuple(groups), (empty, stack), inputs, self.dataset.spec.n_classes, self.store.get)
        return test.to_numpy(np.float32)
