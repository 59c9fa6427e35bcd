"""Benchmark: stackfold versus scikit-learn's ``StackingClassifier`` on the same base models and folds.

    .venv/bin/python bench/stacking_vs_sklearn.py --products 20000 [--models complement_nb logreg text_forest]
        [--add linear_svc] [--no-peer-cv] [--seed 0] [--n-jobs 2]

On a text-only synthetic twin (its test labels kept aside as the held-out split), both sides
stack the same base models over the same saved fold assignment, with LightGBM and with
logistic regression as the final estimator:

- stackfold: one ``run`` trains each base model once (k fold fits, test = fold average) and
  fits every stacker on the shared OOF matrix;
- scikit-learn: one ``StackingClassifier`` per final estimator (``cv`` = the same folds), each
  refitting every base model k + 1 times; its CV score needs an outer CV around it
  (on the same folds, k x k base fits: skip it with ``--no-peer-cv``).

Feature views are built once before either side is timed and shared by both. Prints seconds,
CV and held-out weighted F1 side by side, the speed ratio (target >= 2x), and the cost of adding
``--add`` to the finished stackfold run against a run of that model alone (target <= 1.1x: nothing
already trained is trained again; the stackers are refitted, their inputs changed).
"""

import argparse
import json
import shutil
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import StackingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import PredefinedSplit
from threadpoolctl import threadpool_limits

from stackfold.competition.load import load_competition, read_challenge_csv
from stackfold.competition.metric import weighted_f1
from stackfold.competition.challenges import rakuten
from stackfold.config import load_config
from stackfold.core.blocks import Views
from stackfold.features.store import FeatureStore
from stackfold.models import get_model
from stackfold.pipeline import run_pipeline
from stackfold.run_folder import RunFolder
from stackfold.synthetic import write_demo_data

STACKERS = {"lgbm": "LightGBM", "logreg_stack": "logistic regression"}
_VIEWS: dict[str, Views] = {}
"""Train then test rows of the feature views, by name, so scikit-learn's ``clone`` copies a key, not matrices."""


def concat_views(train: Views, test: Views) -> Views:
    """Train rows then test rows of every block: the peer addresses both by position."""
    def concat(a, b):
        if isinstance(a, pd.DataFrame):
            return pd.concat([a, b], ignore_index=True)
        return sp.vstack([a, b]).tocsr() if sp.issparse(a) else np.concatenate([a, b])

    return Views({name: concat(train[name], test[name]) for name in train.blocks})


class StackfoldEstimator(ClassifierMixin, BaseEstimator):
    """A stackfold base model as a scikit-learn classifier over row positions into shared views."""

    def __init__(self, model: str = "logreg", views: str = "all", n_classes: int = 27, seed: int = 0,
                 n_jobs: int = 2):
        self.model = model
        self.views = views
        self.n_classes = n_classes
        self.seed = seed
        self.n_jobs = n_jobs

    def fit(self, rows: np.ndarray, y: np.ndarray) -> "StackfoldEstimator":
        self.classes_ = np.arange(self.n_classes)
        self.model_ = get_model(self.model)(self.classes_, seed=self.seed, n_jobs=self.n_jobs)
        self.model_.fit(_VIEWS[self.views].take(rows.ravel()), y)
        return self

    def predict_proba(self, rows: np.ndarray) -> np.ndarray:
        return self.model_.predict_proba(_VIEWS[self.views].take(rows.ravel()))

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return self.classes_[self.predict_proba(rows).argmax(axis=1)]


def final_estimator(name: str, seed: int, n_jobs: int) -> BaseEstimator:
    """The peer's final estimators as a scikit-learn user would write them."""
    if name == "lgbm":
        return lgb.LGBMClassifier(n_jobs=n_jobs, random_state=seed, verbose=-1)
    return LogisticRegression(max_iter=1000, random_state=seed)


def peer(models: list[str], stacker: str, n_classes: int, seed: int, n_jobs: int, folds: np.ndarray) -> StackingClassifier:
    estimators = [(m, StackfoldEstimator(m, "all", n_classes, seed, n_jobs)) for m in models]
    return StackingClassifier(estimators, final_estimator(stacker, seed, n_jobs), cv=PredefinedSplit(folds),
                              stack_method="predict_proba", n_jobs=1)


def peer_cv(models: list[str], stacker: str, n_classes: int, seed: int, n_jobs: int, folds: np.ndarray,
            positions: np.ndarray, y: np.ndarray) -> float:
    """Mean weighted F1 over the saved folds of a StackingClassifier fitted on the other folds (its inner CV: those)."""
    scores = []
    for k in np.unique(folds):
        train, valid = folds != k, folds == k
        stacking = peer(models, stacker, n_classes, seed, n_jobs, folds[train]).fit(positions[train], y[train])
        scores.append(weighted_f1(y[valid], stacking.predict(positions[valid])))
    return float(np.mean(scores))


def stackfold_run(data: Path, out: Path, models: list[str], seed: int, n_jobs: int) -> float:
    config = out.parent / f"{out.name}-{len(models)}.toml"
    config.write_text(f"images = false\nseed = {seed}\nn_jobs = {n_jobs}\nmodels = {json.dumps(models)}\n"
                      f"stackers = {json.dumps(list(STACKERS))}\ndecisions = []\n")
    start = time.perf_counter()
    run_pipeline(data, out, load_config(config))
    return time.perf_counter() - start


