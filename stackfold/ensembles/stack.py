"""The stack matrix: base models' OOF (or test) probabilities side by side, columns ``{model}__{class}``."""

from collections.abc import Sequence

import numpy as np

from stackfold.models.oof import CVResult


def stack_columns(model: str, classes: Sequence[int]) -> list[str]:
    """Stable column names of one model's probabilities in the stack."""
    return [f"{model}__{c}" for c in classes]


def stack_matrix(results: Sequence[CVResult], part: str) -> np.ndarray:
    """The ``oof`` or ``test`` probabilities of ``results`` side by side as float32, the stackers' input.

    Column ``j * n_classes + k`` is ``stack_columns(results[j].name, classes)[k]``.
    """
    return np.hstack([getattr(r, part) for r in results]).astype(np.float32)
