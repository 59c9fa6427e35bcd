"""Run configuration, read from a TOML file.

Example::

    competition = "rakuten"
    images = false            # text-only run: image models are left out
    folds = 5
    seed = 0
    models = ["prior", "tfidf_logreg"]
    stackers = ["lgbm", "xgb", "mean", "weighted_mean", "logreg_stack"]
    decisions = ["class_scaling", "stage2"]   # decision rules applied to the `decide_on` stacker
    decide_on = "lgbm"
    meta_features = ["confidence", "text"]  # extra columns for the lgbm/xgb stackers
    on_bad_image = "blank"    # a white image for a missing or corrupt one (counted), instead of an error
    model_submissions = true  # also write submissions/<model>.csv for every model
    top_k = 20                # keep each row's 20 most probable classes (0: every class; default: 0 up to
                              # 500 classes, DEFAULT_TOP_K beyond, e.g. Cdiscount's 5,270)

    [params.tfidf_logreg]
    C = 4.0

    [cluster]                 # optional: run the fits and slow feature views on a Dask cluster
    scheduler = "tcp://scheduler:8786"   # or "local:N": N worker processes on this machine
    partition_rows = 2048     # rows of an image or sentence view a task extracts
    resources = {GPU = 1}     # what a pretrained encoder's task asks of a worker (`dask worker --resources GPU=1`)
"""

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from stackfold.competition.images import check_on_bad_image
from stackfold.competition.spec import get_spec
from stackfold.core.estimator import DEFAULT_N_JOBS
from stackfold.core.params import check_params
from stackfold.ensembles import DECISIONS, STACKERS, TOP_K_STACKERS, get_decision, get_stacker
from stackfold.errors import ConfigError
from stackfold.features.meta import META_FEATURES
from stackfold.features.views import VIEWS, reads_text, view_params
from stackfold.models import BASE_MODELS, get_model

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

    competition: str = "rakuten"
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

    def model_params(self, name: str) -> dict[str, Any]:
        return dict(self.params.get(name, {}))

    def to_toml(self) -> str:
        """The effective configuration, as written to the run folder."""
        lines = []
        for f in fields(self):
            if f.name == "top_k":
                if self.top_k is not None or get_spec(self.competition).n_classes > MAX_BOOSTED_CLASSES:
                    lines.append(f"top_k = {self.top_k or 0}")
            elif f.name not in ("params", "features", "cluster"):
                lines.append(f"{f.name} = {_toml_value(getattr(self, f.name))}")
        for table in ("params", "features"):
            for name, values in sorted(getattr(self, table).items()):
                lines.append(f"\n[{table}.{name}]")
                lines.extend(f"{k} = {_toml_value(v)}" for k, v in sorted(values.items()))
        if self.cluster:
            lines.append("\n[cluster]")
            lines.extend(f"{k} = {_toml_value(v)}" for k, v in sorted(self.cluster.items()))
        return "\n".join(lines) + "\n"

    @property
    def scheduler(self) -> str | None:
        """The Dask scheduler to run on (``[cluster] scheduler``), ``None`` to run here."""
        return self.cluster.get("scheduler") or None


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in sorted(value.items())) + "}"
    return repr(value)


_TYPES = {"competition": str, "images": bool, "folds": int, "seed": int, "n_jobs": int, "models": list,
          "stackers": list, "decisions": list, "decide_on": str, "meta_features": list, "on_bad_image": str, "model_submissions": bool,
          "top_k": int, "params": dict, "features": dict, "cluster": dict}
_TYPE_NAMES = {str: "a string", bool: "true or false", int: "an integer", list: "a list", dict: "a table"}


