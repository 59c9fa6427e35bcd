"""A fitted model saved as a folder of files, and loaded back without running code from it.

A model's object graph (its parameters, arrays, fitted scikit-learn objects, fold TF-IDF columns and
IDF weights...) is pickled to ``model.pkl``, except that each keras net and each booster goes to a file
of its library's own format, referenced from the pickle:

* ``net_<i>.json`` + ``net_<i>.weights.h5``: a keras net's architecture (``to_json``) and weights;
* ``booster_<i>.txt``: a LightGBM booster (its model text), ``booster_<i>.ubj``: an XGBoost booster;
* ``format.json``: the format version and the stackfold version that wrote the folder.

Unpickling runs whatever callables a file names, so :func:`load_model` accepts only these globals,
and refuses anything else (``os.system``, ``builtins.eval``...) before it is called: numpy's array
and scalar reconstruction, numpy scalar and dtype classes, scipy's sparse matrix classes,
scikit-learn estimators (subclasses of ``BaseEstimator``) and the three helper classes they hold,
stackfold's models and stackers (subclasses of :class:`~stackfold.core.estimator.BaseModel`),
its scikit-learn style transformers, :class:`~stackfold.features.tfidf.ViewsTfidf`, the functions
marked :func:`~stackfold.core.estimator.saved_with_models` (a ``FunctionTransformer``'s), SGD's loss
classes, and ``set`` / ``frozenset`` / ``slice``. Calling one of those classes, or setting its state, runs only
its own library's code. A model of the user's (a plug-in class, a configured scikit-learn estimator) is saved under
its name alone, and loads only as the class the run's own configuration names (``trusted``: the user's explicit
trust), with the estimator class that configuration names; any other is refused before it is called. A keras architecture is rebuilt with keras's safe mode on (a ``Lambda``
layer's code is refused), then its weights are read.
"""

import importlib
import io
import json
import os
import pickle
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from stackfold.core.estimator import DEFAULT_N_JOBS, BaseModel
from stackfold.errors import RunFolderError
from stackfold.features.tfidf import ViewsTfidf
from stackfold.io import atomic_file
from stackfold.version import __version__

FORMAT = 2
"""The version of this layout; a folder of another version is refused in one line (rerun to predict)."""
MODEL_FILE = "model.pkl"
FORMAT_FILE = "format.json"
_BUILTINS = {"set", "frozenset", "slice"}
_NUMPY_FUNCTIONS = {(f"numpy.{core}.{module}", name) for core in ("_core", "core")
                    for module, name in (("multiarray", "_reconstruct"), ("multiarray", "scalar"),
                                         ("numeric", "_frombuffer"))}
_SKLEARN_HELPERS = {"sklearn.tree._tree.Tree", "sklearn.calibration._CalibratedClassifier",
                    "sklearn.utils._bunch.Bunch"}
_SKLEARN_HELPER_MODULES = {"sklearn.linear_model._sgd_fast"}
"""SGD's loss objects (``Hinge``...), which a fitted ``SGDClassifier`` holds."""
_STACKFOLD_HELPERS = (ViewsTfidf,)
_IMPORTABLE = ("numpy", "scipy", "sklearn", "stackfold")


def dump_model(model: BaseModel) -> dict[str, bytes]:
    """The files of a fitted ``model``'s folder, by name (bytes: a cluster worker returns them to the client)."""
    files: dict[str, bytes] = {}
    buffer = io.BytesIO()
    _Pickler(buffer, files).dump(model)
    files[MODEL_FILE] = buffer.getvalue()
    files[FORMAT_FILE] = json.dumps({"format": FORMAT, "stackfold": __version__}).encode()
    return files


