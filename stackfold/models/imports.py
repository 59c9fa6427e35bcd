"""The user's code a run names: ``module:Class`` paths and plug-in files (``plugins = ["my_models.py"]``).

Naming one in a run's configuration is the user's trust in it: only then is it imported (for training and, from
the run's saved configuration, for ``stackfold predict``); a saved model never makes stackfold import anything.
"""

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from stackfold.errors import ConfigError

PLUGIN_PACKAGE = "stackfold_plugins"
"""Plug-in files are imported as ``stackfold_plugins.<file stem>``."""


def import_object(path: str, where: str) -> Any:
    """The object ``module:name`` names (the current folder is searched too, as ``python -m`` does)."""
    module_name, _, name = path.partition(":")
    if not module_name or not name:
        raise ConfigError(f"{where} = {path!r}: give module:Class, e.g. 'sklearn.ensemble:ExtraTreesClassifier'")
    try:
        module = _import(module_name)
    except ImportError as e:
        raise ConfigError(f"{where} = {path!r}: cannot import {module_name} ({e}); install it, run from the folder "
                          "holding it, or list its file in plugins") from e
    found = getattr(module, name, None)
    if found is None:
        raise ConfigError(f"{where} = {path!r}: module {module_name} has no {name!r}")
    return found


def _import(module_name: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        here = os.getcwd()
        if e.name != module_name.split(".")[0] or here in sys.path:
            raise
        sys.path.insert(0, here)
        return importlib.import_module(module_name)


def plugin_state(path: str) -> tuple[str, int, int]:
    """The plug-in file ``path`` as last written (its path, modification time and size): edited, it is imported
    again."""
    try:
        stat = Path(path).stat()
    except OSError as e:
        raise ConfigError(f"plugins: {path} not found; give the path of a .py file (relative to run.toml)") from e
    return str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size


_LOADED: dict[str, tuple[str, int, int]] = {}
"""Module name -> the state of the file it was imported from."""


def load_plugin(path: str) -> ModuleType:
    """Import the plug-in file ``path`` as ``stackfold_plugins.<stem>`` (again when the file changed, or another
    file of that name is given); its classes are then named by their ``name``."""
    state = plugin_state(path)
    file = Path(state[0])
    module_name = f"{PLUGIN_PACKAGE}.{file.stem}"
    if module_name in sys.modules and _LOADED.get(module_name) == state:
        return sys.modules[module_name]
    if PLUGIN_PACKAGE not in sys.modules:
        package = ModuleType(PLUGIN_PACKAGE)
        package.__path__ = []
        sys.modules[PLUGIN_PACKAGE] = package
    spec = importlib.util.spec_from_file_location(module_name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # the user's code may raise anything: one line, and the cause chained
        del sys.modules[module_name]
        raise ConfigError(f"plugins: {path} failed to import: {type(e).__name__}: {e}") from e
    _LOADED[module_name] = state
    return module
