"""The stack matrix: base models' OOF (or test) probabilities side by side, columns ``{model}__{class}``."""

from collections.abc import Sequence

import numpy as np
import pandas as pd

from stackfold.models.oof import CVResult


def stack_columns(model: str, classes: Sequence[int]) -> list[str]:
    """Stable column names of one model's probabilities in the stack."""
    return [f"{model}__{c}" for c in classes]


def stack_frame(results: Sequence[CVResult], classes: Sequence[int], index: pd.Index, part: str) -> pd.DataFrame:
    """Concatenate the ``oof`` or ``test`` probabilities of ``results`` into one frame."""
    blocks = [pd.DataFrame(getattr(r, part), index=index, columns=stack_columns(r.name, classes)) for r in results]
    return pd.concat(blocks, axis=1)


def stack_matrix(results: Sequence[CVResult], part: str) -> np.ndarray:
    """Same as :func:`stack_frame` as a float32 array, the stackers' input."""
    return np.hstack([getattr(r, part) for r in results]).astype(np.float32)