def load_config(path: Path | None, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Read ``path`` (or the defaults when ``None``), apply command-line ``overrides`` (keys of the
    file, e.g. ``models``), and check every key, name and parameter before any work."""
    raw = _read(Path(path)) if path is not None else {}
    overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in (overrides or {}).items()}
    _check_names(overrides)  # an override's error names the option, not the file
    raw.update(overrides)
    try:
        return validate_config(replace(RunConfig(), **raw), given=frozenset(raw))
    except ConfigError as e:
        if path is None:
            raise
        raise ConfigError(f"{path}: {e}") from e


def _read(path: Path) -> dict[str, Any]:
    """The keys of a TOML config file, each of its declared type (lists as tuples)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: config file not found") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from e
    for key, value in raw.items():
        expected = _TYPES.get(key)
        if expected is None:
            raise ConfigError(f"{path}: unknown key {key!r}; known keys: {', '.join(_TYPES)}")
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{path}: {key} must be {_TYPE_NAMES[expected]}, got {value!r}")
    return {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}


def _check_names(overrides: dict[str, Any]) -> None:
    for name in overrides.get("models", ()):
        get_model(name)
    for name in overrides.get("stackers", ()):
        get_stacker(name)
    if overrides.get("folds", 2) < 2:
        raise ConfigError(f"--folds {overrides['folds']}: need at least 2")


def _drop_models(config: RunConfig, given: frozenset[str], unusable: list[str], reason: str) -> RunConfig:
    """Leave ``unusable`` models out of the default list; an explicit list naming one is an error."""
    if unusable and "models" in given:
        raise ConfigError(f"model {unusable[0]!r} needs {reason}; remove it from models")
    return replace(config, models=tuple(m for m in config.models if m not in unusable))


def _challenge_defaults(config: RunConfig, given: frozenset[str]) -> RunConfig:
    """Default stackers and decision rules the challenge can use, where the config does not name its own.

    Beyond ``MAX_BOOSTED_CLASSES`` classes the models of ``MANY_CLASS_MODELS`` and only the blends, over each row's
    top ``DEFAULT_TOP_K``: a boosted stacker or a logistic regression over every model's probabilities grows with
    classes squared, and dense probabilities with rows times classes. The decision rules are left out unless the
    challenge is scored by weighted F1, which they maximise; ``selection`` maximises the challenge's metric unless
    ``[params.selection] metric`` names one.
    """
    spec = get_spec(config.competition)
    if spec.n_classes > MAX_BOOSTED_CLASSES:
        many = {"stackers": BLEND_STACKERS, "top_k": DEFAULT_TOP_K, "models": MANY_CLASS_MODELS}
        config = replace(config, **{key: value for key, value in many.items() if key not in given})
    if "decisions" not in given and spec.metric != "weighted_f1":
        config = replace(config, decisions=())
    selection = config.params.get("selection", {})
    if "selection" in config.stackers and isinstance(selection, dict) and spec.metric != "weighted_f1":
        config = replace(config, params={**config.params, "selection": {"metric": spec.metric, **selection}})
    if "class_scaling" in config.decisions and spec.metric != "weighted_f1":
        raise ConfigError(f"decision 'class_scaling' maximises weighted F1, but {spec.name} is scored by "
                          f"{spec.metric}; remove it from decisions")
    return config


def validate_config(config: RunConfig, given: frozenset[str] = frozenset()) -> RunConfig:
    """Check names and parameters; defaults that the run cannot use are replaced or dropped.

    ``given`` names the keys the user set: a default model list drops the models the run cannot
    feed (no images, no text), an explicit one naming such a model is an error; see also
    :func:`_challenge_defaults`.
    """
    spec = get_spec(config.competition)
    config = _challenge_defaults(config, given)
    for name in config.models:
        get_model(name)
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
        image_models = [m for m in config.models if any(VIEWS[v].needs_images for v in get_model(m).views)]
        config = _drop_models(config, given, image_models, "images, but images = false")
    if not spec.text_columns:
        text_models = [m for m in config.models if any(reads_text(v) for v in get_model(m).views)]
        config = _drop_models(config, given, text_models, f"text, but {spec.name} products have none")
        if "text" in config.meta_features:
            raise ConfigError(f"meta-features 'text' need text, but {spec.name} products have none")
    config = _check_top_k(config)
    if not config.models:
        raise ConfigError("no base model to run; list at least one in models")
    for name, values in config.params.items():
        cls = BASE_MODELS.get(name) or STACKERS.get(name) or DECISIONS.get(name)
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
    _check_cluster(config.cluster)
    return config


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


CLUSTER_KEYS = {"scheduler": str, "partition_rows": int, "resources": dict}
DEFAULT_PARTITION_ROWS = 2048


def _check_cluster(cluster: dict[str, Any]) -> None:
    """``[cluster]``: known keys of their types; a positive partition size; resources as name = amount."""
    for key, value in cluster.items():
        expected = CLUSTER_KEYS.get(key)
        if expected is None:
            raise ConfigError(f"[cluster] {key}: unknown key; known keys: {', '.join(CLUSTER_KEYS)}")
        if not isinstance(value, expected) or isinstance(value, bool):
            raise ConfigError(f"[cluster] {key} must be {_TYPE_NAMES[expected]}, got {value!r}")
    scheduler = cluster.get("scheduler", "tcp://")
    local = scheduler.removeprefix("local:")
    if "://" not in scheduler and not (scheduler.startswith("local:") and local.isdigit() and int(local) > 0):
        raise ConfigError(f"[cluster] scheduler = {scheduler!r}: give a scheduler address (tcp://host:8786) or "
                          "local:N (N worker processes here)")
    if cluster.get("partition_rows", DEFAULT_PARTITION_ROWS) < 1:
        raise ConfigError(f"[cluster] partition_rows = {cluster['partition_rows']}: need at least 1")
    for name, amount in cluster.get("resources", {}).items():
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount <= 0:
            raise ConfigError(f"[cluster] resources: {name} = {amount!r}; give a positive amount, e.g. {{GPU = 1}}")


def with_scheduler(config: RunConfig, address: str | None) -> RunConfig:
    """``config`` with ``--scheduler address`` as its ``[cluster] scheduler`` (``None``: unchanged)."""
    return config if address is None else replace(config, cluster={**config.cluster, "scheduler": address})
