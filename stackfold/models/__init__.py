"""Base models, all behind one interface (:class:`~stackfold.core.estimator.BaseModel`), and their registry."""

from stackfold.core.estimator import BaseModel
from stackfold.core.registry import lookup
from stackfold.models.embedding import (
    EfficientNetLogReg, EfficientNetNN, EfficientNetSVC, SentenceLogReg, SentenceNN,
)
from stackfold.models.fusion import Fusion
from stackfold.models.image_cnn import CNN
from stackfold.models.image_forest import ColorForest, PixelForest
from stackfold.models.image_svc import PixelSVC
from stackfold.models.image_vgg import VggNN
from stackfold.models.neighbours import TitleKNN
from stackfold.models.prior import PriorModel
from stackfold.models.text_forest import TextForest
from stackfold.models.text_linear import ComplementNaiveBayes, LinearSVM, LogReg, RbfSVM, TfidfLogisticRegression
from stackfold.models.text_nn import TextNN
from stackfold.models.vgg_fusion import VggFusion

BASE_MODELS: dict[str, type[BaseModel]] = {
    m.name: m
    for m in (PriorModel, TfidfLogisticRegression, LogReg, LinearSVM, RbfSVM, TextForest, ComplementNaiveBayes,
              TitleKNN, TextNN, SentenceLogReg, SentenceNN, ColorForest, PixelForest, PixelSVC, CNN, EfficientNetLogReg,
              EfficientNetSVC, EfficientNetNN, VggNN, VggFusion, Fusion)
}


def get_model(name: str) -> type[BaseModel]:
    """Base model class registered under ``name``."""
    return lookup(BASE_MODELS, "model", name)


__all__ = ["BASE_MODELS", "get_model"]
