"""The published dense head on VGG16 features of each image (59.3% test accuracy on the real data).

Its 256-unit layer, named ``embedding``, is the image embedding the VGG16 fusion net reuses.
"""

from stackfold.models.dense_head import ImageFeatureHeadNN, head_parameters


class VggNN(ImageFeatureHeadNN):
    """Standardise -> Dropout -> Dense 512 relu -> Dropout -> Dense 256 relu (``embedding``) -> Dropout -> softmax.

    The published head, on ``vgg16`` features standardised with the training fold's mean and variance
    (:class:`~stackfold.models.dense_head.DenseHeadNN`: unscaled, features of random weights taught it nothing).
    """

    name = "vgg_nn"
    views = ("vgg16",)
    image_view = "vgg16"
    parameters = head_parameters(dropout=0.2, batch_size=256, epochs=30, patience=3)
