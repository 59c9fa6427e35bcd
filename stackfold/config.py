"""Run configuration, read from a TOML file (``run.toml``): every key optional, checked against :class:`RunConfig`
and every ``[params.*]`` / ``[features.*]`` value against the declared parameters, before any training (the README
shows a whole file); ``challenge``: a built-in or a spec file (relative to it), by default the data folder's."""

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import UnionType
from typing import Any, get_args, get_origin

from stackfold.cluster_settings import TYPE_NAMES, check_cluster
from stackfold.competition.images import check_on_bad_image
from stackfold.competition.detect import detect
from stackfold.competition.challenges import BUILT_IN, get_spec
from stackfold.competition.metric import metric_info
from stackfold.core.estimator import DEFAULT_N_JOBS
from stackfold.core.params import check_params
from stackfold.ensembles import DECISIONS, STACKERS, TOP_K_STACKERS, get_decision, get_stacker
from stackfold.errors import ConfigError
from stackfold.io import read_toml, toml_value
from stackfold.features.meta import META_FEATURES
from stackfold.features.views import VIEWS, reads_text, view_params
from stackfold.core.estimator import BaseModel
from stackfold.core.registry import lookup
from stackfold.models import BASE_MODELS
from stackfold.models.catalog import model_catalog, plugin_class

DEFAULT_MODELS = (
    "prior", "tfidf_logreg", "logreg", "linear_svc", "complement_nb", "text_nn", "sentence_logreg", "sentence_nn",
    "efficientnet_logreg", "efficientnet_svc", "fusion",
)
"""Decided by 5-fold CV on the real Rakuten rows (``bench/real.py``, README): the models that are
strong there or raise the stack, all offline. Opt-in: ``title_knn`` (+0.06 points to the stack there:
noise), ``rbf_svc``, ``text_forest``, ``efficientnet_nn``, ``color_forest``, ``pixel_forest``, ``pixel_svc``
(weaker on the real rows and slower), ``cnn`` (about as good as ``pixel_forest`` on the twin at 30x its time), and
``vgg_nn`` and ``vgg_fusion``, which need VGG16 weights (``[features.vgg16] weights``)."""
DEFAULT_STACKERS = ("lgbm", "mean", "weighted_mean", "log_pool", "logreg_stack")
"""``xgb`` is opt-in: on the real rows it scored as ``lgbm`` at twice its time."""
DEFAULT_DECISIONS: tuple[str, ...] = ()
"""``class_scaling`` and ``stage2`` are opt-in: on the real rows both scored below the plain ``lgbm`` stacker."""
MAX_BOOSTED_CLASSES = 500
"""Above this many classes the default stackers are the blends and probabilities are kept as each row's top
``DEFAULT_TOP_K`` (Cdiscount: 5,270 classes)."""
BLEND_STACKERS = ("mean", "weighted_mean", "log_pool")
MANY_CLASS_MODELS = ("prior", "efficientnet_nn")
"""Default models beyond ``MAX_BOOSTED_CLASSES`` classes: a linear head costs rows x classes x features an iteration
(days at Cdiscount's size), the dense head trains in batches (README, "Cdiscount at its full size")."""
DEFAULT_TOP_K = 20
"""Classes kept per row beyond ``MAX_BOOSTED_CLASSES`` classes; measured by ``bench/topk_tradeoff.py`` (README)."""


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs besides the data: which models, folds, seed and threads."""

    challenge: str = "rakuten"
    """A built-in challenge's name or the path of a spec file (:mod:`stackfold.competition.spec_file`)."""
    images: bool = True
    folds: int = 5
    seed: int = 0
    n_jobs: int = DEFAULT_N_JOBS
    models: tuple[str, ...] = DEFAULT_MODELS
    stackers: tuple[str, ...] = DEFAULT_STACKERS
    decisions: tuple[str, ...] = DEFAULT_DECISIONS
    decide_on: str = "lgbm"
    meta_features: tuple[str, ...] = ()
    on_bad_image: str = "error"
    model_submissions: bool = False
    top_k: int | None = None
    """Classes kept per row (:mod:`stackfold.core.topk`); ``None``: every class, dense. In a file: ``0`` for
    dense; left out, the challenge's default (:func:`_challenge_defaults`)."""
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    features: dict[str, dict[str, Any]] = field(default_factory=dict)
    cluster: dict[str, Any] = field(default_factory=dict)
    model: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Models of the user's: ``[model.NAME]`` tables (:mod:`stackfold.models.catalog`)."""
    plugins: tuple[str, ...] = ()
    """Plug-in files whose model classes a run may name (paths relative to the config file)."""

    def model_params(self, name: str) -> dict[str, Any]:
        """The configured parameters of a model: ``[model.NAME] params`` and ``[params.NAME]``."""
        return {**self.model.get(name, {}).get("params", {}), **self.params.get(name, {})}

    def model_class(self, name: str) -> type[BaseModel]:
        """The class of base model ``name``: built in, configured (``[model.NAME]``) or a plug-in's."""
        return lookup(model_catalog(self.model, self.plugins), "model", name)

    def to_toml(self) -> str:
        """The effective configuration, as written to the run folder."""
        lines = []
        for f in fields(self):
            if f.name == "top_k":  # 0 (dense) written out: read back, a challenge of many classes would default to 20
                lines.append(f"top_k = {self.top_k or 0}")
            elif f.name not in ("params", "features", "cluster", "model"):
                lines.append(f"{f.name} = {toml_value(getattr(self, f.name))}")
        for table in ("params", "features", "model"):
            for name, values in sorted(getattr(self, table).items()):
                lines.append(f"\n[{table}.{name}]")
                lines.extend(f"{k} = {toml_value(v)}" for k, v in sorted(values.items()))
        if self.cluster:
            lines.append("\n[cluster]")
            lines.extend(f"{k} = {toml_value(v)}" for k, v in sorted(self.cluster.items()))
        return "\n".join(lines) + "\n"

    @property
    def scheduler(self) -> str | None:
        """The Dask scheduler to run on (``[cluster] scheduler``), ``None`` to run here."""
        return self.cluster.get("scheduler") or None


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
    raw.update(overrides)
    if "challenge" not in raw and data is not None:
        raw["challenge"] = detect(Path(data))
    try:
        return validate_config(replace(RunConfig(), **raw), given=frozenset(raw), data=data)
    except ConfigError as e:
        if path is None:
            raise
        raise ConfigError(f"{path}: {e}") from e