def write_model(folder: Path, files: dict[str, bytes]) -> None:
    """Write a model's files as ``folder``, whole or not at all: a failed write (a full disk) leaves nothing, a
    killed one only a dead temporary folder, which the next run removes (``RunFolder.remove_dead_temp_files``)."""
    folder = Path(folder)
    temporary = folder.with_name(f".{folder.name}.tmp")
    shutil.rmtree(temporary, ignore_errors=True)
    try:
        temporary.mkdir(parents=True)
        for name, data in files.items():
            with atomic_file(temporary / name) as f:
                f.write(data)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(temporary, folder)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def load_model(folder: Path, n_jobs: int = DEFAULT_N_JOBS, trusted: Mapping[str, type[BaseModel]] | None = None
               ) -> BaseModel:
    """The model saved as ``folder`` (a keras net in it runs on ``n_jobs`` threads); a folder of another format
    version, or none, is a one-line error. ``trusted``: the user's model classes the run's configuration names."""
    folder = Path(folder)
    check_saved(folder)
    with open(folder / MODEL_FILE, "rb") as f:
        model = _Unpickler(f, folder, n_jobs, trusted or {}).load()
    if not isinstance(model, BaseModel):
        raise RunFolderError(f"{folder / MODEL_FILE}: holds a {type(model).__name__}, not a fitted model")
    return model


