"""The one interface every base model and stacker implements.

Public :meth:`BaseModel.fit` / :meth:`BaseModel.predict_proba` do the checks, seeding and
timing once; subclasses write only ``_fit`` / ``_predict_proba``, and never see training rows of a
single class (the model then predicts that class). Probabilities always come
back with one column per class of the competition, in the spec's order, even when the
training rows lacked some classes: those columns are zero, whatever the model's output layer.
"""

import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Self

import numpy as np

from stackfold.core.params import Param, check_params, declare, resolve_params
from stackfold.core.topk import Probabilities, TopK, predicted_positions
from stackfold.errors import StackfoldError
from stackfold.progress import Cost

def _default_n_jobs() -> int:
    """2, the cores of the machine the defaults were designed for; ``STACKFOLD_N_JOBS`` overrides it (a parallel
    test run gives each of its workers one thread)."""
    value = os.environ.get("STACKFOLD_N_JOBS", "2")
    if not value.isdigit() or int(value) < 1:
        raise StackfoldError(f"STACKFOLD_N_JOBS={value!r}: give a number of threads of at least 1, or unset it")
    return int(value)


DEFAULT_N_JOBS = _default_n_jobs()
"""Threads of a model, a feature extractor or a run unless told otherwise (``n_jobs`` in a run's configuration)."""
COST_BASE_MODELS = 11
"""The number of base models a stacker's declared ``cost`` is measured over (the default list's)."""


