"""Fusion on pretrained embeddings: a product's sentence vector and its images' EfficientNet features in one net.

Both embeddings are unfitted (pretrained, computed once for every row), so the head alone
learns from labels, inside the fold. With ``tfidf_net = true`` the embedding of a TF-IDF text
net (:class:`TextNN`) trained inside ``fit`` is appended, as the published fusion does.
"""

from types import ModuleType
from typing import Any

import numpy as np

from stackfold.core.blocks import Views
from stackfold.core.estimator import BaseModel
from stackfold.core.params import count, fraction
from stackfold.core.splits import inner_split
from stackfold.core.tf_runtime import keras
from stackfold.models.keras_support import (
    array_batches, fit_dense_head, prefixed, standardisation, training_parameters, unprefixed,
)
from stackfold.models.text_nn import TextNN
from stackfold.progress import Cost


class Fusion(BaseModel):
    """[sentence vector | mean EfficientNet features of the product's images (| TF-IDF net embedding)]
    -> standardise -> Dropout -> Dense relu -> Dropout -> softmax, early-stopped on an inner split.

    The inner split holds out a stratified ``validation_fraction`` of the training rows; with
    ``tfidf_net`` the text net is trained on the other rows only, so the rows the head stops on are
    embedded as held-out and test rows are, by a net that never saw their labels.

    Parameters:
        tfidf_net: also feed the head the embedding of a ``text_nn`` trained inside each fit (the published fusion).
        units: width of the hidden ReLU layer.
        input_dropout: share of the standardised inputs dropped at each training step.
        dropout: share of the hidden units dropped at each training step.
        text_*: the inner text net's (with ``tfidf_net``), see :class:`stackfold.models.text_nn.TextNN`.
        learning_rate, batch_size, max_steps_per_epoch, epochs, patience, validation_fraction: the head's,
            see :func:`stackfold.models.keras_support.training_parameters`.
    """

    name = "fusion"
    cost = Cost(205.0, exponent=0.45)
    views = ("sentence", "efficientnet", *TextNN.views)
    cpu_dispatched = True  # a keras net: TensorFlow's kernels
    parameters = {
        "tfidf_net": False,
        "units": count(512),
        "input_dropout": fraction(0.2),
        "dropout": fraction(0.5),
        **training_parameters(batch_size=64, epochs=60, patience=5),
        **prefixed("text_", TextNN.parameters),
    }

    def _fit(self, X: Views, y: np.ndarray) -> None:
        head_rows, stopping_rows = inner_split(y, self.params["validation_fraction"], self.seed)
        if self.params["tfidf_net"]:
            self.text_ = TextNN(self.classes, self.seed, self.n_jobs, **unprefixed("text_", self.params))
            self.text_.fit(X.take(head_rows), self.classes[y[head_rows]])
        embedded = self._embed(X)
        k = keras(self.n_jobs, self.seed)
        self.model_ = self.network(k, embedded[head_rows], len(self.classes))
        self.epochs_ = fit_dense_head(k, self.model_, embedded, y, head_rows, stopping_rows, self.params, self.seed)

    def _predict_proba(self, X: Views) -> np.ndarray:
        return self.model_.predict(array_batches(self._embed(X), None, self.params["batch_size"], None), verbose=0)

    def network(self, keras_module: ModuleType, fitted_on: np.ndarray, n_classes: int) -> Any:
        """The uncompiled head, standardising its input with the statistics of the rows ``fitted_on``."""
        k, p = keras_module, self.params
        mean, variance = standardisation(fitted_on)
        return k.Sequential([
            k.Input(shape=(fitted_on.shape[1],)),
            k.layers.Normalization(mean=mean, variance=variance),
            k.layers.Dropout(p["input_dropout"]),
            k.layers.Dense(p["units"], activation="relu"),
            k.layers.Dropout(p["dropout"]),
            k.layers.Dense(n_classes, activation="softmax"),
        ])

    def _embed(self, X: Views) -> np.ndarray:
        """Sentence vector, mean image features (and text-net embedding) of every product, side by side."""
        images = X["efficientnet"]
        parts = [np.asarray(X["sentence"]), images.per_product(images.materialize())]
        if self.params["tfidf_net"]:
            parts.append(self.text_.embed(X))
        return np.hstack(parts).astype(np.float32)
