"""Heads on pretrained embeddings: sentence vectors of the text, EfficientNet features of the images.

The embeddings are not fitted on labels (see :mod:`stackfold.features.sentence` and
:mod:`stackfold.features.efficientnet`); everything learned here (scalers, weights, early
stopping) is fitted inside the fold. Image heads train per image and average per product like
every image model; sentence heads see one row per product.
"""

import numpy as np
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, normalize

from stackfold.core.blocks import ImageBlock, Views
from stackfold.core.estimator import BaseModel
from stackfold.core.params import count, fraction, positive
from stackfold.models.image_vgg import VggNN
from stackfold.models.keras_support import training_parameters
from stackfold.models.per_image import SklearnImageModel

NN_DEFAULTS = {
    "units": count(512),
    "embedding_units": count(256),
    "dropout": fraction(0.4),
    **training_parameters(batch_size=64, epochs=60, patience=5),
}
"""Small dense heads early-stopped by their inner split: ~20 steps an epoch at 1,400 rows, ~1,000 at 85k."""


class SentenceLogReg(BaseModel):
    """Logistic regression on the sentence vectors of each product, as they come (unit length).

    On the real rows (5-fold CV) the raw vectors with ``C = 3`` scored 0.654, standardised ones at
    their best ``C`` 0.653, and ``C`` 1 / 10 / 30 0.630 / 0.641 / 0.630.
    """

    name = "sentence_logreg"
    views = ("sentence",)
    parameters = {"C": positive(3.0), "max_iter": count(500)}

    def _fit(self, X: Views, y: np.ndarray) -> None:
        self.estimator_ = LogisticRegression(C=self.params["C"], max_iter=self.params["max_iter"],
                                             random_state=self.seed)
        self.estimator_.fit(np.asarray(X["sentence"]), y)

    def _predict_proba(self, X: Views) -> np.ndarray:
        return self.estimator_.predict_proba(np.asarray(X["sentence"]))


class SentenceNN(VggNN):
    """The dense head of :class:`VggNN` on sentence vectors: standardise -> Dropout -> Dense -> Dense -> softmax."""

    name = "sentence_nn"
    views = ("sentence",)
    image_view = "sentence"
    parameters = NN_DEFAULTS

    def _block(self, X: Views) -> ImageBlock:
        return ImageBlock.one_per_product(np.asarray(X["sentence"]))


def power_normalise(features: np.ndarray) -> np.ndarray:
    """Square root of non-negative pooled activations, then unit length: tames the few large activations."""
    return normalize(np.sqrt(np.maximum(features, 0.0)))


class EfficientNetLogReg(SklearnImageModel):
    """Logistic regression on the power-normalised EfficientNet-Lite0 features of each image.

    On the 1,436 real photos (5-fold CV) power normalisation with ``C = 10`` scored 0.409, standardised
    features at their best ``C`` (0.01) 0.401, unit-length features 0.405.
    """

    name = "efficientnet_logreg"
    views = ("efficientnet",)
    image_view = "efficientnet"
    parameters = {"C": positive(10.0), "max_iter": count(1000)}

    def _estimator(self, block: ImageBlock, y: np.ndarray) -> Pipeline:
        return make_pipeline(FunctionTransformer(power_normalise),
                             LogisticRegression(C=self.params["C"], max_iter=self.params["max_iter"],
                                                random_state=self.seed))


class EfficientNetSVC(SklearnImageModel):
    """RBF-kernel classifier on power-normalised EfficientNet-Lite0 features, feasible at 85k images.

    A Nystroem map of ``n_components`` landmark images of the training fold (all of them when
    fewer) approximates the RBF kernel (``gamma`` 1.5: scikit-learn's ``"scale"`` on these unit
    vectors), then a logistic regression gives probabilities. On the 1,436 real photos: 0.426
    CV weighted F1, against 0.434 for an exact kernel SVC (quadratic in rows: hours at 68,000
    training images) and 0.409 for :class:`EfficientNetLogReg`.
    """

    name = "efficientnet_svc"
    views = ("efficientnet",)
    image_view = "efficientnet"
    parameters = {"gamma": positive(1.5), "n_components": count(2000), "C": positive(10.0), "max_iter": count(1000)}

    def _estimator(self, block: ImageBlock, y: np.ndarray) -> Pipeline:
        p = self.params
        return make_pipeline(
            FunctionTransformer(power_normalise),
            Nystroem(gamma=p["gamma"], n_components=min(p["n_components"], block.n_images), random_state=self.seed),
            LogisticRegression(C=p["C"], max_iter=p["max_iter"], random_state=self.seed),
        )


class EfficientNetNN(VggNN):
    """The dense head of :class:`VggNN` on EfficientNet-Lite0 features, per image."""

    name = "efficientnet_nn"
    views = ("efficientnet",)
    image_view = "efficientnet"
    parameters = NN_DEFAULTS
