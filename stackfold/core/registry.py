"""Name -> class tables of models, stackers and decision rules: one lookup with a one-line error."""

from stackfold.core.estimator import BaseModel
from stackfold.errors import ConfigError


def lookup(table: dict[str, type[BaseModel]], kind: str, name: str) -> type[BaseModel]:
    """The class registered under ``name`` in ``table``, or a one-line error listing the choices."""
    try:
        return table[name]
    except KeyError as e:
        raise ConfigError(f"unknown {kind} {name!r}; choose from: {', '.join(table)}") from e
