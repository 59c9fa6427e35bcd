"""Stackers over the base models' OOF probabilities."""

from stackfold.ensembles.lgbm import LGBMStacker
from stackfold.ensembles.stack import stack_columns, stack_frame, stack_matrix
from stackfold.errors import ConfigError
from stackfold.models.base import BaseModel

STACKERS: dict[str, type[BaseModel]] = {m.name: m for m in (LGBMStacker,)}


def get_stacker(name: str) -> type[BaseModel]:
    """Stacker class registered under ``name``."""
    try:
        return STACKERS[name]
    except KeyError as e:
        raise ConfigError(f"unknown stacker {name!r}; choose from: {', '.join(STACKERS)}") from e


__all__ = ["STACKERS", "LGBMStacker", "get_stacker", "stack_columns", "stack_frame", "stack_matrix"]
