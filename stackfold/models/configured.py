"""A scikit-learn classifier named in a run's configuration, with no code: ``[model.NAME]`` in ``run.toml``.

::

    models = ["linear_svc", "et_chars"]

    [model.et_chars]
    estimator = "sklearn.ensemble:ExtraTreesClassifier"
    views = ["char_counts"]
    params = { n_estimators = 300, min_samples_leaf = 2 }

It runs through the same OOF loop, checkpoints, content keys, saved fold models and ``predict`` as a
built-in model. Its parameters are the estimator's own (``get_params``), checked by scikit-learn before any
training; ``[model.NAME] params`` are configured values, over tuned ones, over the estimator's defaults.

Parameters:
    estimator: ``module:Class`` of a scikit-learn classifier (or one following its API); ``random_state`` and
        ``n_jobs`` are set from the run's ``seed`` and ``n_jobs``.
    class: ``module:Class`` of a plug-in model (a ``stackfold.base.BaseModel`` subclass), instead of ``estimator``;
        its parameters go in ``[params.NAME]``.
    views: the feature views the estimator reads, side by side (numbers, a row per product).
    params: the estimator's parameters, checked by scikit-learn before any training.
"""

from functools import cache
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import is_classifier

from stackfold.core.blocks import ImageBlock, Views
from stackfold.core.estimator import BaseModel
from stackfold.core.params import Param
from stackfold.core.splits import inner_folds
from stackfold.errors import ConfigError
from stackfold.models.calibration import sigmoid_calibrated
from stackfold.models.imports import import_object
from stackfold.progress import Cost

MATRIX_VIEWS = ("word_counts", "char_counts", "title_counts", "title_char_counts", "sentence", "color", "pixels",
                "vgg16", "efficientnet")
"""The views a configured estimator may read: numbers, one row per product (an image view's rows are averaged per
product). ``text``, ``title`` and ``rows`` are tables of strings, ``images`` raw pixels: a plug-in class reads them."""
CALIBRATION_FOLDS = 3
"""Inner folds on which an estimator without ``predict_proba`` (an SVM) is calibrated, sigmoid, as ``linear_svc``."""
DEFINITION_KEYS = ("estimator", "class", "views", "params")
RUN_SETTINGS = {"random_state": "seed", "n_jobs": "n_jobs"}
"""Estimator parameters the run sets, and the run's key that sets them."""


class EstimatorModel(BaseModel):
    """A scikit-learn classifier over its ``views`` side by side (sparse when one of them is).

    A classifier without ``predict_proba`` is calibrated (:data:`CALIBRATION_FOLDS`); ``random_state`` and
    ``n_jobs``, where the estimator has them, are the run's ``seed`` and ``n_jobs`` (:data:`RUN_SETTINGS`).
    """

    estimator: ClassVar[str]
    """``module:Class`` of the scikit-learn classifier."""
    estimator_class: ClassVar[type]

    @classmethod
    def source(cls) -> str:
        """The estimator's path and its library's version (a new scikit-learn may fit otherwise: retrained)."""
        return f"{cls.estimator}@{library_version(cls.estimator.split('.')[0])}"

    def _fit(self, X: Views, y: np.ndarray) -> None:
        estimator = self.build_estimator()
        if not hasattr(estimator, "predict_proba"):
            estimator = sigmoid_calibrated(estimator, inner_folds(y, CALIBRATION_FOLDS, self.seed), y)
        self.estimator_ = estimator.fit(features(X, self.views), y)

    def _predict_proba(self, X: Views) -> np.ndarray:
        rows = features(X, self.views)
        proba = np.zeros((rows.shape[0], len(self.classes)))
        proba[:, self.estimator_.classes_] = self.estimator_.predict_proba(rows)
        return proba

    def build_estimator(self) -> Any:
        """The unfitted estimator with this run's parameters, seed and threads."""
        own = self.estimator_class().get_params(deep=False)
        settings = {"random_state": self.seed, "n_jobs": self.n_jobs}
        return self.estimator_class(**self.params, **{key: settings[key] for key in RUN_SETTINGS if key in own})


@cache
def library_version(package: str) -> str:
    """The installed version of the distribution providing import package ``package`` ("" if none is known)."""
    for distribution in packages_distributions().get(package, []):
        try:
            return version(distribution)
        except PackageNotFoundError:
            continue
    return ""


def features(X: Views, views: tuple[str, ...]) -> np.ndarray | sp.csr_matrix:
    """The blocks of ``views`` side by side, one row per product: sparse (CSR) when one of them is."""
    blocks = []
    for view in views:
        block = X[view]
        if isinstance(block, ImageBlock):
            block = block.per_product(block.materialize().reshape(block.n_images, -1)).astype(np.float32)
        blocks.append(block)
    if any(sp.issparse(b) for b in blocks):
        return sp.hstack(blocks, format="csr")
    return np.hstack(blocks) if len(blocks) > 1 else np.asarray(blocks[0])


def estimator_model(name: str, definition: dict[str, Any]) -> type[EstimatorModel]:
    """The model class of ``[model.NAME]`` with an ``estimator``; every problem is one line naming the key."""
    where = f"[model.{name}]"
    path = definition["estimator"]
    estimator_class = import_object(path, f"{where} estimator")
    if not isinstance(estimator_class, type) or not is_classifier(estimator_class()):
        raise ConfigError(f"{where} estimator = {path!r} is not a scikit-learn classifier (no _estimator_type "
                          "'classifier'); name a classifier, or write a plug-in class (docs: Your own models)")
    views = definition.get("views")
    if not isinstance(views, list) or not views:
        raise ConfigError(f"{where} views: give the views it reads, a list of: {', '.join(MATRIX_VIEWS)}")
    for view in views:
        if view not in MATRIX_VIEWS:
            raise ConfigError(f"{where} views: {view!r} is not a view of numbers per product; choose from: "
                              f"{', '.join(MATRIX_VIEWS)}")
    defaults = estimator_class().get_params(deep=False)
    model = type(estimator_class.__name__, (EstimatorModel,), {
        "name": name, "views": tuple(views), "estimator": path, "estimator_class": estimator_class,
        "parameters": {key: Param(value, kind=object) for key, value in defaults.items() if key not in RUN_SETTINGS},
        "cost": Cost(60.0), "__module__": __name__, "__qualname__": f"EstimatorModel[{name}]",
    })
    check_estimator_params(model, definition.get("params", {}), where)
    return model


def check_estimator_params(model: type[EstimatorModel], params: dict[str, Any], where: str) -> None:
    """scikit-learn's own check of ``params`` (names, types, ranges), before any training."""
    if not isinstance(params, dict):
        raise ConfigError(f"{where} params: give a table, e.g. params = {{ n_estimators = 300 }}")
    unknown = sorted(set(params) - set(model.parameters))
    if unknown and unknown[0] in RUN_SETTINGS:
        raise ConfigError(f"{where} params: {unknown[0]} is the run's {RUN_SETTINGS[unknown[0]]}; set "
                          f"{RUN_SETTINGS[unknown[0]]} = ... at the top of run.toml")
    if unknown:
        raise ConfigError(f"{where} params: {model.estimator_class.__name__} has no parameter {unknown[0]!r}; known: "
                          f"{', '.join(sorted(model.parameters))}")
    estimator = model.estimator_class(**params)
    validate = getattr(estimator, "_validate_params", None)  # scikit-learn's own estimators (1.2+)
    if validate is not None:
        try:
            validate()
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{where} params: {' '.join(str(e).split())}") from e
