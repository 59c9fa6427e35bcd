"""The model contract, public: what a model of your own implements to enter a stackfold run.

A model is a subclass of :class:`BaseModel` that declares

* ``name``: its row on the leaderboard (not a built-in model's);
* ``views``: the feature views it reads (``stackfold.features.views.VIEWS`` lists and describes them); ``_fit`` and ``_predict_proba`` receive them as a
  :class:`Views` mapping, one block per view, rows in the same order (an image view is an :class:`ImageBlock`);
* ``parameters``: every hyper-parameter, as :class:`Param` (default, type, range) or a plain default;
  configured under ``[params.NAME]`` in ``run.toml``, over tuned values, over the defaults (``self.params``);
* ``version``: change it when the model's code changes: it is part of the model's content key, so runs retrain it;

and implements ``_fit(X, y)`` (``y``: class positions 0..K-1) and ``_predict_proba(X)`` (one column per class
seen in training, ``self.present_``, or per class). :meth:`BaseModel.fit` / :meth:`BaseModel.predict_proba` do the
checks, timing and column order. Seed (``self.seed``) and threads (``self.n_jobs``) come from the run; a keras net
takes both from :func:`keras_runtime`. A fitted model is saved with pickle (keras nets and boosters in their own
formats) and loaded by ``stackfold predict`` only as the class the run's configuration names.

A run names the class by ``module:Class`` in ``models``, or by its ``name`` with its file in ``plugins``
(docs: "Your own models"; ``examples/sentence_head.py`` is a complete one).
"""

from stackfold.core.blocks import ImageBlock, Views
from stackfold.core.estimator import BaseModel, saved_with_models
from stackfold.core.params import Param, count, fraction, positive
from stackfold.core.tf_runtime import keras as keras_runtime
from stackfold.progress import Cost

__all__ = ["BaseModel", "Cost", "ImageBlock", "Param", "Views", "count", "fraction", "keras_runtime",
           "positive", "saved_with_models"]
