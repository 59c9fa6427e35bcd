"""What a run's configuration holds (:class:`RunConfig`) and the defaults it starts from."""

from dataclasses import dataclass, field, fields, replace
from typing import Any

from stackfold.core.estimator import DEFAULT_N_JOBS, BaseModel
from stackfold.core.registry import lookup
from stackfold.io import toml_value
from stackfold.models.catalog import model_catalog

DEFAULT_MODELS = (
    "prior", "tfidf_logreg", "logreg", "linear_svc", "complement_nb", "text_nn", "sentence_logreg", "sentence_nn",
    "efficientnet_logreg", "efficientnet_svc", "fusion",
)
"""Decided by 5-fold CV on the real Rakuten rows (``bench/real.py``, docs/benchmarks/real-data.md): the models that are
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
(days at Cdiscount's size), the dense head trains in batches (docs/user-guide/cdiscount.md)."""
DEFAULT_TOP_K = 20
"""Classes kept per row beyond ``MAX_BOOSTED_CLASSES`` classes; measured by ``bench/topk_tradeoff.py``
(docs/benchmarks/cdiscount.md)."""


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs besides the data: which models, folds, seed and threads.

    Each field is a key of ``run.toml`` (a ``dict`` field: a TOML table), documented under it; every key is
    optional, and ``stackfold.run(..., **keys)`` takes the same keys.
    """

    challenge: str = "rakuten"
    """A built-in challenge's name or the path of a spec file (:mod:`stackfold.competition.spec_file`), relative to
    the config file; left out, the data folder's: its ``challenge.toml``, else the challenge its layout shows."""
    images: bool = True
    """Read the product photos; ``false``: a text-only run, the image models left out and no image needed."""
    folds: int = 5
    """Stratified folds (at least 2): every base model and stacker is cross-validated on the same ones."""
    seed: int = 0
    """Seeds the folds and every model: same data, configuration and seed, same bytes (on one machine)."""
    n_jobs: int = DEFAULT_N_JOBS
    """Threads of every model and feature extractor: set it to the machine's cores (``STACKFOLD_N_JOBS`` sets the
    default)."""
    models: tuple[str, ...] = DEFAULT_MODELS
    """The base models, in stack order: built-in ones, ``[model.NAME]`` tables and plug-ins. A challenge of more than
    500 classes defaults to ``prior`` and ``efficientnet_nn``; without images the image models are left out."""
    stackers: tuple[str, ...] = DEFAULT_STACKERS
    """The stackers over the base models' out-of-fold probabilities (``xgb`` and ``selection`` are opt-in). A
    challenge of more than 500 classes defaults to the blends ``mean``, ``weighted_mean``, ``log_pool``."""
    decisions: tuple[str, ...] = DEFAULT_DECISIONS
    """Decision rules over the ``decide_on`` stacker, each a row of the leaderboard: ``class_scaling``, ``stage2``
    (weighted F1 only); a log-loss challenge gets ``temperature`` by default."""
    decide_on: str = "lgbm"
    """The stacker whose output the decision rules re-decide; one of ``stackers``."""
    meta_features: tuple[str, ...] = ()
    """Extra columns for the ``lgbm`` and ``xgb`` stackers: ``confidence`` (each model's top probability and
    entropy), ``text`` (token count, language flags), ``color`` (the product's mean RGB; needs images)."""
    on_bad_image: str = "error"
    """A missing, truncated or corrupt photo: ``"error"`` stops the run naming them; ``"blank"`` reads a white image
    instead, counted in each model's manifest and the leaderboard."""
    model_submissions: bool = False
    """Also write ``submissions/<row>.csv`` for every model and stacker, not only ``best.csv``."""
    top_k: int | None = None
    """Classes kept per row (:mod:`stackfold.core.topk`); ``None``: every class, dense. In a file: ``0`` for
    dense; left out, the challenge's default (:func:`_challenge_defaults`): each row's top 20 beyond 500 classes
    under a label metric (Cdiscount), else dense."""
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``[params.NAME]`` tables: a base model's, stacker's or decision rule's parameters, over tuned values, over the
    declared defaults."""
    features: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``[features.VIEW]`` tables: a feature view's parameters, part of its cache key."""
    cluster: dict[str, Any] = field(default_factory=dict)
    """The ``[cluster]`` table: run on a Dask cluster (:mod:`stackfold.cluster_settings`)."""
    model: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Models of the user's: ``[model.NAME]`` tables (:mod:`stackfold.models.catalog`)."""
    shift: bool = False
    """End the run with the train/test shift check (``stackfold shift``, saved in the run folder): the report shows
    it, and beside each row's OOF score that score weighted toward test-like rows; the submission stays the same."""
    shift_views: tuple[str, ...] = ()
    """The shift check's views (:mod:`stackfold.shift.views`); empty: ``terms``, ``meta`` and those of the models."""
    plugins: tuple[str, ...] = ()
    """Plug-in files whose model classes a run may name (paths relative to the config file)."""
    external: dict[str, dict[str, str]] = field(default_factory=dict)
    """Models trained elsewhere: ``[external.NAME]`` with their ``oof`` and ``test`` files (:mod:`stackfold.external`),
    stacked after ``models``."""
    preset: str = "default"
    """``fast``, ``default`` or ``best``: the models, stackers, features and tuning a configuration that does not
    name its own starts from (:mod:`stackfold.config.presets`)."""
    time_limit: float | None = None
    """Seconds the run may take (in a file ``"30m"``, ``"2h"``, ``"1h30m"`` or a number of seconds): the run plans
    which models and stackers fit, and skips a model that would overrun (:mod:`stackfold.pipeline.budget`)."""
    tune_trials: int = 0
    """Optuna trials of the ``decide_on`` stacker (``lgbm``) run before it is fitted (the ``best`` preset: 30); the
    tuned parameters are kept in ``RUN/tuning/`` as ``stackfold tune`` keeps them."""
    tracking: str = ""
    """MLflow tracking (:mod:`stackfold.tracking`): empty, off; ``"mlflow"``, a SQLite store beside the data folder;
    or a tracking URI (a server: ``http://host:5000``). ``stackfold tune`` on the run tracks to it too."""

    @property
    def base_models(self) -> tuple[str, ...]:
        """Every base model of the run, in stack order: ``models``, then the external ones."""
        return (*self.models, *self.external)

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
            elif f.name == "time_limit":
                lines += [] if self.time_limit is None else [f"time_limit = {self.time_limit!r}"]
            elif f.name not in ("params", "features", "cluster", "model", "external"):
                lines.append(f"{f.name} = {toml_value(getattr(self, f.name))}")
        for table in ("params", "features", "model", "external"):
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


def with_scheduler(config: RunConfig, address: str | None) -> RunConfig:
    """``config`` with ``--scheduler address`` as its ``[cluster] scheduler`` (``None``: unchanged)."""
    return config if address is None else replace(config, cluster={**config.cluster, "scheduler": address})
