"""The TOML run configuration."""

import pytest

from stackfold.config import (BLEND_STACKERS, DEFAULT_MODELS, DEFAULT_TOP_K, MANY_CLASS_MODELS, RunConfig,
                              load_config)
from stackfold.errors import ConfigError


def _write(tmp_path, text):
    path = tmp_path / "run.toml"
    path.write_text(text)
    return path


def test_defaults():
    config = load_config(None)
    assert config.models == DEFAULT_MODELS and config.folds == 5
    assert config.stackers == ("lgbm", "mean", "weighted_mean", "log_pool", "logreg_stack") and config.decisions == ()


def test_text_only_run_drops_image_models(tmp_path):
    config = load_config(_write(tmp_path, "images = false\n"))
    assert not {"efficientnet_logreg", "fusion"} & set(config.models) and "sentence_logreg" in config.models


def test_image_only_challenge_of_many_classes_defaults_to_models_that_scale_to_it(tmp_path):
    config = load_config(_write(tmp_path, 'competition = "cdiscount"\n'))
    assert config.models == MANY_CLASS_MODELS == ("prior", "efficientnet_nn")


def test_challenge_with_thousands_of_classes_scored_by_accuracy_defaults_to_blends(tmp_path):
    config = load_config(_write(tmp_path, 'competition = "cdiscount"\n'))
    assert config.stackers == BLEND_STACKERS and config.decisions == () and config.top_k == DEFAULT_TOP_K
    assert config.models == MANY_CLASS_MODELS
    assert load_config(_write(tmp_path, config.to_toml())) == config
    config = load_config(_write(tmp_path, 'competition = "cdiscount"\nstackers = ["lgbm"]\ndecisions = ["stage2"]\n'
                                          'top_k = 0\n'))
    assert config.stackers == ("lgbm",) and config.decisions == ("stage2",) and config.top_k is None
    assert load_config(_write(tmp_path, config.to_toml())) == config
    assert load_config(None).top_k is None and "top_k = 0\n" in load_config(None).to_toml()  # Rakuten: dense


def test_selection_maximises_the_challenge_metric_unless_configured_and_reads_top_k(tmp_path):
    config = load_config(_write(tmp_path, 'competition = "cdiscount"\nstackers = ["mean", "selection"]\n'))
    assert config.params == {"selection": {"metric": "accuracy"}} and config.top_k == DEFAULT_TOP_K
    assert load_config(_write(tmp_path, config.to_toml())) == config
    config = load_config(_write(tmp_path, 'competition = "cdiscount"\nstackers = ["selection"]\n'
                                          '[params.selection]\nmetric = "weighted_f1"\nrounds = 9\n'))
    assert config.params == {"selection": {"metric": "weighted_f1", "rounds": 9}}
    assert load_config(_write(tmp_path, 'stackers = ["selection"]\n')).params == {}  # Rakuten: the default


def test_round_trip(tmp_path):
    config = load_config(_write(tmp_path, 'seed = 3\nmodels = ["prior"]\n[params.lgbm]\nnum_leaves = 7\n'
                                          '[cluster]\nscheduler = "tcp://h:8786"\nresources = {GPU = 1}\n'))
    again = load_config(_write(tmp_path, config.to_toml()))
    assert again == config and again.params == {"lgbm": {"num_leaves": 7}}
    assert again.scheduler == "tcp://h:8786" and again.cluster["resources"] == {"GPU": 1}