def _read(path: Path) -> dict[str, Any]:
    """The keys of a TOML config file, each of its declared type (lists as tuples)."""
    raw = read_toml(path, "config file not found")
    for key, value in raw.items():
        expected = _TYPES.get(key)
        if expected is None:
            raise ConfigError(f"{path}: unknown key {key!r}; known keys: {', '.join(_TYPES)}")
        if key == "models" and isinstance(value, dict):
            raise ConfigError(f"{path}: models must be a list of names; define a model of your own as [model.NAME] "
                              "(singular), then list NAME in models")
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{path}: {key} must be {TYPE_NAMES[expected]}, got {value!r}")
    if "competition" in raw:  # the key's earlier name
        if "challenge" in raw:
            raise ConfigError(f"{path}: give challenge or competition (its earlier name), not both")
        raw["challenge"] = raw.pop("competition")
    if "challenge" in raw and raw["challenge"] not in BUILT_IN:  # a spec file: relative to this config file
        raw["challenge"] = str(path.parent / raw["challenge"])
    raw["plugins"] = [str((path.parent / p).resolve()) for p in raw.get("plugins", [])]  # kept by the run folder
    return {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}


def _check_names(overrides: dict[str, Any], defined: dict[str, Any]) -> None:
    for name in overrides.get("models", ()):
        if name not in defined and ":" not in name:
            lookup(BASE_MODELS, "model", name)
    for name in overrides.get("stackers", ()):
        get_stacker(name)
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
    config = _plugin_entries(config)
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
    if not config.images:
        image_models = [m for m in config.models if any(VIEWS[v].needs_images for v in config.model_class(m).views)]
        reason = "images, but images = false" if spec.has_images else f"images, but {spec.name} rows have none"
        config = _drop_models(config, given, image_models, reason)
    if not spec.text_columns:
        text_models = [m for m in config.models if any(reads_text(v) for v in config.model_class(m).views)]
        config = _drop_models(config, given, text_models, f"text, but {spec.name} products have none")
        if "text" in config.meta_features:
            raise ConfigError(f"meta-features 'text' need text, but {spec.name} products have none")
    config = _check_top_k(config)
    if not config.models:
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
    check_cluster(config.cluster)
    return config


def _plugin_entries(config: RunConfig) -> RunConfig:
    """``models`` entries naming a plug-in class (``module:Class``) as the class's name, defined by a
    ``[model.NAME] class`` table (so the run folder's configuration names it, for ``predict``)."""
    if not any(":" in name for name in config.models):
        return config
    classes = {entry: plugin_class(entry) for entry in config.models if ":" in entry}
    models = tuple(classes[entry].name if entry in classes else entry for entry in config.models)
    return replace(config, models=models, model={**config.model, **{c.name: {"class": e} for e, c in classes.items()}})


def _check_top_k(config: RunConfig) -> RunConfig:
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


def with_scheduler(config: RunConfig, address: str | None) -> RunConfig:
    """``config`` with ``--scheduler address`` as its ``[cluster] scheduler`` (``None``: unchanged)."""
    return config if address is None else replace(config, cluster={**config.cluster, "scheduler": address})
