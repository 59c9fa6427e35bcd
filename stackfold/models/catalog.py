"""Every base model a run may name: stackfold's own, scikit-learn classifiers configured under ``[model.NAME]``,
and the user's plug-in classes (:class:`~stackfold.core.estimator.BaseModel` subclasses).

A plug-in class is named by ``module:Class`` (in ``models`` or as ``[model.NAME] class``), or by its ``name`` when
its file is listed in ``plugins``. Its ``name`` is its row on the leaderboard; it may not take a built-in's.
"""

import inspect
import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from stackfold.core.estimator import BaseModel
from stackfold.errors import ConfigError
from stackfold.models import BASE_MODELS
from stackfold.models.configured import DEFINITION_KEYS, estimator_model
from stackfold.models.imports import import_object, load_plugin, plugin_state


def model_catalog(definitions: Mapping[str, Mapping[str, Any]], plugins: Sequence[str]) -> dict[str, type[BaseModel]]:
    """Name -> class of every model a run with these ``[model.*]`` tables and ``plugins`` files may name
    (computed once per distinct configuration and plug-in files' state: an edited file is imported again)."""
    return dict(_catalog(json.dumps([definitions, [plugin_state(p) for p in plugins]], sort_keys=True)))


@lru_cache(maxsize=16)
def _catalog(key: str) -> tuple[tuple[str, type[BaseModel]], ...]:
    definitions, plugins = json.loads(key)
    found: dict[str, type[BaseModel]] = {}
    for path, _, _ in plugins:
        module = load_plugin(path)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseModel) and cls.__module__ == module.__name__ and not inspect.isabstract(cls):
                found[_checked(cls, f"plugins: {path}: {cls.__name__}")] = cls
    for name, definition in definitions.items():
        found[name] = _defined(name, definition)
    return tuple({**BASE_MODELS, **found}.items())


def _defined(name: str, definition: Mapping[str, Any]) -> type[BaseModel]:
    where = f"[model.{name}]"
    if not isinstance(definition, Mapping):
        raise ConfigError(f"{where}: give a table, e.g. estimator = 'sklearn.ensemble:ExtraTreesClassifier'")
    unknown = sorted(set(definition) - set(DEFINITION_KEYS))
    if unknown:
        raise ConfigError(f"{where} {unknown[0]}: unknown key; known keys: {', '.join(DEFINITION_KEYS)}")
    if ("estimator" in definition) == ("class" in definition):
        raise ConfigError(f"{where}: give estimator = 'module:Class' (a scikit-learn classifier) or class = "
                          "'module:Class' (a plug-in model), one of the two")
    if name in BASE_MODELS:
        raise ConfigError(f"{where}: {name!r} is a built-in model's name; call yours another")
    if "estimator" in definition:
        return estimator_model(name, dict(definition))
    if set(definition) - {"class"}:
        raise ConfigError(f"{where}: a plug-in class declares its own views and parameters; set its parameters in "
                          f"[params.{name}]")
    cls = import_object(definition["class"], f"{where} class")
    _checked(cls, f"{where} class")
    if cls.name != name:
        raise ConfigError(f"{where} class = {definition['class']!r} is named {cls.name!r}: name the table "
                          f"[model.{cls.name}]")
    return cls


def plugin_class(path: str) -> type[BaseModel]:
    """The plug-in class a ``models`` entry ``module:Class`` names, checked."""
    cls = import_object(path, "models")
    _checked(cls, f"models: {path}")
    return cls


def _checked(cls: Any, where: str) -> str:
    """``cls``'s name, unless it is no model class a run can use (its views are checked with the configuration)."""
    if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
        raise ConfigError(f"{where} is not a subclass of stackfold.base.BaseModel")
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where} has no name; give the class a name = '...' (its row on the leaderboard)")
    if name in BASE_MODELS and BASE_MODELS[name] is not cls:
        raise ConfigError(f"{where} is named {name!r}, a built-in model's name; call it another")
    return name
