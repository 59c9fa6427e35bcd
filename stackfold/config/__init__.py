"""Run configuration, read from a TOML file (``run.toml``): every key optional, checked against :class:`RunConfig`
and every ``[params.*]`` / ``[features.*]`` value against the declared parameters, before any training
(docs/getting-started/first-run.md shows a whole file, the site's configuration reference every key);
``challenge``: a built-in or a spec file (relative to it), by default the data folder's."""

from dataclasses import fields, replace
from pathlib import Path
from types import UnionType
from typing import Any, get_args, get_origin

from stackfold.cluster_settings import TYPE_NAMES, check_cluster
from stackfold.competition.challenges import BUILT_IN, get_spec
from stackfold.competition.detect import detect
from stackfold.competition.images import check_on_bad_image
from stackfold.competition.metric import metric_info
from stackfold.config.presets import apply_preset, parse_duration
from stackfold.config.rules import check_external, check_top_k, plugin_entries
from stackfold.config.settings import (
    BLEND_STACKERS, DEFAULT_MODELS, DEFAULT_STACKERS, DEFAULT_TOP_K, MANY_CLASS_MODELS, MAX_BOOSTED_CLASSES, RunConfig,
    with_scheduler,
)
from stackfold.core.params import check_params
from stackfold.core.registry import lookup
from stackfold.ensembles import DECISIONS, STACKERS, get_decision, get_stacker
from stackfold.errors import ConfigError
from stackfold.external import check_definition
from stackfold.features.meta import META_FEATURES
from stackfold.features.views import VIEWS, reads_text, view_params
from stackfold.io import read_toml
from stackfold.models import BASE_MODELS
from stackfold.models.catalog import model_catalog
from stackfold.tracking import check_setting
from stackfold.shift.views import check_views

__all__ = ["BLEND_STACKERS", "DEFAULT_MODELS", "DEFAULT_STACKERS", "DEFAULT_TOP_K", "MANY_CLASS_MODELS",
           "RunConfig", "load_config", "validate_config", "with_scheduler"]


def _file_type(annotation: Any) -> type:
    """The TOML type of a :class:`RunConfig` field: a list for a tuple, the type of an optional one."""
    if get_origin(annotation) is UnionType:
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    origin = get_origin(annotation) or annotation
    return list if origin is tuple else origin


_TYPES = {**{f.name: _file_type(f.type) for f in fields(RunConfig)}, "competition": str}
"""Each key of a config file and its type: the fields of :class:`RunConfig`, and ``challenge``'s earlier name."""


def load_config(path: Path | None, overrides: dict[str, Any] | None = None, data: Path | None = None) -> RunConfig:
    """Read ``path`` (or the defaults when ``None``), apply command-line ``overrides`` (keys of the
    file, e.g. ``models``), and check every key, name and parameter before any work.

    ``data``: the data folder of a run. Without ``challenge`` in the file or the overrides, the challenge is
    the one it holds (:func:`stackfold.competition.detect`); a spec file that lists no classes reads them there.
    """
    raw = _read(Path(path)) if path is not None else {}
    overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in (overrides or {}).items()}
    _check_names(overrides, raw.get("model", {}))  # an override's error names the option, not the file
    if overrides.get("time_limit") is not None:
        overrides["time_limit"] = parse_duration(overrides["time_limit"], "--time-limit")
    raw.update(overrides)
    if "challenge" not in raw and data is not None:
        raw["challenge"] = detect(Path(data))
    given = frozenset(raw)
    try:
        return validate_config(replace(RunConfig(), **apply_preset(raw)), given=given, data=data)
    except ConfigError as e:
        if path is None:
            raise
        raise ConfigError(f"{path}: {e}") from e


