"""Decide the text defaults on real Rakuten rows by 5-fold CV, one factor at a time.

    .venv/bin/python bench/real_choices.py [--data ../shared/data/rakuten-real] [--out bench-runs/choices] [--quick]

Step 1 (``views``) varies one text-view setting at a time from the current best, judged by
``linear_svc`` and ``logreg`` (``JUDGES``). An option wins when the judges' mean paired gain
(same folds) exceeds ``MARGIN`` with neither judge losing; the winner is the first listed option
(the smallest change) within ``MARGIN`` of the largest winning gain. ``recheck`` then tries the first two
switches again on the winning views. Step 2 (``params``) tunes each text model on the winning
views with the same rule for that model alone. Step 3 (``text_nn``) tries settings that give the
text net enough gradient steps on small data. Step 4 (``confirm``) scores the default and the
winning views again on other folds (seeds 1 and 2).

Every evaluation is one ``stackfold run`` (the venv's CLI, text only, one thread) in
``OUT/runs/<config hash>``; all runs share one feature cache, and a finished run is read back,
not run again. Prints one row per choice: step, setting, model, CV weighted F1, fold std,
paired gain over the step's reference (mean and std over folds) and the model's seconds
(fit + predict over the 5 folds). ``--quick`` runs a 3-choice subset.
"""

import argparse
import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

STACKFOLD = Path(sys.executable).parent / "stackfold"
JUDGES = {"linear_svc": {"C": 0.5}, "logreg": {"C": 10.0, "max_iter": 15}}
"""The judges of the text views, with their parameters before this study (pinned: defaults move)."""
TFIDF_MODELS = ("linear_svc", "logreg", "rbf_svc", "complement_nb")
"""Models on the fold TF-IDF of word + char counts: the judges' shared parameters (``min_df``) apply to them."""
MARGIN = 0.003
"""Smallest mean paired gain in weighted F1 that counts as a win (the paired fold std is ~0.005-0.01)."""

Views = dict[str, dict[str, Any]]
Option = tuple[str, Views, dict[str, Any]]
"""A labelled setting: view overrides, and parameters given to every judge (the fold TF-IDF ``min_df``)."""

BASE = {"images": False, "folds": 5, "n_jobs": 1, "stackers": ["mean"], "decisions": []}
DEFAULT_VIEWS: Views = {
    "text": {"lemmatize": True, "remove_stop_words": True, "fold_accents": False, "token_pattern": r"\w{3,}"},
    "word_counts": {"ngram_min": 1, "ngram_max": 2, "min_df": 2},
    "char_counts": {"ngram_min": 2, "ngram_max": 5, "min_df": 2},
}

VIEW_FACTORS: list[list[Option]] = [
    [("lemmatize=true", {"text": {"lemmatize": True}}, {}),
     ("lemmatize=false", {"text": {"lemmatize": False}}, {})],
    [("remove_stop_words=true", {"text": {"remove_stop_words": True}}, {}),
     ("remove_stop_words=false", {"text": {"remove_stop_words": False}}, {})],
    [("fold_accents=false", {"text": {"fold_accents": False}}, {}),
     ("fold_accents=true", {"text": {"fold_accents": True}}, {})],
    [(r"token_pattern=\w{3,}", {"text": {"token_pattern": r"\w{3,}"}}, {}),
     (r"token_pattern=\w{2,}", {"text": {"token_pattern": r"\w{2,}"}}, {}),
     (r"token_pattern=\w+", {"text": {"token_pattern": r"\w+"}}, {})],
    [(f"char {lo}-{hi}", {"char_counts": {"ngram_min": lo, "ngram_max": hi}}, {})
     for lo, hi in ((2, 5), (1, 4), (3, 6), (2, 6))],
    [("min_df word 2 char 2", {"word_counts": {"min_df": 2}, "char_counts": {"min_df": 2}}, {}),
     ("min_df word 1 char 2", {"word_counts": {"min_df": 1}, "char_counts": {"min_df": 2}}, {"min_df": 1}),
     ("min_df word 1 char 1", {"word_counts": {"min_df": 1}, "char_counts": {"min_df": 1}}, {"min_df": 1})],
]

MODEL_GRIDS: dict[str, list[dict[str, Any]]] = {
    "linear_svc": [{"C": c} for c in (0.5, 0.1, 0.25, 1.0)],
    "logreg": [{"C": c, "max_iter": n} for n in (15, 40) for c in (10.0, 5.0, 30.0)],
    "tfidf_logreg": [{"C": c} for c in (8.0, 20.0, 50.0, 100.0)],
    "complement_nb": [{"alpha": a} for a in (0.3, 0.1, 0.03, 1.0)],
    "rbf_svc": [{"gamma": g, "alpha": a} for g, a in ((1.0, 1e-5), (0.5, 1e-5), (0.25, 1e-5), (2.0, 1e-5), (1.0, 1e-4),
                                                      (0.5, 1e-4), (0.25, 1e-4), (2.0, 1e-4), (0.1, 1e-4),
                                                      (0.25, 3e-4), (0.1, 3e-4))],
    "text_forest": [{"max_depth": d, "n_estimators": n} for n in (100, 300) for d in (30, 60)],
}
"""Parameter options per model; the first is the current default, the reference of its rows."""

