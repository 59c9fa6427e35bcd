"""Stackers over the base models' OOF probabilities."""

from stackfold.ensembles.lgbm import LGBMStacker
from stackfold.ensembles.stack import stack_columns, stack_matrix
from stackfold.models import BaseModel, lookup

STACKERS: dict[str, type[BaseModel]] = {m.name: m for m in (LGBMStacker,)}


def get_stacker(name: str) -> type[BaseModel]:
    """Stacker class registered under ``name``."""
    return lookup(STACKERS, "stacker", name)


__all__ = ["STACKERS", "LGBMStacker", "get_stacker", "stack_columns", "stack_matrix"]