def _read(path: Path) -> dict[str, Any]:
    """The keys of a TOML config file, each of its declared type (lists as tuples)."""
    raw = read_toml(path, "config file not found")
    if "time_limit" in raw:
        raw["time_limit"] = parse_duration(raw["time_limit"], f"{path}: time_limit")
    for key, value in raw.items():
        expected = _TYPES.get(key)
        if expected is None:
            raise ConfigError(f"{path}: unknown key {key!r}; known keys: {', '.join(_TYPES)}")
        if key == "models" and isinstance(value, dict):
            raise ConfigError(f"{path}: models must be a list of names; define a model of your own as [model.NAME] "
                              "(singular), then list NAME in models")
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            continue
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{path}: {key} must be {TYPE_NAMES[expected]}, got {value!r}")
    if "competition" in raw:  # the key's earlier name
        if "challenge" in raw:
            raise ConfigError(f"{path}: give challenge or competition (its earlier name), not both")
        raw["challenge"] = raw.pop("competition")
    if "challenge" in raw and raw["challenge"] not in BUILT_IN:  # a spec file: relative to this config file
        raw["challenge"] = str(path.parent / raw["challenge"])
    raw["plugins"] = [str((path.parent / p).resolve()) for p in raw.get("plugins", [])]  # kept by the run folder
    for name, files in raw.get("external", {}).items():
        check_definition(name, files)
        raw["external"][name] = {key: str((path.parent / file).resolve()) for key, file in files.items()}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}


def _check_names(overrides: dict[str, Any], defined: dict[str, Any]) -> None:
    for name in overrides.get("models", ()):
        if name not in defined and ":" not in name:
            lookup(BASE_MODELS, "model", name)
    for name in overrides.get("stackers", ()):
        get_stacker(name)
    check_setting(overrides.get("tracking", ""), "--track")
    if overrides.get("folds", 2) < 2:
        raise ConfigError(f"--folds {overrides['folds']}: need at least 2")


def _drop_models(config: RunConfig, given: frozenset[str], unusable: list[str], reason: str) -> RunConfig:
    """Leave ``unusable`` models out of the default list; an explicit list naming one is an error."""
    if unusable and "models" in given:
        raise ConfigError(f"model {unusable[0]!r} needs {reason}; remove it from models")
    return replace(config, models=tuple(m for m in config.models if m not in unusable))


def _challenge_defaults(config: RunConfig, given: frozenset[str], data: Path | None) -> RunConfig:
    """Default stackers and decision rules the challenge can use, where the config does not name its own.

    Beyond ``MAX_BOOSTED_CLASSES`` classes the models of ``MANY_CLASS_MODELS`` and only the blends, over each row's
    top ``DEFAULT_TOP_K``: a boosted stacker or a logistic regression over every model's probabilities grows with
    classes squared, and dense probabilities with rows times classes. Decision rules need weighted F1, which they
    maximise; under log loss the ``decide_on`` stacker is calibrated (``temperature``) and rules changing labels are
    refused. ``selection`` maximises the challenge's metric unless ``[params.selection] metric`` names one.
    """
    spec = get_spec(config.challenge, data)
    probabilities = metric_info(spec.metric).needs_probabilities
    if spec.n_classes > MAX_BOOSTED_CLASSES:  # a probability metric scores every class: dense
        many = {"stackers": BLEND_STACKERS, "models": MANY_CLASS_MODELS,
                "top_k": None if probabilities else DEFAULT_TOP_K}
        config = replace(config, **{key: value for key, value in many.items() if key not in given})
    if "decisions" not in given and spec.metric != "weighted_f1":  # log loss: the decide_on stacker calibrated
        calibrate = probabilities and config.decide_on in config.stackers and spec.n_classes <= MAX_BOOSTED_CLASSES
        config = replace(config, decisions=("temperature",) if calibrate else ())
    selection = config.params.get("selection", {})
    if "selection" in config.stackers and isinstance(selection, dict) and spec.metric != "weighted_f1":
        config = replace(config, params={**config.params, "selection": {"metric": spec.metric, **selection}})
    if "class_scaling" in config.decisions and spec.metric != "weighted_f1":
        raise ConfigError(f"decision 'class_scaling' maximises weighted F1, but {spec.name} is scored by "
                          f"{spec.metric}; remove it from decisions")
    changing = [name for name in config.decisions if not get_decision(name).keeps_labels]
    if probabilities and (changing or config.top_k):
        what, fix = ((f"decision {changing[0]!r} changes labels", "remove it from decisions")
                     if changing else (f"top_k = {config.top_k} keeps {config.top_k} a row", "set top_k = 0"))
        raise ConfigError(f"{what}, but {spec.name} is scored by {spec.metric} of every class's probability; {fix}")
    return config