TEXT_NN: list[dict[str, Any]] = [
    {"batch_size": batch, "epochs": epochs, "patience": patience, "learning_rate": rate, "dropout": dropout}
    for batch, epochs, patience, rate, dropout in ((512, 12, 2, 1e-3, 0.7), (64, 40, 3, 1e-3, 0.7),
                                                   (64, 40, 3, 3e-3, 0.7), (64, 40, 3, 3e-3, 0.5))
]
"""text_nn settings; the first is the published one (the default before this study), the reference."""


@dataclass(frozen=True)
class Result:
    """One model's CV figures in one run."""

    wf1: float
    std: float
    seconds: float
    folds: np.ndarray


def toml_value(value: Any) -> str:
    """A TOML literal of a bool, number, string (literal quotes: regexes stay as typed) or list."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return f"'{value}'"
    return repr(value)


def to_toml(config: dict[str, Any]) -> str:
    """TOML of a config whose tables (``features``, ``params``) hold one level of named tables."""
    lines = [f"{key} = {toml_value(value)}" for key, value in config.items() if not isinstance(value, dict)]
    for table, named in config.items():
        if isinstance(named, dict):
            for name, values in named.items():
                lines += ["", f"[{table}.{name}]"]
                lines += [f"{key} = {toml_value(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def merged(views: Views, overrides: Views) -> Views:
    """``views`` with the per-view ``overrides`` applied."""
    return {name: {**params, **overrides.get(name, {})} for name, params in views.items()}


def run_config(data: Path, out: Path, config: dict[str, Any]) -> tuple[Path, pd.DataFrame]:
    """``stackfold run`` of ``config`` in a run folder named by its hash; the folder and its leaderboard.

    A finished run folder (it has a leaderboard) is read back without running: delete ``OUT/runs``
    after changing the package.
    """
    text = to_toml(config)
    run = out / "runs" / hashlib.sha256(text.encode()).hexdigest()[:12]
    run.mkdir(parents=True, exist_ok=True)
    (out / "cache").mkdir(exist_ok=True)
    if not (run / "cache").exists():
        (run / "cache").symlink_to((out / "cache").resolve())
    (run / "choice.toml").write_text(text)
    if not (run / "leaderboard.csv").is_file():
        with open(run / "run.log", "w") as log:
            subprocess.run([str(STACKFOLD), "run", str(data), "--out", str(run), "--config", str(run / "choice.toml")],
                           stdout=log, stderr=subprocess.STDOUT, check=True)
    return run, pd.read_csv(run / "leaderboard.csv").set_index("model")


def evaluate(
    data: Path, out: Path, views: Views, params: dict[str, dict[str, Any]], seed: int = 0
) -> dict[str, Result]:
    """CV figures of each model of ``params`` (its overrides) on ``views``, from one run."""
    config = {**BASE, "seed": seed, "models": list(params), "features": views,
              "params": {m: p for m, p in params.items() if p}}
    run, board = run_config(data, out, config)
    results = {}
    for model in params:
        manifest = json.loads((run / "models" / model / "manifest.json").read_text())
        row = board.loc[model]
        results[model] = Result(float(row["wf1_mean"]), float(row["wf1_std"]), float(row["fit_s"] + row["predict_s"]),
                                np.array([fold["wf1"] for fold in manifest["folds"]]))
    return results


def report(step: str, setting: str, model: str, result: Result, reference: Result | None) -> None:
    """Print one table row; the gain is paired with ``reference`` fold by fold."""
    gain = "" if reference is None else f"{(d := result.folds - reference.folds).mean():+.4f} ± {d.std(ddof=1):.4f}"
    print(f"{step:8} {setting:68} {model:13} {result.wf1:7.4f} {result.std:7.4f} {gain:>17} {result.seconds:8.1f}",
          flush=True)


def label(params: dict[str, Any]) -> str:
    """``params`` as ``name=value`` pairs."""
    return " ".join(f"{key}={value}" for key, value in params.items())


def gain(option: dict[str, Result], current: dict[str, Result]) -> tuple[float, float]:
    """Mean over models of the mean paired gain of ``option`` over ``current``, and the smallest model's gain."""
    gains = [float((option[m].folds - current[m].folds).mean()) for m in current]
    return float(np.mean(gains)), min(gains)


