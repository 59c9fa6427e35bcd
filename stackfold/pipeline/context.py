"""What training a run's models shares: the run's context (:class:`RunContext`) and a trained result (:class:`Trained`)."""

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from stackfold.competition.load import Dataset
from stackfold.competition.metric import metric_info
from stackfold.config import RunConfig
from stackfold.core.estimator import BaseModel
from stackfold.core.params import resolve_params
from stackfold.core.cv import CVResult
from stackfold.hashing import content_key
from stackfold.progress import Pace
from stackfold.run_folder import Level, RunFolder
from stackfold.tracking import NO_TRACKING, Tracker
from stackfold.version import __version__

if TYPE_CHECKING:
    from stackfold.cluster.runner import ClusterRunner


@dataclass(frozen=True)
class Trained:
    """A model's CV result with its level (``base`` or ``stack``) and content key."""

    result: CVResult
    level: Level
    key: str
    blank_images: int = 0
    leak_suspect: bool = False
    """An external model whose OOF score looks leaked (:func:`stackfold.external.leak_suspect`)."""
    reused: bool = False
    """Loaded from the run folder (its key unchanged), not fitted by this run."""


@dataclass(frozen=True)
class RunContext:
    run: RunFolder
    config: RunConfig
    dataset: Dataset
    folds: np.ndarray
    fold_key: str
    pace: Pace
    cluster: "ClusterRunner | None" = None
    tracker: Tracker = NO_TRACKING

    def make_model(self, model_class: type[BaseModel]) -> partial[BaseModel]:
        """Factory of fresh, unfitted instances with this run's classes, seed, threads and parameters.

        Parameters: :meth:`params`.
        """
        return partial(
            model_class, classes=self.dataset.spec.classes, seed=self.config.seed, n_jobs=self.config.n_jobs,
            **self.params(model_class),
        )

    def params(self, model_class: type[BaseModel]) -> dict[str, Any]:
        """The parameters ``model_class`` runs with in this run: defaults < tuned < configured."""
        name = model_class.name
        return resolve_params(model_class, self.run.tuned_params(name), self.config.model_params(name))

    def key(self, level: Level, model_class: type[BaseModel], inputs: Any) -> str:
        """Content key of a model's result: code version, effective parameters, seed, inputs, folds, classes
        (and the top k kept, in a top-k run; the metric, on a challenge scored by probabilities: its folds' scores
        hold its log loss, which a label metric's do not; a model of the user's: its source and version)."""
        params = self.params(model_class)
        top_k = () if self.config.top_k is None else (self.config.top_k,)
        metric = self.dataset.spec.metric
        scored = (metric,) if metric_info(metric).needs_probabilities else ()
        source = (model_class.source(),) if model_class.source() else ()
        return content_key(__version__, level, model_class.name, params, self.config.seed, inputs, self.fold_key,
                           self.dataset.spec.classes, *top_k, *scored, *source)
