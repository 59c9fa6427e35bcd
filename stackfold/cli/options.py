"""Option lists and parsers of the command line: the choices its ``--help`` names without importing them."""

import typer

CHALLENGES = ("cdiscount", "rakuten")
"""The built-in challenges, listed in ``--help`` (tests/test_cli.py checks they are the registered ones)."""
LAYOUTS = ("rakuten", "cdiscount", "kaggle")
"""The synthetic twins ``demo-data --layout`` writes (tests/test_cli.py checks they are ``synthetic.LAYOUTS``)."""
TUNABLE = ("lgbm", "xgb")
MODELS = ("prior, tfidf_logreg, logreg, linear_svc, rbf_svc, text_forest, complement_nb, title_knn, text_nn, "
          "sentence_logreg, sentence_nn, color_forest, pixel_forest, pixel_svc, cnn, efficientnet_logreg, "
          "efficientnet_svc, efficientnet_nn, vgg_nn, vgg_fusion, fusion")
STACKERS = "lgbm, xgb, mean, weighted_mean, log_pool, logreg_stack, selection"
PRESETS = "fast, default, best"


def challenge_option(default_help: str) -> typer.models.OptionInfo:
    """The ``--challenge`` option (``--competition``, its earlier name): a spec file or a built-in challenge."""
    return typer.Option("--challenge", "--competition", help=(
        f"The challenge's spec file (challenge.toml), or a built-in challenge: {', '.join(CHALLENGES)}; "
        f"default {default_help}."))


def track_option() -> typer.models.OptionInfo:
    """``--track URI``: MLflow tracking of ``run`` and ``tune`` (the extra ``stackfold[mlflow]``)."""
    return typer.Option("--track", metavar="URI", help=(
        'Log to MLflow (pip install "stackfold\\[mlflow]"): "mlflow" for a SQLite store beside the data folder, or '
        "a tracking URI (http://host:5000, sqlite:///path/mlflow.db); replaces the configured tracking."))


def names(option: str, value: str | None) -> tuple[str, ...] | None:
    """The comma-separated names given to ``option`` (``None`` when it was not given)."""
    if value is None:
        return None
    listed = tuple(n.strip() for n in value.split(",") if n.strip())
    if not listed:
        raise typer.BadParameter("name at least one", param_hint=option)
    return listed


def external_files(given: list[str]) -> dict[str, str]:
    """``--external NAME=FILE`` options as name -> file; one line for one without ``=``."""
    from stackfold.errors import ConfigError

    pairs = {}
    for option in given:
        name, _, file = option.partition("=")
        if not name or not file:
            raise ConfigError(f"--external {option!r}: give NAME=FILE, e.g. --external camembert=camembert_test.csv")
        pairs[name] = file
    return pairs