class BaseModel(ABC):
    """A probabilistic classifier over one feature view.

    ``name`` identifies the model in run folders and leaderboards; ``views`` names the
    feature views it reads from its :class:`~stackfold.core.blocks.Views` input (empty
    for stackers, which read the stack matrix); ``parameters`` declares every hyper-parameter
    it accepts (:class:`~stackfold.core.params.Param`: default, type, range; a plain value is
    a parameter of its type); a stacker with ``reads_meta_features`` also gets the run's
    meta-feature columns after the stack matrix (see ``stackfold.features.meta``); a stacker with
    ``reads_top_k`` also reads a stack of each row's top k (``stackfold.core.topk.TopKStack``); ``cost``
    is what its 5-fold CV takes on the reference machine, for the run's ETA (a stacker's: over
    ``COST_BASE_MODELS`` base models).

    A subclass implements :meth:`_fit` and :meth:`_predict_proba`; :meth:`fit` and :meth:`predict_proba` wrap them
    with the checks, the timing and the column order. Its constructor takes the competition's class codes, the
    run's ``seed`` and ``n_jobs``, and any declared parameter by name (checked; the rest keep their defaults), all
    in ``self.params``.
    """

    name: ClassVar[str]
    views: ClassVar[tuple[str, ...]] = ()
    parameters: ClassVar[dict[str, Param]] = {}
    reads_meta_features: ClassVar[bool] = False
    reads_top_k: ClassVar[bool] = False
    keeps_labels: ClassVar[bool] = False
    """A decision rule that never changes a row's most probable class (a calibration): fit for a probability metric."""
    cost: ClassVar[Cost] = Cost(10.0)
    version: ClassVar[str] = ""
    """A plug-in's own version: change it with the model's code, so runs retrain it (part of its content key)."""
    cpu_dispatched: ClassVar[bool] = False
    """Its arithmetic runs in kernels picked for the CPU at run time (TensorFlow's oneDNN): the same bytes run
    after run on one machine, equal only up to float rounding on another CPU (docs/user-guide/reproducibility.md)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.parameters = declare(cls.parameters)

    def __init__(self, classes: Sequence[int], seed: int = 0, n_jobs: int = DEFAULT_N_JOBS, **params: Any):
        check_params(self.parameters, params, f"[params.{self.name}]")
        self.classes = np.asarray(classes)
        self.seed = seed
        self.n_jobs = n_jobs
        self.params = resolve_params(type(self), configured=params)
        self.fit_seconds_ = 0.0
        self.predict_seconds_ = 0.0

    @classmethod
    def source(cls) -> str:
        """Where a model of the user's comes from, for its content key: ``module:Class@version`` (empty for
        stackfold's own, whose code is the package's version)."""
        if cls.__module__.split(".")[0] == "stackfold":
            return ""
        return f"{cls.__module__}:{cls.__qualname__}@{cls.version}"

    def __getstate__(self) -> dict[str, Any]:
        """The fitted state a saved model keeps: all but the seconds timed, so the same fit saves the same bytes."""
        return {k: v for k, v in self.__dict__.items() if k not in ("fit_seconds_", "predict_seconds_")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.fit_seconds_ = self.predict_seconds_ = 0.0

    def fit(self, X: Any, y: np.ndarray) -> Self:
        """Fit on rows ``X`` with labels ``y`` given as class codes of the competition."""
        y = np.asarray(y)
        if n_rows(X) != len(y):
            raise StackfoldError(f"{self.name}: {n_rows(X)} feature rows but {len(y)} labels")
        unknown = ~np.isin(y, self.classes)
        if unknown.any():
            raise StackfoldError(f"{self.name}: label {y[unknown][0]} is not a class of the competition")
        positions = np.searchsorted(np.sort(self.classes), y)
        y_positions = np.argsort(self.classes)[positions]
        self.present_ = np.unique(y_positions)
        start = time.perf_counter()
        if len(self.present_) > 1:  # rows of one class leave nothing to learn: the model predicts that class
            self._fit(X, y_positions)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def predict_proba(self, X: Any) -> Probabilities:
        """Probabilities of shape ``(n_rows, n_classes)``, columns in the competition's class order (a stacker
        over top-k probabilities gives each row's top k, :class:`~stackfold.core.topk.TopK`)."""
        if not hasattr(self, "present_"):
            raise StackfoldError(f"{self.name}: predict_proba called before fit")
        start = time.perf_counter()
        raw = self._predict_proba(X) if len(self.present_) > 1 else np.ones((n_rows(X), 1))
        self.predict_seconds_ = time.perf_counter() - start
        n_classes = len(self.classes)
        if isinstance(raw, TopK):  # a blend over top-k probabilities
            return raw.without(np.setdiff1d(np.arange(n_classes), self.present_))
        raw = np.asarray(raw, dtype=np.float64)
        if raw.shape == (n_rows(X), len(self.present_)):
            proba = np.zeros((raw.shape[0], n_classes))
            proba[:, self.present_] = raw
        elif raw.shape == (n_rows(X), n_classes):
            proba = raw
        else:
            raise StackfoldError(f"{self.name}: _predict_proba returned shape {raw.shape}")
        # a class the model never saw in training gets no probability, whatever the model's output layer
        absent = np.setdiff1d(np.arange(n_classes), self.present_)
        proba[:, absent] = 0.0
        # float32 outputs drift from summing to 1 by ~1e-7; every consumer expects exact rows
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class code of every row."""
        return self.classes[predicted_positions(self.predict_proba(X))]

    @abstractmethod
    def _fit(self, X: Any, y: np.ndarray) -> None:
        """Fit on ``y`` given as class positions (0..n_classes-1)."""

    @abstractmethod
    def _predict_proba(self, X: Any) -> Probabilities:
        """Probabilities over ``self.present_`` (or over all classes; a blend over top-k input: a ``TopK``)."""


def saved_with_models(function: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a module-level function that fitted models hold (a ``FunctionTransformer``'s), so that
    ``stackfold.model_files.load_model`` may load it: no other function of stackfold is loaded."""
    function.saved_with_models = True  # type: ignore[attr-defined]
    return function


def n_rows(X: Any) -> int:
    """Number of rows of an array, sparse matrix, frame or sequence."""
    return X.shape[0] if hasattr(X, "shape") else len(X)
