"""Image models meet products here: trained per image, applied per image, averaged per product.

Image views hold one row per image (:class:`~stackfold.core.blocks.ImageBlock`);
a product may have several images (Cdiscount). Every image is a training row labelled with
its product's class, and a product gets the mean of its images' probabilities.
"""

import warnings
from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import ConvergenceWarning

from stackfold.core.blocks import ImageBlock, Views
from stackfold.core.estimator import BaseModel


class PerImageModel(BaseModel):
    """A model over the image view ``image_view``, trained and applied per image, averaged per product."""

    image_view: ClassVar[str]

    def _fit(self, X: Views, y: np.ndarray) -> None:
        self._fit_images(self._block(X), y)

    def _predict_proba(self, X: Views) -> np.ndarray:
        block = self._block(X)
        return block.per_product(self._predict_images(block))

    def _block(self, X: Views) -> ImageBlock:
        """The rows this model reads: the image view's block."""
        return X[self.image_view]

    @abstractmethod
    def _fit_images(self, block: ImageBlock, y: np.ndarray) -> None:
        """Fit on the images of ``block``; ``y`` holds one class position per product."""

    @abstractmethod
    def _predict_images(self, block: ImageBlock) -> np.ndarray:
        """Probabilities of every image of ``block``, over ``self.present_`` or over all classes."""


class SklearnImageModel(PerImageModel):
    """A scikit-learn classifier on a per-image feature matrix small enough to hold in memory.

    Images of one class leave nothing to separate: the model predicts that class. Solvers run on
    a fixed budget of iterations (``max_iter``) by design: their unconverged warning is not reported.
    """

    def _fit_images(self, block: ImageBlock, y: np.ndarray) -> None:
        labels = block.image_labels(y)
        estimator = self._estimator(block, y) if len(np.unique(labels)) > 1 else DummyClassifier(strategy="prior")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.estimator_ = estimator.fit(block.materialize(), labels)

    def _predict_images(self, block: ImageBlock) -> np.ndarray:
        # all classes as columns: a class whose products have no image is absent from the estimator
        proba = np.zeros((block.n_images, len(self.classes)))
        proba[:, self.estimator_.classes_] = self.estimator_.predict_proba(block.materialize())
        return proba

    @abstractmethod
    def _estimator(self, block: ImageBlock, y: np.ndarray) -> Any:
        """An unfitted classifier with ``predict_proba`` for the images of ``block`` (``y`` per product)."""
