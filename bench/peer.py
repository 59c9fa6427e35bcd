"""Benchmark: does the default `stackfold run` beat a ten-line TF-IDF + logistic-regression peer by a clear margin?

    .venv/bin/python bench/peer.py DATA [--out DIR] [--config run.toml] [--folds 5] [--seed N] [--reuse]
    .venv/bin/python bench/peer.py --from-rakuten-real OUT [--label-submission]

DATA: a Kaggle-style challenge folder with its ``challenge.toml`` (without one, ``stackfold init`` guesses it in
DIR/data/NAME, links to DATA's files: DATA is never written). Runs ``stackfold run DATA --out DIR/run`` (cold:
DIR/run is deleted first unless ``--reuse``; the defaults or ``--config``; ``--seed`` replaces the config's),
then the peer on the run's folds (RUN/folds.csv): TF-IDF (word 1-2 grams, sublinear tf, min_df 2) of the spec's
text columns joined with spaces, ``LogisticRegression(C=10)`` (fixed, not tuned here; one BLAS thread: two made
its L-BFGS 6x slower on the busy 2-core machine). Prints one table in the challenge's metric: each side's CV
score (mean and std over folds, pooled OOF), stackfold's best base model, wall seconds beside the 1-minute load
average before and after, and the margin (positive: stackfold better), paired by fold: "clear" when stackfold
wins every fold and the mean margin exceeds twice its standard error.

``--from-rakuten-real OUT``: the real Rakuten rows (shared/data/rakuten-real, text only) as a generic Kaggle
folder: train.csv (id ``r{index}``, title, description, category = English category name), test.csv and a
uniform probability sample_submission.csv (log loss); ``--label-submission``: an ``id,category`` sample and
``stackfold init``'s challenge.toml with ``metric = "weighted_f1"``.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

from stackfold.competition.challenges import get_spec
from stackfold.competition.metric import LABEL_METRICS, log_loss, metric_info
from stackfold.competition.spec import CompetitionSpec
from stackfold.config import load_config
from stackfold.run_folder import Level, RunFolder

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
STACKFOLD = Path(sys.executable).parent / "stackfold"
PEER_C = 10.0


def from_rakuten_real(out: Path, label_submission: bool, real: Path = SHARED / "rakuten-real") -> None:
    """The real Rakuten rows as a generic Kaggle folder with string labels (see the module's docstring)."""
    names = pd.read_csv(SHARED / "rakuten-sample" / "reference" / "categories.csv", index_col=0)["label_en"]
    rows = {part: pd.read_csv(real / f"X_{part}_update.csv", index_col=0, keep_default_na=False)
            for part in ("train", "test")}
    frames = {part: pd.DataFrame({"id": [f"r{i}" for i in x.index], "title": x["designation"],
                                  "description": x["description"]}) for part, x in rows.items()}
    codes = pd.read_csv(real / "Y_train_CVw08PX.csv", index_col=0)["prdtypecode"].loc[rows["train"].index]
    frames["train"]["category"] = names.loc[codes].to_numpy()
    categories = sorted(frames["train"]["category"].unique())
    frames["sample_submission"] = (
        pd.DataFrame({"id": frames["test"]["id"], "category": frames["train"]["category"].mode()[0]})
        if label_submission else
        pd.DataFrame(1 / len(categories), index=frames["test"]["id"], columns=categories).reset_index())
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_csv(out / f"{name}.csv", index=False)
    if label_submission:
        subprocess.run([str(STACKFOLD), "init", str(out), "--force"], check=True, stdout=subprocess.DEVNULL)
        spec = out / "challenge.toml"
        text, n = re.subn(r"^#? ?metric = .*$", 'metric = "weighted_f1"', spec.read_text(), flags=re.M)
        if n != 1:
            sys.exit(f"{spec}: no metric line to set")
        spec.write_text(text)
    print(f"wrote {len(frames['train'])} train, {len(frames['test'])} test rows, {len(categories)} classes to {out}")


def data_with_spec(data: Path, out: Path) -> Path:
    """DATA when it holds a challenge.toml, else DIR/data/NAME: links to DATA's files and `stackfold init`'s guess."""
    if (data / "challenge.toml").is_file():
        return data
    copy = out / "data" / data.name  # the spec's default name: DATA's
    if not (copy / "challenge.toml").is_file():
        copy.mkdir(parents=True, exist_ok=True)
        for entry in data.iterdir():
            if not (copy / entry.name).exists():
                (copy / entry.name).symlink_to(entry.resolve())
        subprocess.run([str(STACKFOLD), "init", str(copy)], check=True, stdout=subprocess.DEVNULL)
    return copy


def train_text(data: Path, spec: CompetitionSpec, index: pd.Index) -> pd.Series:
    """The spec's text columns of the training rows ``index`` (folds.csv's order), joined with spaces."""
    if not spec.text_columns:
        sys.exit(f"{spec.name}: no text columns; the peer is a text model")
    path = data / spec.train_file
    frame = (pd.read_parquet(path) if path.suffix == ".parquet" else
             pd.read_csv(path, dtype=str, keep_default_na=False, index_col=None if spec.id_column else 0))
    frame = frame.set_index(spec.id_column) if spec.id_column else frame
    frame.index = frame.index.astype(str)
    return frame[list(spec.text_columns)].fillna("").astype(str).agg(" ".join, axis=1).loc[index.astype(str)]


def score(spec: CompetitionSpec, y: np.ndarray, proba: np.ndarray) -> float:
    """The challenge metric of probabilities ``proba`` (columns: ``spec.classes``) against class codes ``y``."""
    classes = pd.Index(spec.classes)
    if metric_info(spec.metric).needs_probabilities:
        return log_loss(classes.get_indexer(y), proba)
    return LABEL_METRICS[spec.metric](y, classes.to_numpy()[proba.argmax(axis=1)])


def peer_cv(text: pd.Series, y: np.ndarray, folds: np.ndarray, spec: CompetitionSpec) -> tuple[list[float], float]:
    """The peer's score on each fold (in fold order) and on its pooled OOF probabilities."""
    oof, scores = np.zeros((len(y), spec.n_classes)), []
    for k in np.unique(folds):
        train, valid = folds != k, folds == k
        peer = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
                             LogisticRegression(C=PEER_C, max_iter=1000))
        with threadpool_limits(limits=1, user_api="blas"):
            peer.fit(text[train], y[train])
            oof[np.ix_(valid, pd.Index(spec.classes).get_indexer(peer.classes_))] = peer.predict_proba(text[valid])
        scores.append(score(spec, y[valid], oof[valid]))
    return scores, score(spec, y, oof)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, nargs="?")
    parser.add_argument("--out", type=Path, help="default: bench-runs/peer/<DATA's name>")
    parser.add_argument("--config", type=Path)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, help="the run's seed (hence its folds); default: the config's (0)")
    parser.add_argument("--reuse", action="store_true", help="keep a finished DIR/run (its seconds are then warm)")
    parser.add_argument("--from-rakuten-real", type=Path, metavar="OUT")
    parser.add_argument("--label-submission", action="store_true")
    args = parser.parse_args()
    if args.from_rakuten_real:
        return from_rakuten_real(args.from_rakuten_real.resolve(), args.label_submission)
    if args.data is None:
        parser.error("give DATA or --from-rakuten-real OUT")
    out = (args.out or ROOT / "bench-runs" / "peer" / args.data.resolve().name).resolve()
    data = data_with_spec(args.data.resolve(), out)
    config = args.config.resolve() if args.config else None
    if args.seed is not None:  # the defaults with this seed, or the given config's effective keys with it
        out.mkdir(parents=True, exist_ok=True)
        text = f"seed = {args.seed}\n" if config is None else load_config(config, {"seed": args.seed}, data).to_toml()
        (config := out / "seed.toml").write_text(text)
    run = RunFolder(out / "run")
    if not args.reuse:
        shutil.rmtree(run.root, ignore_errors=True)
    command = [str(STACKFOLD), "run", str(data), "--out", str(run.root), "--folds", str(args.folds),
               *(["--config", str(config)] if config else [])]
    print(" ".join(command), flush=True)
    loads, start = [os.getloadavg()[0]], time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    run_s, loads = time.perf_counter() - start, [*loads, os.getloadavg()[0]]

    spec = get_spec(load_config(run.config).challenge)
    info = metric_info(spec.metric)
    assignment = run.load_fold_assignment()
    text = train_text(data, spec, assignment.index)
    start = time.perf_counter()
    peer_folds, peer_pooled = peer_cv(text, assignment.labels, assignment.folds, spec)
    peer_s, loads = time.perf_counter() - start, [*loads, os.getloadavg()[0]]

    board = pd.read_csv(run.leaderboard, keep_default_na=False)
    submitted = board[board["submitted"].astype(str) == "True"].iloc[0]
    bases = board[board["level"] == "base"]
    base = bases.loc[(info.sign() * bases[info.summary_column]).idxmax()]

    def fold_scores(row: pd.Series) -> list[float]:
        folds = run.manifest(Level(row["level"]), row["model"])["folds"]  # fold -1: a refit's timings
        return [f[info.fold_key] for f in sorted(folds, key=lambda f: f["fold"]) if f["fold"] >= 0]

    def line(side: str, model: str, folds: list[float], pooled: float, seconds: float, load: str) -> dict:
        return {"side": side, "model": model, f"CV {spec.metric}": np.mean(folds), "fold std": np.std(folds),
                "pooled OOF": pooled, "wall s": seconds, "load 1m": load}

    ours = fold_scores(submitted)
    table = pd.DataFrame([
        line("peer", f"tfidf 1-2g + logreg C={PEER_C:g}", peer_folds, peer_pooled, peer_s,
             f"{loads[1]:.1f} -> {loads[2]:.1f}"),
        line("stackfold submitted", submitted["model"], ours, submitted["oof_score"], run_s,
             f"{loads[0]:.1f} -> {loads[1]:.1f}"),
        line("stackfold best base", base["model"], fold_scores(base), base["oof_score"],
             base["fit_s"] + base["predict_s"], "(fit + predict s)"),
    ])
    print(f"\n## {spec.name}: {len(text)} training rows, {spec.n_classes} classes, {args.folds} folds, "
          f"{spec.metric} ({'higher' if info.higher_is_better else 'lower'} is better)\n")
    print(table.to_markdown(index=False, floatfmt=("", "", ".4f", ".4f", ".4f", ".0f", "")))
    if not np.isclose(submitted[info.summary_column], np.mean(ours), rtol=0, atol=5e-5):  # the board: 4 decimals
        print(f"(leaderboard {info.summary_column} of {submitted['model']}: {submitted[info.summary_column]:.4f})")
    paired = info.sign() * (np.array(ours) - np.array(peer_folds))
    error = paired.std(ddof=1) / np.sqrt(len(paired))
    clear = bool((paired > 0).all() and paired.mean() > 2 * error)
    print(f"\nmargin (stackfold submitted vs peer, positive: stackfold better): fold mean {paired.mean():+.4f} "
          f"(standard error {error:.4f}; stackfold better on {(paired > 0).sum()}/{len(paired)} folds), pooled OOF "
          f"{info.sign() * (submitted['oof_score'] - peer_pooled):+.4f}: {'CLEAR' if clear else 'NOT CLEAR'}; "
          f"stackfold took {run_s / peer_s:.0f}x the peer's wall time")
    print(f"load average now (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
