"""RBF SVM on downsampled pixels, made feasible on two cores by a Nystroem kernel approximation."""

import numpy as np
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from stackfold.core.blocks import ImageBlock
from stackfold.core.params import Param, count, positive
from stackfold.core.splits import inner_folds
from stackfold.models.calibration import sigmoid_calibrated
from stackfold.models.per_image import SklearnImageModel


class PixelSVC(SklearnImageModel):
    """Standardised pixels -> Nystroem RBF map -> hinge-loss SGD (a linear SVM) -> sigmoid calibration.

    The published exact RBF SVC took 5 hours on half the data (its cost grows with the square
    of the rows). Here the kernel is approximated by ``n_components`` landmark images drawn
    from the training fold, capping the map at that many features whatever the row count, and
    the SVM objective is learned by SGD on the map in ``max_iter`` epochs (as :class:`RbfSVM`
    does for text). ``gamma = None`` means ``1 / n_features``, the exact SVC's ``"scale"`` on
    standardised features. The scaler, landmarks and calibration are all fitted inside the fold,
    and the calibration folds split by product, so a product's images never calibrate its own margins.

    Parameters:
        alpha: the SGD's regularisation strength (larger: a simpler boundary).
        gamma: width of the RBF kernel on the standardised pixels; unset: 1 / the number of features.
        n_components: landmark images of the Nystroem map, drawn from the training fold (at most its images).
        max_iter: epochs of the hinge-loss SGD.
        calibration_folds: inner folds, split by product, the sigmoid calibration is fitted on (1: one 20% holdout).
    """

    name = "pixel_svc"
    views = ("pixels",)
    image_view = "pixels"
    parameters = {
        "alpha": positive(1e-4),
        "gamma": Param(None, above=0, kind=float),
        "n_components": count(1000),
        "max_iter": count(30),
        "calibration_folds": count(3, low=1),
    }

    def _estimator(self, block: ImageBlock, y: np.ndarray) -> Pipeline:
        svm = SGDClassifier(loss="hinge", alpha=self.params["alpha"], max_iter=self.params["max_iter"], tol=1e-3,
                            random_state=self.seed, n_jobs=self.n_jobs)
        product_folds = inner_folds(y, self.params["calibration_folds"], self.seed)
        image_folds = [(np.flatnonzero(np.isin(block.owner, train)), np.flatnonzero(np.isin(block.owner, valid)))
                       for train, valid in product_folds]
        return make_pipeline(
            StandardScaler(),
            Nystroem(kernel="rbf", gamma=self.params["gamma"],
                     n_components=min(self.params["n_components"], block.n_images), random_state=self.seed),
            sigmoid_calibrated(svm, image_folds, block.image_labels(y)),
        )
