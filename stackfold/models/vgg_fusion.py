"""The published late-fusion net (``vgg_fusion``): text NN and VGG16 head embeddings side by side, then a
dense classifier. Published on the real challenge: 81.9% test accuracy. The default fusion on pretrained
embeddings is :class:`stackfold.models.fusion.Fusion`.
"""

from types import ModuleType
from typing import Any

import numpy as np

from stackfold.core.blocks import Views
from stackfold.core.estimator import BaseModel
from stackfold.core.params import count, fraction
from stackfold.core.splits import inner_split
from stackfold.core.tf_runtime import keras
from stackfold.models.image_vgg import VggNN
from stackfold.models.keras_support import fit_dense_head, prefixed, training_parameters, unprefixed
from stackfold.models.text_nn import TextNN

HEAD_DEFAULTS = {
    "units": count(1024),
    "dropout": fraction(0.25),
    "final_dropout": fraction(0.5),
    **training_parameters(batch_size=256, epochs=30, patience=3),
}


class VggFusion(BaseModel):
    """A text NN and a VGG16 head, each trained on the rows given; their 256-d embeddings feed a dense net.

    ``_fit`` holds out a stratified ``validation_fraction`` of the training rows, trains
    :class:`TextNN` and :class:`VggNN` (``text_*`` and ``image_*`` parameters) on the rest (each
    early-stopped on its own inner split); a product's image embedding is the mean over its
    images. The concatenated embeddings go through BatchNorm -> Dense 1024 relu -> BatchNorm ->
    Dropout 0.25 -> Dense 1024 relu -> BatchNorm -> Dropout 0.5 -> softmax, trained on the same
    rows as the nets and early-stopped on the held-out ones, which the nets never saw.

    Out of fold this is honest: :func:`~stackfold.core.cv.cross_validate` calls ``fit`` on a
    fold's training part only, and the embedding nets are trained inside ``fit``, so in each outer
    fold the text and image nets that embed the held-out rows never saw their labels; nor did the
    head. Embedding nets trained once on all rows would leak every OOF label into the stack.

    Parameters:
        text_*: the inner text net's, see :class:`stackfold.models.text_nn.TextNN`.
        image_*: the inner VGG16 head's, see :class:`stackfold.models.image_vgg.VggNN`.
        units: width of the two hidden ReLU layers of the head.
        dropout: share of the first hidden layer's units dropped at each training step.
        final_dropout: share of the second hidden layer's units dropped at each training step.
        learning_rate, batch_size, max_steps_per_epoch, epochs, patience, validation_fraction: the head's,
            see :func:`stackfold.models.keras_support.training_parameters`.
    """

    name = "vgg_fusion"
    views = (*TextNN.views, *VggNN.views)
    cpu_dispatched = True  # a keras net: TensorFlow's kernels
    parameters = {**prefixed("text_", TextNN.parameters), **prefixed("image_", VggNN.parameters), **HEAD_DEFAULTS}

    def _fit(self, X: Views, y: np.ndarray) -> None:
        # the embedding nets never see the head's stopping rows, so those rows are embedded as
        # held-out and test rows are: stopping on embeddings the nets were trained on would let
        # the head learn to trust their overfitted training-row embeddings for as long as it likes
        head_rows, stopping_rows = inner_split(y, self.params["validation_fraction"], self.seed)
        codes, seen = self.classes[y[head_rows]], X.take(head_rows)
        self.text_ = TextNN(self.classes, self.seed, self.n_jobs, **unprefixed("text_", self.params)).fit(seen, codes)
        self.image_ = VggNN(self.classes, self.seed, self.n_jobs, **unprefixed("image_", self.params)).fit(seen, codes)
        embedded = self._embed(X)
        k = keras(self.n_jobs, self.seed)
        self.model_ = self.network(k, embedded.shape[1], len(self.classes))
        self.epochs_ = fit_dense_head(k, self.model_, embedded, y, head_rows, stopping_rows, self.params, self.seed)

    def _predict_proba(self, X: Views) -> np.ndarray:
        embedded = self._embed(X)
        return self.model_.predict(embedded, batch_size=self.params["batch_size"], verbose=0)

    def network(self, keras_module: ModuleType, n_inputs: int, n_classes: int) -> Any:
        """The uncompiled fusion head, from concatenated embeddings to softmax probabilities."""
        k, p = keras_module, self.params
        return k.Sequential([
            k.Input(shape=(n_inputs,)),
            k.layers.BatchNormalization(),
            k.layers.Dense(p["units"], activation="relu"),
            k.layers.BatchNormalization(),
            k.layers.Dropout(p["dropout"]),
            k.layers.Dense(p["units"], activation="relu"),
            k.layers.BatchNormalization(),
            k.layers.Dropout(p["final_dropout"]),
            k.layers.Dense(n_classes, activation="softmax"),
        ])

    def _embed(self, X: Views) -> np.ndarray:
        """Text embedding and mean image embedding of every product, side by side."""
        return np.hstack([self.text_.embed(X), self.image_.embed(X)]).astype(np.float32)
