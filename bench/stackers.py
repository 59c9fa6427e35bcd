"""Benchmark: stacker fit and tuning-trial time on a synthetic stack matrix of Rakuten's size.

    .venv/bin/python bench/stackers.py [--products 85000] [--models 8] [--seed 0] [--n-jobs 2] [--stackers lgbm,xgb]

The stack matrix is made, not trained: each of ``--models`` base models gives OOF probabilities
``softmax(signal * onehot(y) + noise)`` over the 27 classes, the noise half shared between models
(base models make correlated mistakes), the signal per model set for single-model accuracy
~0.6-0.8. Labels follow the real Rakuten class frequencies. Prints, per stacker of ``--stackers``
(default the tunable ``lgbm`` and ``xgb``), the seconds of one fit with default parameters on all
rows (target <= 60 s at 85k x 216), the rounds a booster used, and for a tunable stacker the seconds
and CV weighted F1 of one 5-fold tuning trial (target <= 300 s). ``--products 20000`` is a quick run.
"""

import argparse
import time

import numpy as np
import optuna

from stackfold.competition.folds import make_folds
from stackfold.competition.spec import class_frequencies
from stackfold.core.estimator import BaseModel
from stackfold.ensembles import STACKERS
from stackfold.ensembles.objective import StackData, make_objective
from stackfold.ensembles.search_space import SPACES, search_space
from stackfold.studies import open_study

SIGNALS = (2.3, 2.4, 2.5, 2.55, 2.65, 2.7, 2.8, 2.9)
"""Signal of each base model (cycled): accuracies from ~0.6 to ~0.8 with the noise below."""
SHARED_NOISE = 0.5
"""Fraction of the logit noise variance shared by all base models."""


def synthetic_stack(n: int, n_models: int, seed: int) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Stack matrix ``(n, n_models * 27)`` float32, labels as class codes, and the class codes."""
    rng = np.random.default_rng(seed)
    frequencies = class_frequencies()
    classes = tuple(frequencies)
    p = np.array(list(frequencies.values()), dtype=float)
    positions = rng.choice(len(classes), size=n, p=p / p.sum())
    onehot = np.eye(len(classes), dtype=np.float32)[positions]
    shared = rng.standard_normal((n, len(classes)), dtype=np.float32)
    blocks = []
    for m in range(n_models):
        own = rng.standard_normal((n, len(classes)), dtype=np.float32)
        logits = SIGNALS[m % len(SIGNALS)] * onehot + np.sqrt(SHARED_NOISE) * shared + np.sqrt(1 - SHARED_NOISE) * own
        logits -= logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        blocks.append(proba / proba.sum(axis=1, keepdims=True))
    return np.hstack(blocks).astype(np.float32), np.asarray(classes)[positions], classes


def model_accuracies(X: np.ndarray, y: np.ndarray, classes: tuple[int, ...]) -> list[float]:
    k = len(classes)
    return [float(np.mean(np.asarray(classes)[X[:, m * k:(m + 1) * k].argmax(axis=1)] == y))
            for m in range(X.shape[1] // k)]


def rounds_used(model: BaseModel) -> int | None:
    """Boosting rounds kept by early stopping (LightGBM and XGBoost boosters); ``None`` for other stackers."""
    booster = getattr(model, "booster_", None)
    if booster is None:
        return None
    if hasattr(booster, "current_iteration"):
        return int(booster.best_iteration or booster.current_iteration())
    return int(booster.best_iteration) + 1


def bench_stacker(stacker_class: type[BaseModel], data: StackData) -> None:
    """One default fit on all rows, then one tuning trial (5-fold CV) as `stackfold tune` runs it."""
    start = time.perf_counter()
    model = stacker_class(data.classes, seed=data.seed, n_jobs=data.n_jobs).fit(data.X, data.y)
    fit_s = time.perf_counter() - start
    rounds = rounds_used(model)
    print(f"{stacker_class.name}: default fit {fit_s:.1f} s (target <= 60 s at 85k x 216)"
          + (f", {rounds} rounds" if rounds is not None else ""))
    if stacker_class.name not in SPACES:
        return
    study = open_study(None, f"bench-{stacker_class.name}", data.seed)
    start = time.perf_counter()
    study.optimize(make_objective(stacker_class, search_space(stacker_class), data), n_trials=1)
    trial = study.trials[0]
    params = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in trial.params.items())
    print(f"{stacker_class.name}: one tuning trial {time.perf_counter() - start:.1f} s (target <= 300 s), "
          f"wf1 {trial.value:.4f} with {params}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=85_000)
    parser.add_argument("--models", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--stackers", default="lgbm,xgb", help="comma-separated stackers to time")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    X, y, classes = synthetic_stack(args.products, args.models, args.seed)
    folds = make_folds(y, 5, args.seed)
    accuracies = model_accuracies(X, y, classes)
    print(f"stack matrix {X.shape[0]} x {X.shape[1]}, {len(classes)} classes, "
          f"base model accuracy {min(accuracies):.3f}-{max(accuracies):.3f}, n_jobs {args.n_jobs}")
    data = StackData(X, y, folds, classes, args.seed, args.n_jobs)
    for name in args.stackers.split(","):
        if name in STACKERS:
            bench_stacker(STACKERS[name], data)
        else:
            print(f"{name}: not registered, skipped")


if __name__ == "__main__":
    main()