def validate_config(config: RunConfig, given: frozenset[str] = frozenset(), data: Path | None = None) -> RunConfig:
    """Check names and parameters; defaults that the run cannot use are replaced or dropped.

    ``given`` names the keys the user set: a default model list drops the models the run cannot
    feed (no images, no text), an explicit one naming such a model is an error; see also
    :func:`_challenge_defaults`.
    """
    spec = get_spec(config.challenge, data)
    if not spec.has_images and config.images:
        config = replace(config, images=False)  # a challenge without pictures needs no `images = false`
    config = _challenge_defaults(config, given, data)
    config = plugin_entries(config)
    check_external(config)
    for name in config.models:
        unknown = [view for view in config.model_class(name).views if view not in VIEWS]
        if unknown:
            raise ConfigError(f"model {name!r} reads view {unknown[0]!r}, which stackfold has not; known: "
                              f"{', '.join(VIEWS)}")
    for name in config.stackers:
        get_stacker(name)
    for name in config.decisions:
        get_decision(name)
    if config.decisions and config.decide_on not in config.stackers:
        raise ConfigError(
            f"decide_on = {config.decide_on!r} is not one of the stackers ({', '.join(config.stackers)})"
        )
    for name in config.meta_features:
        if name not in META_FEATURES:
            raise ConfigError(f"unknown meta-feature group {name!r}; choose from: {', '.join(META_FEATURES)}")
        if not config.images and any(VIEWS[v].needs_images for v in META_FEATURES[name]):
            raise ConfigError(f"meta-features {name!r} need images, but images = false; remove it from meta_features")
    check_on_bad_image(config.on_bad_image)
    check_views(config.shift_views, config.images, bool(spec.text_columns))
    if not config.images:
        image_models = [m for m in config.models if any(VIEWS[v].needs_images for v in config.model_class(m).views)]
        reason = "images, but images = false" if spec.has_images else f"images, but {spec.name} rows have none"
        config = _drop_models(config, given, image_models, reason)
    if not spec.text_columns:
        text_models = [m for m in config.models if any(reads_text(v) for v in config.model_class(m).views)]
        config = _drop_models(config, given, text_models, f"text, but {spec.name} products have none")
        if "text" in config.meta_features:
            raise ConfigError(f"meta-features 'text' need text, but {spec.name} products have none")
    config = check_top_k(config)
    if not config.base_models:
        raise ConfigError("no base model to run; list at least one in models")
    for name, values in config.params.items():
        cls = model_catalog(config.model, config.plugins).get(name) or STACKERS.get(name) or DECISIONS.get(name)
        if cls is None or not isinstance(values, dict):
            raise ConfigError(f"[params.{name}]: no model or stacker named {name!r}")
        check_params(cls.parameters, values, f"[params.{name}]")
    for name, values in config.features.items():
        if name not in VIEWS or not isinstance(values, dict):
            raise ConfigError(f"[features.{name}]: no feature view named {name!r}; known: {', '.join(VIEWS)}")
        view_params(name, config.features)
    if config.folds < 2:
        raise ConfigError(f"folds = {config.folds}: need at least 2")
    if config.n_jobs < 1:
        raise ConfigError(f"n_jobs = {config.n_jobs}: need at least 1")
    if config.tune_trials < 0:
        raise ConfigError(f"tune_trials = {config.tune_trials}: need 0 (no tuning) or more")
    if config.tune_trials and config.decide_on not in config.stackers and "tune_trials" not in given:
        config = replace(config, tune_trials=0)  # a preset's tuning, on a challenge whose stackers are blends
    if config.tune_trials and config.decide_on not in config.stackers:
        raise ConfigError(f"tune_trials = {config.tune_trials} tunes decide_on = {config.decide_on!r}, which is not "
                          f"one of the stackers ({', '.join(config.stackers)})")
    check_cluster(config.cluster)
    check_setting(config.tracking)
    return config
