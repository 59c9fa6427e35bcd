"""Search spaces of the tunable stackers, and ``--space`` files that replace or add dimensions.

A dimension is a :class:`Range` (log-uniform if ``log``) or a :class:`Choice`; a ``--space``
TOML file names stacker parameters, each checked against the stacker's declared parameters.
"""

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optuna.trial import Trial

from stackfold.core.estimator import BaseModel
from stackfold.core.params import Param
from stackfold.errors import ConfigError


@dataclass(frozen=True)
class Range:
    """Numbers from ``low`` to ``high`` (integers for integer parameters), log-uniform if ``log``."""

    low: float
    high: float
    log: bool = False


@dataclass(frozen=True)
class Choice:
    """One of a few values."""

    values: tuple[Any, ...]


Dimension = Range | Choice

LGBM_SPACE: dict[str, Dimension] = {
    # the learning rate is searched together with the round cap; early stopping on the inner split stays on
    "learning_rate": Range(0.02, 0.3, log=True),
    "max_rounds": Range(100, 1000, log=True),
    "num_leaves": Range(7, 63, log=True),
    "min_sum_hessian_in_leaf": Range(0.01, 30.0, log=True),
    "lambda_l2": Range(0.1, 50.0, log=True),
    "feature_fraction": Range(0.3, 1.0),
    "max_bin": Choice((15, 31, 63)),
}
"""Search space of the LightGBM stacker: rate and rounds, fewer bins, column subsampling, leaves, regularisation."""

XGB_SPACE: dict[str, Dimension] = {
    "learning_rate": Range(0.02, 0.3, log=True),
    "max_rounds": Range(100, 1000, log=True),
    "max_depth": Range(2, 8),
    "min_child_weight": Range(0.1, 30.0, log=True),
    "reg_lambda": Range(0.1, 50.0, log=True),
    "colsample_bytree": Range(0.3, 1.0),
    "max_bin": Choice((16, 32, 64)),
}
"""Search space of the XGBoost stacker, the same ideas under XGBoost's parameter names."""

SPACES: dict[str, dict[str, Dimension]] = {"lgbm": LGBM_SPACE, "xgb": XGB_SPACE}


def search_space(stacker_class: type[BaseModel], space_file: Path | None = None) -> dict[str, Dimension]:
    """The built-in space of a stacker, with the keys of ``space_file`` replacing or adding dimensions."""
    if stacker_class.name not in SPACES:
        raise ConfigError(f"no search space for stacker {stacker_class.name!r}; tunable: {', '.join(SPACES)}")
    overrides = read_space(space_file, stacker_class) if space_file is not None else {}
    return {**SPACES[stacker_class.name], **overrides}


def read_space(path: Path, stacker_class: type[BaseModel]) -> dict[str, Dimension]:
    """Parse a ``--space`` TOML file strictly: every key a parameter of the stacker, every value a dimension."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: search space file not found (--space)") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from e
    return {key: _dimension(path, stacker_class, key, value) for key, value in raw.items()}


def _dimension(path: Path, stacker_class: type[BaseModel], key: str, value: Any) -> Dimension:
    parameters = stacker_class.parameters
    if key not in parameters:
        raise ConfigError(
            f"{path}: {key!r} is not a parameter of stacker {stacker_class.name!r}; known: {', '.join(parameters)}"
        )
    integer = parameters[key].type is int
    kind = int if integer else (int, float)
    if isinstance(value, dict) and list(value) == ["choices"]:
        choices = value["choices"]
        if isinstance(choices, list) and choices and all(_is_a(c, kind) for c in choices):
            _check_declared(path, parameters[key], key, value, choices)
            return Choice(tuple(choices))
    elif isinstance(value, list) and len(value) in (2, 3) and all(_is_a(v, kind) for v in value[:2]):
        low, high, *log = value
        if log not in ([], ["log"]):
            raise ConfigError(f'{path}: {key} = {value!r}: the third item may only be "log"')
        if not low < high or (log and low <= 0):
            raise ConfigError(f"{path}: {key} = {value!r}: need low < high{' and low > 0 for log' if log else ''}")
        _check_declared(path, parameters[key], key, value, [low, high])
        return Range(low, high, log=bool(log))
    number = "integers" if integer else "numbers"
    raise ConfigError(
        f'{path}: {key} = {value!r}: expected [low, high], [low, high, "log"] or {{choices = [...]}} of {number}'
    )


def _check_declared(path: Path, param: Param, key: str, value: Any, values: list[Any]) -> None:
    """A dimension reaching outside the parameter's declared range is refused before any trial."""
    for v in values:
        problem = param.problem(v)
        if problem is not None:
            raise ConfigError(f"{path}: {key} = {value!r}: {v!r} {problem}")


def _is_a(value: Any, kind: type | tuple[type, ...]) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)


def suggest(trial: Trial, space: dict[str, Dimension], parameters: dict[str, Param]) -> dict[str, Any]:
    """One value per dimension of ``space``; integer parameters get integers."""
    params = {}
    for name, dim in space.items():
        if isinstance(dim, Choice):
            params[name] = trial.suggest_categorical(name, list(dim.values))
        elif parameters[name].type is int:
            params[name] = trial.suggest_int(name, int(dim.low), int(dim.high), log=dim.log)
        else:
            params[name] = trial.suggest_float(name, float(dim.low), float(dim.high), log=dim.log)
    return params