BAD_CONFIGS = [
    ("unknown key", "flods = 3\n", r"unknown key 'flods'"),
    ("wrong type", 'folds = "five"\n', r"folds must be an integer"),
    ("bool for int", "seed = true\n", r"seed must be an integer"),
    ("unknown model", 'models = ["svm"]\n', r"unknown model 'svm'"),
    ("unknown stacker", 'stackers = ["blend"]\n', r"unknown stacker 'blend'"),
    ("image model without images", 'images = false\nmodels = ["color_forest"]\n', r"'color_forest' needs images"),
    ("unknown meta-features", 'meta_features = ["shape"]\n', r"unknown meta-feature group 'shape'"),
    ("colour meta without images", 'images = false\nmeta_features = ["color"]\n', r"'color' need images"),
    ("text model on an image-only challenge", 'competition = "cdiscount"\nmodels = ["logreg"]\n',
     r"'logreg' needs text, but cdiscount products have none"),
    ("boosted stacker over top-k probabilities", 'competition = "cdiscount"\nstackers = ["lgbm"]\n',
     r"stacker 'lgbm' reads every class's probability, but top_k = 20 keeps 20 a row; stack with mean"),
    ("decision rule over top-k probabilities", 'top_k = 5\nstackers = ["mean"]\ndecisions = ["stage2"]\n'
     'decide_on = "mean"\n', r"decision 'stage2' reads every class's probability"),
    ("negative top_k", "top_k = -1\n", r"top_k = -1: give the classes to keep per row, or 0"),
    ("text meta on an image-only challenge", 'competition = "cdiscount"\nmeta_features = ["text"]\n',
     r"'text' need text, but cdiscount"),
    ("weighted-F1 rule on an accuracy challenge",
     'competition = "cdiscount"\nstackers = ["lgbm"]\ndecisions = ["class_scaling"]\n',
     r"'class_scaling' maximises weighted F1, but cdiscount is scored by accuracy"),
    ("view parameter of another type", '[features.vgg16]\nsize = "64"\n',
     r"\[features.vgg16\] size = '64': expected int, like the default 64"),
    ("float parameter given as text", '[features.color]\nborder = "0.2"\n', r"border = '0.2': expected float"),
    ("zero image size", "[features.images]\nsize = 0\n", r"\[features.images\] size = 0: must be at least 1"),
    ("unknown bad-image policy", 'on_bad_image = "skip"\n', r"on_bad_image = 'skip'; choose from: error, blank"),
    ("unknown competition", 'competition = "kaggle"\n', r"kaggle"),
    ("unknown parameter", "[params.tfidf_logreg]\nalpha = 1\n", r"no parameter 'alpha'"),
    ("parameter out of range", "[params.lgbm]\nlearning_rate = -0.1\n",
     r"\[params.lgbm\] learning_rate = -0.1: must be above 0"),
    ("parameter of another type", '[params.logreg]\nmax_iter = "15"\n', r"\[params.logreg\] max_iter = '15': expected int"),
    ("parameter not among its choices", '[params.tfidf_logreg]\nsolver = "adam"\n', r"solver = 'adam': expected one of"),
    ("fraction above one", "[params.text_nn]\ndropout = 1.5\n", r"\[params.text_nn\] dropout = 1.5: must be at most 1"),
    ("view border too wide", "[features.color]\nborder = 0.5\n", r"\[features.color\] border = 0.5: must be below 0.5"),
    ("image too small for the net", "[features.efficientnet]\nsize = 16\n",
     r"\[features.efficientnet\] size = 16: must be at least 32"),
    ("params of nothing", "[params.nothing]\nalpha = 1\n", r"no model or stacker named 'nothing'"),
    ("one fold", "folds = 1\n", r"folds = 1: need at least 2"),
    ("no models", "models = []\n", r"no base model to run"),
    ("not toml", "models = [\n", r"not valid TOML"),
    ("unknown cluster key", '[cluster]\nworkers = 4\n', r"\[cluster\] workers: unknown key; known keys: scheduler"),
    ("scheduler without protocol", '[cluster]\nscheduler = "host:8786"\n',
     r"\[cluster\] scheduler = 'host:8786': give a scheduler address \(tcp://host:8786\) or local:N"),
    ("local cluster of no worker", '[cluster]\nscheduler = "local:0"\n', r"scheduler = 'local:0'"),
    ("partition of no row", '[cluster]\npartition_rows = 0\n', r"\[cluster\] partition_rows = 0: need at least 1"),
    ("partition rows as text", '[cluster]\npartition_rows = "many"\n', r"partition_rows must be an integer"),
    ("resources not a table", '[cluster]\nresources = "GPU"\n', r"\[cluster\] resources must be a table"),
    ("negative resource", '[cluster]\nresources = {GPU = -1}\n', r"resources: GPU = -1; give a positive amount"),
]


@pytest.mark.parametrize("text, pattern", [b[1:] for b in BAD_CONFIGS], ids=[b[0] for b in BAD_CONFIGS])
def test_bad_configs(tmp_path, text, pattern):
    with pytest.raises(ConfigError, match=pattern):
        load_config(_write(tmp_path, text))


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "none.toml")


def test_config_is_frozen():
    with pytest.raises(AttributeError):
        RunConfig().seed = 1  # type: ignore[misc]


def test_decisions_need_their_stacker(tmp_path):
    with pytest.raises(ConfigError, match=r"decide_on = 'xgb' is not one of the stackers \(lgbm\)"):
        load_config(_write(tmp_path, 'stackers = ["lgbm"]\ndecisions = ["class_scaling"]\ndecide_on = "xgb"\n'))
    assert load_config(_write(tmp_path, 'stackers = ["mean"]\ndecisions = []\n')).decisions == ()