def winning_gain(option: dict[str, Result], current: dict[str, Result]) -> float:
    """Mean gain of ``option`` over ``current`` if it wins by more than noise (over ``MARGIN``, no model
    loses), else 0."""
    mean, smallest = gain(option, current)
    return mean if mean > MARGIN and smallest > 0 else 0.0


def choose(gains: list[float]) -> int | None:
    """Index of the winning option: the first listed (the smallest change) within ``MARGIN`` of the
    largest winning gain; None when no option wins."""
    if max(gains) == 0.0:
        return None
    return next(i for i, g in enumerate(gains) if g > 0.0 and g >= max(gains) - MARGIN)


def judges(shared: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each judge's parameters with the ``shared`` ones."""
    return {model: {**params, **shared} for model, params in JUDGES.items()}


def study_views(data: Path, out: Path, factors: list[list[Option]], views: Views, shared: dict[str, Any],
                step: str = "views") -> tuple[Views, dict[str, Any]]:
    """Step 1: each factor's options from the current best, starting at ``views`` and the judges' ``shared``
    params; the winning views and shared params."""
    for options in factors:
        current = evaluate(data, out, views, judges(shared))
        candidates, gains = [], []
        for name, overrides, params in options:
            candidate_views, candidate_params = merged(views, overrides), {**shared, **params}
            candidates.append((candidate_views, candidate_params))
            results = evaluate(data, out, candidate_views, judges(candidate_params))
            for model in JUDGES:
                report(step, name, model, results[model], current[model])
            gains.append(winning_gain(results, current))
        chosen = choose(gains)
        print(f"-> views: {'current' if chosen is None else options[chosen][0]}")
        if chosen is not None:
            views, shared = candidates[chosen]
    return views, shared


def study_params(data: Path, out: Path, views: Views, grids: dict[str, list[dict[str, Any]]],
                 shared: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Step 2: each model's options on ``views``; the winning parameters per model."""
    winners = {}
    for model, grid in grids.items():
        common = shared if model in TFIDF_MODELS else {}
        reference = evaluate(data, out, views, {model: {**common, **grid[0]}})
        gains = []
        for params in grid:
            results = evaluate(data, out, views, {model: {**common, **params}})
            report("params", label(params), model, results[model], reference[model])
            gains.append(winning_gain(results, reference))
        chosen = choose(gains)
        winners[model] = grid[0 if chosen is None else chosen]
        print(f"-> {model}: {winners[model]}")
    return winners


def study_text_nn(data: Path, out: Path, views: Views, settings: list[dict[str, Any]]) -> None:
    """Step 3: text_nn settings on ``views``, each against the current default."""
    reference = evaluate(data, out, views, {"text_nn": settings[0]})["text_nn"]
    for params in settings:
        result = evaluate(data, out, views, {"text_nn": params})["text_nn"]
        report("text_nn", label(params), "text_nn", result, reference)


def confirm(data: Path, out: Path, views: Views, shared: dict[str, Any], seeds: tuple[int, ...]) -> None:
    """Step 4: the default and the winning views on the folds of other seeds."""
    for seed in seeds:
        reference = evaluate(data, out, DEFAULT_VIEWS, judges({}), seed)
        results = evaluate(data, out, views, judges(shared), seed)
        for model in JUDGES:
            report("confirm", f"seed {seed} default views", model, reference[model], None)
            report("confirm", f"seed {seed} winning views", model, results[model], reference[model])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/rakuten-real"))
    parser.add_argument("--out", type=Path, default=Path("bench-runs/choices"))
    parser.add_argument("--quick", action="store_true", help="3 choices: lemmatize on/off, linear_svc C 0.5/0.25")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"{'step':8} {'setting':68} {'model':13} {'wF1':>7} {'std':>7} {'gain vs ref':>17} {'seconds':>8}")
    if args.quick:
        views, shared = study_views(args.data, args.out, VIEW_FACTORS[:1], DEFAULT_VIEWS, {})
        study_params(args.data, args.out, views, {"linear_svc": MODEL_GRIDS["linear_svc"][:3:2]}, shared)
        return
    views, shared = study_views(args.data, args.out, VIEW_FACTORS, DEFAULT_VIEWS, {})
    views, shared = study_views(args.data, args.out, VIEW_FACTORS[:2], views, shared, "recheck")
    print(f"winning views: {json.dumps(views)}; judges' params: {json.dumps(shared)}")
    winners = study_params(args.data, args.out, views, MODEL_GRIDS, shared)
    print(f"winning params: {json.dumps(winners)}")
    study_text_nn(args.data, args.out, views, TEXT_NN)
    confirm(args.data, args.out, views, shared, (1, 2))


if __name__ == "__main__":
    main()
