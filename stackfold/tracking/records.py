"""What MLflow receives, as plain values: a model's scores per fold and their summary, parameters, the
leaderboard's intervals, an Optuna trial; every key made a name MLflow accepts."""

import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

MAX_KEY = 250
MAX_VALUE = 6000
"""MLflow's longest parameter key and value (``mlflow.utils.validation``)."""
TIME_METRICS = ("fit_s", "predict_s")
"""Seconds a fit took: logged for a fitted result only, never for a reused one (no fit in this run)."""
INTERVAL_COLUMNS = ("oof_score", "ci_low", "ci_high", "gap_low", "gap_high")
"""The leaderboard's bootstrap interval of a row (:mod:`stackfold.leaderboard`)."""
FOLD_PREFIX = "fold_"
"""A score per fold is the metric ``fold_<score>``, its step the fold."""


@dataclass(frozen=True)
class Batch:
    """What one MLflow run receives at once: ``metrics`` as (key, value, step), ``params`` and ``tags``."""

    metrics: tuple[tuple[str, float, int], ...] = ()
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


def valid_key(name: str) -> str:
    """``name`` with what MLflow refuses in a key (``+`` of ``lgbm+class_scaling``, a colon) as ``_``."""
    return re.sub(r"[^/\w.\- ]", "_", name)[:MAX_KEY]


def param_values(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Parameters as MLflow's strings, keys prefixed (``logreg.C``); a tuple or list as its items, comma-joined."""
    return {valid_key(f"{prefix}{name}"): _text(value) for name, value in params.items()}


def _text(value: Any) -> str:
    text = ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE - 3] + "..."


def _metrics(values: Mapping[str, Any], step: int = 0) -> list[tuple[str, float, int]]:
    """The finite numbers of ``values`` (a refit's NaN scores, a missing interval left out)."""
    return [(valid_key(k), float(v), step) for k, v in values.items()
            if isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)]


def model_batch(scores: pd.DataFrame, summary: Mapping[str, float], params: Mapping[str, Any], key: str, level: str,
                reused: bool) -> Batch:
    """A model's or stacker's nested run: each fold's scores (``fold_wf1`` at step k), the summary (mean, spread;
    fit and predict seconds only when fitted here), its parameters, its content key and whether it was reused."""
    metrics = []
    for row in scores[scores["fold"] >= 0].to_dict("records"):  # fold -1: a stacker's refit, timings only
        fold = int(row.pop("fold"))
        metrics += _metrics({FOLD_PREFIX + k: v for k, v in row.items() if k not in TIME_METRICS}, fold)
    metrics += _metrics({k: v for k, v in summary.items() if not (reused and k in TIME_METRICS)})
    tags = {"stackfold.key": key, "stackfold.level": level, "stackfold.reused": str(reused).lower()}
    return Batch(tuple(metrics), param_values(params), tags)


def leaderboard_batches(board: pd.DataFrame) -> dict[str, Batch]:
    """Each leaderboard row's interval (:data:`INTERVAL_COLUMNS`), ``tied`` and ``submitted``, by model."""
    batches = {}
    for row in board.to_dict("records"):
        tags = {f"stackfold.{k}": str(bool(row[k])).lower() for k in ("tied", "submitted") if k in row}
        batches[row["model"]] = Batch(tuple(_metrics({k: row[k] for k in INTERVAL_COLUMNS if k in row})), tags=tags)
    return batches


def trial_batch(number: int, state: str, value: float | None, params: Mapping[str, Any],
                intermediate: Mapping[int, float], seconds: float | None, metric: str) -> Batch:
    """An Optuna trial's nested run: its parameters, its CV score (``metric``; none when pruned), each fold's score
    as reported to the pruner (``fold_score`` at step k) and its seconds."""
    metrics = [(f"{FOLD_PREFIX}score", float(v), int(step)) for step, v in sorted(intermediate.items())
               if math.isfinite(v)]
    metrics += _metrics({metric: value, "seconds": seconds})
    return Batch(tuple(metrics), param_values(params), {"stackfold.trial": str(number), "stackfold.state": state})
