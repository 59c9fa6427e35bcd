"""Meta-features for the boosted stackers: how sure each base model is, and what kind of row it is.

A tree stacker can learn "trust the image model when the text is short" only if it sees
the text length; it can learn "this model is unreliable when unsure" only if it sees how
unsure it is. None of these columns is fitted on labels (they are functions of one row's
OOF probabilities or raw data), so computing them once for all rows leaks nothing.

``confidence``  ``{model}__max_proba`` and ``{model}__entropy`` of every base model
``text``        ``meta__token_len`` and the language flags ``meta__is_fr``, ``meta__is_en``, ...
``color``       ``meta__mean_r``, ``meta__mean_g``, ``meta__mean_b`` (mean over a product's images)
"""

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from stackfold.core.blocks import ImageBlock
from stackfold.features.language import LANGUAGE_FLAG_NAMES

META_FEATURES: dict[str, tuple[str, ...]] = {"confidence": (), "text": ("text",), "color": ("color",)}
"""Meta-feature groups and the feature views each needs."""

ViewGetter = Callable[[str], tuple[object, object]]


def confidence_features(stack: np.ndarray, models: Sequence[str], n_classes: int) -> pd.DataFrame:
    """Each model's highest probability and the entropy of its row (NaN where the model has no prediction)."""
    blocks = stack.reshape(len(stack), len(models), n_classes).astype(np.float64)
    entropy = -np.sum(np.where(blocks > 0, blocks * np.log(np.where(blocks > 0, blocks, 1.0)), 0.0), axis=2)
    entropy[np.isnan(blocks).any(axis=2)] = np.nan
    columns = {}
    for j, model in enumerate(models):
        columns[f"{model}__max_proba"] = blocks[:, j].max(axis=1)
        columns[f"{model}__entropy"] = entropy[:, j]
    return pd.DataFrame(columns)


def _text_features(text: pd.DataFrame) -> pd.DataFrame:
    columns = ["token_len", *LANGUAGE_FLAG_NAMES]
    return text[columns].rename(columns=lambda c: f"meta__{c}").reset_index(drop=True).astype(np.float64)


def _color_features(color: ImageBlock) -> pd.DataFrame:
    mean_rgb = color.per_product(color.materialize()[:, :3].astype(np.float64))
    return pd.DataFrame(mean_rgb, columns=["meta__mean_r", "meta__mean_g", "meta__mean_b"])


_ROW_FEATURES = {"text": _text_features, "color": _color_features}


def meta_features(
    groups: Sequence[str], stack: tuple[np.ndarray, np.ndarray], models: Sequence[str], n_classes: int,
    view: ViewGetter,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and test meta-feature frames of ``groups``; ``view(name)`` gives a feature view's train and test blocks."""
    parts: list[tuple[pd.DataFrame, pd.DataFrame]] = []
    for group in groups:
        if group == "confidence":
            parts.append(tuple(confidence_features(s, models, n_classes) for s in stack))
        else:
            parts.append(tuple(_ROW_FEATURES[group](block) for block in view(META_FEATURES[group][0])))
    return (pd.concat([p[0] for p in parts], axis=1), pd.concat([p[1] for p in parts], axis=1))
