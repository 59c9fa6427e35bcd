"""Models of the user's in the stack: scikit-learn classifiers by configuration, plug-in classes, safe loading."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stackfold.competition.challenges import rakuten
from stackfold.config import load_config
from stackfold.errors import ConfigError, RunFolderError
from stackfold.model_files import FittedModels

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
ET_CHARS = ('[model.et_chars]\nestimator = "sklearn.ensemble:ExtraTreesClassifier"\nviews = ["char_counts"]\n'
            'params = { n_estimators = 40, min_samples_leaf = 2 }\n')
PLUGIN = 'class P(BaseModel):\n    name = "p"\n    views = ("sentence",)\n    def _fit(self, X, y): pass\n' \
         '    def _predict_proba(self, X): pass\n'


def _config(tmp_path: Path, text: str, plugin: str | None = None):
    if plugin is not None:
        (tmp_path / "mine.py").write_text("from stackfold.base import BaseModel\n" + plugin)
    path = tmp_path / "run.toml"
    path.write_text('images = false\n' + text)
    return load_config(path)


@pytest.mark.parametrize("text, plugin, message", [
    ('models = ["x"]\n[model.x]\nestimator = "sklearn.nope:Forest"\nviews = ["char_counts"]\n', None,
     r"\[model.x\] estimator = 'sklearn.nope:Forest': cannot import sklearn.nope"),
    ('models = ["x"]\n[model.x]\nestimator = "sklearn.ensemble:Nope"\nviews = ["char_counts"]\n', None,
     r"\[model.x\] estimator = 'sklearn.ensemble:Nope': module sklearn.ensemble has no 'Nope'"),
    ('models = ["x"]\n[model.x]\nestimator = "sklearn.ensemble"\nviews = ["char_counts"]\n', None,
     r"\[model.x\] estimator = 'sklearn.ensemble': give module:Class"),
    ('models = ["x"]\n[model.x]\nestimator = "sklearn.linear_model:LinearRegression"\nviews = ["char_counts"]\n', None,
     r"\[model.x\] estimator = .*LinearRegression' is not a scikit-learn classifier"),
    ('models = ["x"]\n[model.x]\nestimator = "sklearn.naive_bayes:MultinomialNB"\nviews = ["text"]\n', None,
     r"\[model.x\] views: 'text' is not a view of numbers per product; choose from: word_counts"),
    ('models = ["x"]\n[model.x]\nestimator = "sklearn.naive_bayes:MultinomialNB"\n', None,
     r"\[model.x\] views: give the views it reads"),
    ('models = ["x"]\n[model.x]\nestimator = "sklearn.ensemble:ExtraTreesClassifier"\nviews = ["char_counts"]\n'
     'params = { n_estimators = "many" }\n', None,
     r"\[model.x\] params: The 'n_estimators' parameter of ExtraTreesClassifier must be an int"),
    ('models = ["x"]\n[model.x]\nestimator = "sklearn.ensemble:ExtraTreesClassifier"\nviews = ["char_counts"]\n'
     'params = { n_trees = 3 }\n', None, r"\[model.x\] params: ExtraTreesClassifier has no parameter 'n_trees'"),
    ('models = ["x"]\n[model.x]\nestimator = "sklearn.ensemble:ExtraTreesClassifier"\nviews = ["char_counts"]\n'
     'params = { random_state = 3 }\n', None, r"\[model.x\] params: random_state is the run's seed"),
    ('models = ["x"]\n[model.x]\nviews = ["char_counts"]\n', None, r"\[model.x\]: give estimator = .* or class ="),
    ('models = ["x"]\n[model.x]\nestimator = "sklearn.svm:LinearSVC"\nview = ["char_counts"]\n', None,
     r"\[model.x\] view: unknown key; known keys: estimator, class, views, params"),
    ('models = ["logreg"]\n[model.logreg]\nestimator = "sklearn.svm:LinearSVC"\nviews = ["char_counts"]\n', None,
     r"\[model.logreg\]: 'logreg' is a built-in model's name"),
    ('[models.x]\nestimator = "sklearn.svm:LinearSVC"\n', None, r"models must be a list of names; define a model of "
                                                                 r"your own as \[model.NAME\]"),
    ('models = ["nope"]\n', None, r"unknown model 'nope'; choose from: prior"),
    ('plugins = ["missing.py"]\n', None, r"plugins: .*missing.py not found"),
    ('plugins = ["mine.py"]\n', "raise RuntimeError('boom')\n", r"plugins: .*mine.py failed to import: RuntimeError: boom"),
    ('plugins = ["mine.py"]\n', PLUGIN.replace('    name = "p"\n', ""), r"plugins: .*mine.py: P has no name"),
    ('plugins = ["mine.py"]\nmodels = ["p"]\n', PLUGIN.replace('"sentence"', '"pictures"'),
     r"model 'p' reads view 'pictures', which stackfold has not"),
    ('plugins = ["mine.py"]\n', PLUGIN.replace('"p"', '"logreg"'), r"is named 'logreg', a built-in model's name"),
    ('models = ["prior", "mine:P"]\n[model.q]\nclass = "mine:P"\n', PLUGIN, r"\[model.q\] class = 'mine:P' is named "
                                                                            r"'p': name the table \[model.p\]"),
    ('models = ["numpy:ndarray"]\n', None, r"models: numpy:ndarray is not a subclass of stackfold.base.BaseModel"),
])
def test_each_mistake_in_a_model_of_ones_own_is_one_line(tmp_path, monkeypatch, text, plugin, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=message):
        _config(tmp_path, text, plugin)


def test_a_plug_in_class_is_named_by_its_path_and_written_into_the_runs_configuration(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = _config(tmp_path, 'models = ["prior", "mine:P"]\n[params.p]\n', PLUGIN)
    assert config.models == ("prior", "p") and config.model == {"p": {"class": "mine:P"}}
    assert config.model_class("p").source() == "mine:P@"
    assert load_config(_config_file(tmp_path, config.to_toml())) == config


def _config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "again.toml"
    path.write_text(text)
    return path


def test_an_estimator_without_predict_proba_is_calibrated_and_the_run_sets_its_seed(tmp_path):
    config = _config(tmp_path, 'models = ["svc"]\n[model.svc]\nestimator = "sklearn.svm:LinearSVC"\n'
                               'views = ["word_counts", "sentence"]\nparams = { C = 0.5 }\n')
    cls = config.model_class("svc")
    import sklearn
    assert cls.source() == f"sklearn.svm:LinearSVC@{sklearn.__version__}"  # a new scikit-learn retrains it
    model = cls(classes=rakuten().classes, seed=7, **config.model_params("svc"))
    assert model.build_estimator().get_params()["random_state"] == 7 and model.params["C"] == 0.5
    rng = np.random.default_rng(0)
    y = np.repeat(rakuten().classes[:4], 6)
    from scipy import sparse

    from stackfold.core.blocks import Views
    X = Views({"word_counts": sparse.random(24, 30, density=0.3, format="csr", random_state=0),
               "sentence": rng.normal(size=(24, 8)).astype(np.float32)})
    proba = model.fit(X, y).predict_proba(X)
    assert proba.shape == (24, 27) and np.allclose(proba.sum(axis=1), 1) and proba[:, 4:].max() == 0
    assert type(model.estimator_).__name__ == "CalibratedClassifierCV"


@pytest.mark.slow
def test_configured_estimator_and_plug_in_run_and_predict_like_built_in_models(rakuten_sample, tmp_path, run_cli):
    shutil.copy(EXAMPLES / "sentence_head.py", tmp_path / "sentence_head.py")
    config = tmp_path / "run.toml"
    config.write_text('images = false\nplugins = ["sentence_head.py"]\nstackers = ["mean"]\ndecisions = []\n'
                      'models = ["complement_nb", "et_chars", "sentence_head"]\n[params.sentence_head]\nepochs = 8\n'
                      + ET_CHARS)
    run = tmp_path / "run"
    code, out, err = run_cli("run", rakuten_sample, "--out", run, "--config", config, "--no-report")
    assert code == 0, err
    board = pd.read_csv(run / "leaderboard.csv", keep_default_na=False).set_index("model")
    assert {"et_chars", "sentence_head", "complement_nb", "mean"} == set(board.index)
    assert board.loc["et_chars", "wf1_mean"] > board.loc["complement_nb", "wf1_mean"] - 0.3  # it learned something
    stacked = pd.read_json(run / "stackers" / "mean" / "manifest.json", typ="series")["inputs"]
    assert stacked == ["complement_nb", "et_chars", "sentence_head"]

    # predict loads the saved folds of both, and gives best.csv back byte for byte
    code, _, err = run_cli("predict", run, rakuten_sample, "--out", tmp_path / "again.csv")
    assert code == 0, err
    assert (tmp_path / "again.csv").read_bytes() == (run / "submissions" / "best.csv").read_bytes()

    # a new version of the plug-in is retrained; the rest is reused
    source = (tmp_path / "sentence_head.py").read_text()
    (tmp_path / "sentence_head.py").write_text(source.replace('version = "1"', 'version = "2"'))
    code, out, err = run_cli("run", rakuten_sample, "--out", run, "--config", config, "--no-report")
    assert code == 0, err
    assert "et_chars: unchanged" in out + err and "sentence_head: unchanged" not in out + err


def test_a_saved_model_of_a_class_the_configuration_does_not_name_is_refused_before_it_runs(tmp_path):
    config = _config(tmp_path, 'models = ["et_chars"]\n' + ET_CHARS)
    cls = config.model_class("et_chars")
    rng = np.random.default_rng(0)
    from stackfold.core.blocks import Views
    X = Views({"char_counts": rng.random((12, 5)).astype(np.float32)})
    model = cls(classes=rakuten().classes, n_jobs=1, **config.model_params("et_chars")).fit(X, np.repeat([10, 40], 6))
    saved = FittedModels(tmp_path / "fitted")
    saved.save(0, model)
    trusted = {"et_chars": cls}
    assert saved.has(0) and saved.readable()
    assert np.array_equal(saved.load(0, 1, trusted).predict_proba(X), model.predict_proba(X))
    with pytest.raises(RunFolderError, match=r"a model of class 'et_chars', which the run's configuration does not "
                                             r"name; it is not loaded"):
        saved.load(0, 1)

    # a model of an older format is not reused by the next run (predict could not load it): fitted again
    (tmp_path / "fitted" / "fold_0" / "format.json").write_text('{"format": 1, "stackfold": "0.0.9"}')
    assert not saved.has(0) and not saved.readable()