def check_saved(folder: Path) -> None:
    """One line unless ``folder`` holds a whole model of the format this stackfold reads (nothing is unpickled)."""
    format_file = Path(folder) / FORMAT_FILE
    if not format_file.is_file() or not (Path(folder) / MODEL_FILE).is_file():
        raise RunFolderError(f"{folder}: missing; the run folder is incomplete: rerun `stackfold run`")
    try:
        saved = json.loads(format_file.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RunFolderError(f"{format_file}: not a model's format file ({e}); rerun `stackfold run`") from e
    if saved.get("format") != FORMAT:
        raise RunFolderError(f"{folder}: saved by stackfold {saved.get('stackfold')} in model format "
                             f"{saved.get('format')}, and stackfold {__version__} reads format {FORMAT}; rerun "
                             "`stackfold run` with this version to predict")


class _Pickler(pickle.Pickler):
    """Pickles a model, sending keras nets and boosters to files of their own format in ``files``."""

    def __init__(self, file: io.BytesIO, files: dict[str, bytes]):
        super().__init__(file, protocol=5)
        self.files = files
        self.count = 0

    def persistent_id(self, obj: Any) -> tuple | None:
        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.source():
            return ("model_class", obj.name)  # the user's class: by name, resolved only through the configuration
        kind = _library_kind(obj)
        if kind is None:
            return None
        self.count += 1
        stem = f"{'net' if kind == 'keras' else 'booster'}_{self.count}"
        if kind == "keras":
            self.files[f"{stem}.json"] = obj.to_json().encode()
            self.files[f"{stem}.weights.h5"] = _keras_weights(obj)
            return ("keras", stem)
        best = getattr(obj, "best_iteration", None)
        if kind == "lightgbm":
            self.files[f"{stem}.txt"] = obj.model_to_string(num_iteration=-1).encode()
        else:
            self.files[f"{stem}.ubj"] = bytes(obj.save_raw("ubj"))
        return (kind, stem, best)


def _library_kind(obj: Any) -> str | None:
    """``"keras"``, ``"lightgbm"`` or ``"xgboost"`` for an object saved in its library's format, else ``None``.

    A library not yet imported cannot have made ``obj``, so none is imported here."""
    if "keras" in sys.modules and isinstance(obj, sys.modules["keras"].Model):
        return "keras"
    if "lightgbm" in sys.modules and isinstance(obj, sys.modules["lightgbm"].Booster):
        return "lightgbm"
    if "xgboost" in sys.modules and isinstance(obj, sys.modules["xgboost"].Booster):
        return "xgboost"
    return None


def _keras_weights(net: Any) -> bytes:
    """A keras net's ``.weights.h5`` file as bytes (keras writes weights only to a named file)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "net.weights.h5"
        net.save_weights(path)
        return path.read_bytes()


class _Unpickler(pickle.Unpickler):
    """Resolves only the allowed globals (module docstring); loads referenced nets and boosters from ``folder``."""

    def __init__(self, file: Any, folder: Path, n_jobs: int, trusted: Mapping[str, type[BaseModel]]):
        super().__init__(file)
        self.folder, self.n_jobs, self.trusted = folder, n_jobs, trusted
        self.estimators = {(c.__module__, c.__qualname__): c
                           for c in (getattr(m, "estimator_class", None) for m in trusted.values()) if c is not None}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.estimators:  # a configured estimator's class, named by the run's configuration
            return self.estimators[module, name]
        if module == "builtins" and name in _BUILTINS:
            return getattr(__import__("builtins"), name)
        if module.split(".")[0] in _IMPORTABLE:
            found = getattr(importlib.import_module(module), name, None)
            if (module, name) in _NUMPY_FUNCTIONS or (isinstance(found, type) and _allowed_class(found)):
                return found
            if module.startswith("stackfold.") and getattr(found, "saved_with_models", False):
                return found
        raise RunFolderError(f"{self.folder / MODEL_FILE}: refers to {module}.{name}, which a saved model never holds; "
                             "the file was not written by stackfold, and is not loaded")

    def persistent_load(self, pid: Any) -> Any:
        kind, stem = pid[0], pid[1]
        if kind == "model_class":
            if stem not in self.trusted:
                raise RunFolderError(f"{self.folder / MODEL_FILE}: a model of class {stem!r}, which the run's "
                                     "configuration does not name; it is not loaded")
            return self.trusted[stem]
        if kind == "keras":
            from stackfold.core.tf_runtime import keras

            k = keras(self.n_jobs, 0)
            net = k.models.model_from_json((self.folder / f"{stem}.json").read_text())  # safe mode: no Lambda code
            net.load_weights(self.folder / f"{stem}.weights.h5")
            return net
        if kind == "lightgbm":
            import lightgbm

            booster = lightgbm.Booster(model_str=(self.folder / f"{stem}.txt").read_text())
        elif kind == "xgboost":
            import xgboost

            booster = xgboost.Booster()
            booster.load_model(bytearray((self.folder / f"{stem}.ubj").read_bytes()))
        else:
            raise RunFolderError(f"{self.folder / MODEL_FILE}: refers to a {kind!r} file, which stackfold never writes")
        if pid[2] is not None:
            booster.best_iteration = pid[2]
        return booster


def _allowed_class(cls: type) -> bool:
    """Whether ``cls`` is a class a saved model may hold (module docstring)."""
    root = cls.__module__.split(".")[0]
    if root == "numpy":
        return cls is np.ndarray or issubclass(cls, np.generic | np.dtype)
    if root == "scipy":
        return issubclass(cls, sp.sparray | sp.spmatrix)
    if root == "sklearn":
        return (issubclass(cls, BaseEstimator) or f"{cls.__module__}.{cls.__qualname__}" in _SKLEARN_HELPERS
                or cls.__module__ in _SKLEARN_HELPER_MODULES)
    if root == "stackfold":
        return issubclass(cls, BaseModel | BaseEstimator) or cls in _STACKFOLD_HELPERS
    return False



@dataclass(frozen=True)
class FittedModels:
    """The fitted models of one result, in ``folder``: ``fold_<k>/`` for fold k's, ``refit/`` for the refit on all
    rows (a stacker's), each a model's folder (module docstring)."""

    folder: Path

    def path(self, fold: int) -> Path:
        """The folder of fold ``fold``'s model (``-1``: the refit's)."""
        return self.folder / ("refit" if fold < 0 else f"fold_{fold}")

    def has(self, fold: int) -> bool:
        """Whether fold ``fold``'s model is saved whole, in the format this stackfold reads."""
        try:
            check_saved(self.path(fold))
        except RunFolderError:
            return False
        return True

    def readable(self) -> bool:
        """Whether every saved model here is whole and in the format this stackfold reads (an older format's are
        fitted again by the next run, not reused: ``predict`` could not load them)."""
        folders = [p for p in self.folder.iterdir() if p.is_dir() and not p.name.startswith(".")] \
            if self.folder.is_dir() else []
        try:
            for folder in folders:
                check_saved(folder)
        except RunFolderError:
            return False
        return bool(folders)

    def save(self, fold: int, model: BaseModel) -> None:
        write_model(self.path(fold), dump_model(model))

    def write(self, fold: int, files: dict[str, bytes]) -> None:
        """Write the files :func:`dump_model` gave (on a cluster worker) as fold ``fold``'s model."""
        write_model(self.path(fold), files)

    def load(self, fold: int, n_jobs: int = DEFAULT_N_JOBS, trusted: Mapping[str, type[BaseModel]] | None = None
             ) -> BaseModel:
        return load_model(self.path(fold), n_jobs, trusted)
