"""The stack matrix, the one contract between base models and stackers: base models' OOF (or test)
probabilities side by side, columns ``{model}__{class}``, then any meta-feature columns."""

from collections.abc import Sequence

import numpy as np

from stackfold.core.cv import CVResult


def stack_columns(model: str, classes: Sequence[int]) -> list[str]:
    """Stable column names of one model's probabilities in the stack."""
    return [f"{model}__{c}" for c in classes]


def stack_matrix(results: Sequence[CVResult], part: str) -> np.ndarray:
    """The ``oof`` or ``test`` probabilities of ``results`` side by side as float32, the stackers' input.

    Column ``j * n_classes + k`` is ``stack_columns(results[j].name, classes)[k]``.
    """
    return np.hstack([getattr(r, part) for r in results]).astype(np.float32)


def column_groups(models: Sequence[str], classes: Sequence[int], meta_columns: Sequence[str]) -> list[str]:
    """The base model (or ``meta``) each stacker input column belongs to, for attributions."""
    groups = [model for model in models for _ in stack_columns(model, classes)]
    for column in meta_columns:
        owner = column.split("__")[0]
        groups.append(owner if owner in models else "meta")
    return groups
