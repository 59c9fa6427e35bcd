"""Declared hyper-parameters: one home for each parameter's default, type and range.

Models, stackers and feature views declare their parameters as :class:`Param` (a plain value
declares a parameter of that value's type, without range). From the declaration alone, a
configuration is checked before any training (:func:`check_params`), and the parameters a run
uses are resolved in one place (:func:`resolve_params`): default < tuned < configured.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stackfold.errors import ConfigError


@dataclass(frozen=True)
class Param:
    """One parameter: its ``default``; its type, the default's (``kind`` when the default is ``None``,
    which then means "unset"; ``object``: any value, which the owner checks itself, as a scikit-learn estimator
    does); an inclusive range ``low``..``high`` or a lower bound ``above`` it must exceed and ``below`` it must
    stay under; or the only ``choices`` it accepts."""

    default: Any
    low: float | None = None
    high: float | None = None
    above: float | None = None
    below: float | None = None
    choices: tuple[Any, ...] | None = None
    kind: type | None = None

    @property
    def type(self) -> type:
        return self.kind or type(self.default)

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not accepted, or ``None`` when it is."""
        if value is None and self.default is None:
            return None
        expected = self.type
        if expected is object:
            return None
        if expected is float:  # a float parameter takes an integer too
            fits = isinstance(value, int | float) and not isinstance(value, bool)
        else:
            fits = type(value) is expected
        if not fits:
            return f"expected {expected.__name__}, like the default {self.default!r}"
        if self.choices is not None and value not in self.choices:
            return f"expected one of {', '.join(map(repr, self.choices))}"
        if self.low is not None and value < self.low:
            return f"must be at least {self.low:g}"
        if self.high is not None and value > self.high:
            return f"must be at most {self.high:g}"
        if self.above is not None and value <= self.above:
            return f"must be above {self.above:g}"
        if self.below is not None and value >= self.below:
            return f"must be below {self.below:g}"
        return None


def positive(default: float) -> Param:
    """A number above 0 (rates, regularisation strengths, kernel widths)."""
    return Param(default, above=0)


def count(default: int, low: int = 1) -> Param:
    """An integer of at least ``low`` (iterations, units, folds, features)."""
    return Param(default, low=low)


def fraction(default: float) -> Param:
    """A share from 0 to 1 (dropout, sampling, validation parts)."""
    return Param(default, low=0, high=1)


def declare(parameters: Mapping[str, Any]) -> dict[str, Param]:
    """``parameters`` with every plain value made a :class:`Param` of its type."""
    return {name: p if isinstance(p, Param) else Param(p) for name, p in parameters.items()}


def defaults_of(parameters: Mapping[str, Param]) -> dict[str, Any]:
    return {name: p.default for name, p in parameters.items()}


def check_params(parameters: Mapping[str, Param], given: Mapping[str, Any], where: str) -> None:
    """One-line :class:`ConfigError` (``where`` names the table, e.g. ``[params.lgbm]``) for an unknown
    name or a value of the wrong type or out of range."""
    for name, value in given.items():
        if name not in parameters:
            raise ConfigError(f"{where} has no parameter {name!r}; known: {', '.join(sorted(parameters)) or 'none'}")
        problem = parameters[name].problem(value)
        if problem is not None:
            raise ConfigError(f"{where} {name} = {value!r}: {problem}")


def resolve_params(
    owner: Any, tuned: Mapping[str, Any] | None = None, configured: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The parameters ``owner`` (a class declaring ``parameters``) runs with: its defaults, updated
    by those ``stackfold tune`` saved, updated by the configuration's; the only place that order lives."""
    return {**defaults_of(owner.parameters), **(tuned or {}), **(configured or {})}
