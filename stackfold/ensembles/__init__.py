"""Stackers over the base models' OOF probabilities, and decision rules over a stacker's output."""

from stackfold.core.estimator import BaseModel
from stackfold.core.registry import lookup
from stackfold.ensembles.blend import LogitStack, LogPool, MeanBlend, WeightedBlend
from stackfold.ensembles.calibrate import TemperatureScaling
from stackfold.ensembles.decide import ClassScaling, StageTwo
from stackfold.ensembles.lgbm import LGBMStacker
from stackfold.ensembles.selection import EnsembleSelection
from stackfold.ensembles.xgb import XGBStacker

STACKERS: dict[str, type[BaseModel]] = {
    m.name: m for m in (LGBMStacker, XGBStacker, MeanBlend, WeightedBlend, LogPool, LogitStack,
                        EnsembleSelection)
}
TOP_K_STACKERS = tuple(name for name, stacker in STACKERS.items() if stacker.reads_top_k)
"""The stackers that read a top-k stack (:class:`~stackfold.core.topk.TopKStack`) as well as a dense one."""
DECISIONS: dict[str, type[BaseModel]] = {m.name: m for m in (ClassScaling, StageTwo, TemperatureScaling)}


def get_stacker(name: str) -> type[BaseModel]:
    """Stacker class registered under ``name``."""
    return lookup(STACKERS, "stacker", name)


def get_decision(name: str) -> type[BaseModel]:
    """Decision rule registered under ``name``."""
    return lookup(DECISIONS, "decision", name)


__all__ = [
    "DECISIONS",
    "STACKERS",
    "TOP_K_STACKERS",
    "get_decision",
    "get_stacker",
]
