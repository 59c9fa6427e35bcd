"""Checks of a configuration that stand alone: plug-in entries of ``models``, a top-k run's readers."""

from dataclasses import replace

from stackfold.config.settings import RunConfig
from stackfold.ensembles import TOP_K_STACKERS
from stackfold.errors import ConfigError
from stackfold.external import check_definition
from stackfold.models.catalog import model_catalog, plugin_class


def plugin_entries(config: RunConfig) -> RunConfig:
    """``models`` entries naming a plug-in class (``module:Class``) as the class's name, defined by a
    ``[model.NAME] class`` table (so the run folder's configuration names it, for ``predict``)."""
    if not any(":" in name for name in config.models):
        return config
    classes = {entry: plugin_class(entry) for entry in config.models if ":" in entry}
    models = tuple(classes[entry].name if entry in classes else entry for entry in config.models)
    return replace(config, models=models, model={**config.model, **{c.name: {"class": e} for e, c in classes.items()}})


def check_top_k(config: RunConfig) -> RunConfig:
    """``top_k = 0`` is dense (``None``); with a top k only ``TOP_K_STACKERS`` stack; nothing reads dense columns."""
    if config.top_k is None or config.top_k == 0:
        return replace(config, top_k=None)
    if config.top_k < 0:
        raise ConfigError(f"top_k = {config.top_k}: give the classes to keep per row, or 0 for every class")
    dense_readers = [f"stacker {s!r}" for s in config.stackers if s not in TOP_K_STACKERS]
    dense_readers += [f"decision {d!r}" for d in config.decisions] + [f"meta-features {m!r}" for m in config.meta_features]
    if dense_readers:
        raise ConfigError(f"{dense_readers[0]} reads every class's probability, but top_k = {config.top_k} keeps "
                          f"{config.top_k} a row; stack with {', '.join(TOP_K_STACKERS)}, or set top_k = 0")
    return config


def check_external(config: RunConfig) -> None:
    """``[external.NAME]`` tables: two files each, under a name no other model of the run has."""
    catalog_names = set(model_catalog(config.model, config.plugins))
    for name, files in config.external.items():
        check_definition(name, files)
        if name in catalog_names or name in config.models:
            raise ConfigError(f"[external.{name}]: {name!r} is already a model of this run; call it another")
