"""Random forests on small per-image features (colour, pixels), averaged per product."""

import numpy as np
from sklearn.ensemble import RandomForestClassifier

from stackfold.core.blocks import ImageBlock
from stackfold.core.params import Param, count
from stackfold.models.per_image import SklearnImageModel


class _ImageForest(SklearnImageModel):
    """A random forest on one small feature row per image; a product gets the mean of its images' votes.

    Parameters:
        n_estimators: trees of the forest.
        min_samples_leaf: images a leaf holds at least.
        max_features: the columns a split draws from, ``sqrt`` or ``log2`` of their number.
    """

    parameters = {
        "n_estimators": count(300),
        "min_samples_leaf": count(3),
        "max_features": Param("sqrt", choices=("sqrt", "log2")),
    }

    def _estimator(self, block: ImageBlock, y: np.ndarray) -> RandomForestClassifier:
        return RandomForestClassifier(
            n_estimators=self.params["n_estimators"],
            min_samples_leaf=self.params["min_samples_leaf"],
            max_features=self.params["max_features"],
            n_jobs=self.n_jobs,
            random_state=self.seed,
        )


class ColorForest(_ImageForest):
    """Random forest on mean RGB and colour histograms: the cheap, weak image baseline, uncorrelated with text."""

    name = "color_forest"
    views = ("color",)
    image_view = "color"


class PixelForest(_ImageForest):
    """Random forest on downsampled pixels and histograms (published on the real data: 44.8% accuracy)."""

    name = "pixel_forest"
    views = ("pixels",)
    image_view = "pixels"
    parameters = {
        "n_estimators": count(300),
        "min_samples_leaf": count(1),
        "max_features": Param("sqrt", choices=("sqrt", "log2")),
    }