def held_out_wf1(run: RunFolder, level: str, name: str, truth: np.ndarray) -> float:
    test = pd.read_parquet(run.model_dir(level, name) / "test.parquet").to_numpy()
    return weighted_f1(truth, np.asarray(rakuten().classes)[test.argmax(axis=1)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--models", nargs="+", default=["complement_nb", "logreg", "text_forest"])
    parser.add_argument("--add", default="linear_svc")
    parser.add_argument("--no-peer-cv", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    data = Path(f"bench-data/twin-{args.products}-{args.seed}-text")
    out = Path(f"bench-runs/vs-sklearn-{args.products}-{args.seed}")
    if not (data / "X_train_update.csv").is_file():
        write_demo_data(data, n_products=args.products, seed=args.seed, images=False)
    shutil.rmtree(out, ignore_errors=True)
    run = RunFolder(out)
    spec = rakuten()
    dataset = load_competition(data, spec, images=False)
    truth = read_challenge_csv(data / "truth" / "Y_test.csv", (spec.label_column,))
    truth = truth.loc[dataset.test.index, spec.label_column].astype(int).to_numpy()
    views = sorted({v for m in [*args.models, args.add] for v in get_model(m).views})

    start = time.perf_counter()
    store = FeatureStore(dataset, run.cache)
    train_views, test_views = store.views(tuple(views))
    features_s = time.perf_counter() - start

    ours_s = stackfold_run(data, out, args.models, args.seed, args.n_jobs)
    folds = run.load_fold_assignment().folds
    board = pd.read_csv(run.leaderboard).set_index("model")
    rows = []
    for name, final in STACKERS.items():
        rows.append({"side": "stackfold", "final": final, "cv_wf1": board.loc[name, "wf1_mean"],
                     "held_out_wf1": held_out_wf1(run, "stack", name, truth)})

    _VIEWS["all"] = concat_views(train_views, test_views)
    positions = np.arange(len(dataset.y))[:, None]
    test_positions = len(dataset.y) + np.arange(len(truth))[:, None]
    peer_s = 0.0
    y = np.searchsorted(spec.classes, dataset.y)  # class positions (the codes are sorted)
    with threadpool_limits(limits=args.n_jobs):
        for name, final in STACKERS.items():
            start = time.perf_counter()
            stacking = peer(args.models, name, spec.n_classes, args.seed, args.n_jobs, folds)
            stacking.fit(positions, y)
            held_out = weighted_f1(truth, np.asarray(spec.classes)[stacking.predict(test_positions)])
            seconds = time.perf_counter() - start
            peer_s += seconds
            cv = np.nan
            if not args.no_peer_cv:
                cv = peer_cv(args.models, name, spec.n_classes, args.seed, args.n_jobs, folds, positions, y)
            rows.append({"side": "scikit-learn", "final": final, "cv_wf1": cv, "held_out_wf1": held_out,
                         "fit_predict_s": seconds})

    add_s = stackfold_run(data, out, [*args.models, args.add], args.seed, args.n_jobs)
    manifest = json.loads((run.model_dir("base", args.add) / "manifest.json").read_text())
    model_s = sum(f["fit_s"] + f["predict_s"] for f in manifest["folds"])
    alone = out.with_name(f"{out.name}-alone")
    shutil.rmtree(alone, ignore_errors=True)
    shutil.copytree(run.cache, RunFolder(alone).cache)
    alone_s = stackfold_run(data, alone, [args.add], args.seed, args.n_jobs)

    table = pd.DataFrame(rows)
    print(table.to_markdown(index=False, floatfmt=".4f"))
    print(f"\nproducts {args.products}  base models {', '.join(args.models)}  seed {args.seed}  n_jobs {args.n_jobs}")
    print(f"feature views (shared, not timed below): {features_s:.1f} s")
    print(f"stackfold, both stackers from one run: {ours_s:.1f} s")
    print(f"scikit-learn, one StackingClassifier per final estimator: {peer_s:.1f} s")
    print(f"speed ratio: {peer_s / ours_s:.2f}x (target >= 2x: {'PASS' if peer_s >= 2 * ours_s else 'FAIL'})")
    for name in STACKERS.values():
        ours = table[(table["side"] == "stackfold") & (table["final"] == name)].iloc[0]
        theirs = table[(table["side"] == "scikit-learn") & (table["final"] == name)].iloc[0]
        print(f"{name}: held-out wF1 {ours['held_out_wf1'] - theirs['held_out_wf1']:+.4f}, "
              f"CV wF1 {ours['cv_wf1'] - theirs['cv_wf1']:+.4f} (stackfold - scikit-learn; target >= 0)")
    print(f"adding {args.add} to the finished run: {add_s:.1f} s; a run of {args.add} alone (same stackers): "
          f"{alone_s:.1f} s: {add_s / alone_s:.2f}x (target <= 1.1x: {'PASS' if add_s <= 1.1 * alone_s else 'FAIL'}); "
          f"its {len(manifest['folds'])} fold fits alone: {model_s:.1f} s ({add_s / model_s:.2f}x)")


if __name__ == "__main__":
    main()
