"""Benchmark: `stackfold report` on a Rakuten-sized run folder of 15 base models and 6 stackers.

    .venv/bin/python bench/report.py [--rows 85000] [--out bench-runs/report] [--repeats 1]
        [--image-size 24] [--sections]

Target (the issue): the report of an 85,000-row run with 15 base models and 6 stackers takes
<= 30 s, <= 2 GiB peak RSS and writes <= 5 MB of HTML.

Builds, once, ``OUT/data`` (the synthetic twin, ``--rows`` training products with small images)
and ``OUT/run``: a finished run folder with made OOF and test probabilities (per-row correct
class drawn from a shared row difficulty, so models are correlated; base accuracies 0.40-0.85,
stackers 0.86-0.89), real fold scores, folds.csv, origin.json, the leaderboard with its
bootstrap intervals (as `stackfold run` writes it), config.toml, best.csv and its registry line,
SHAP shares and a 50-trial Optuna study of the lgbm stacker. ``OUT/manifest.json`` records the
parameters: a later call with the same ones reuses the folder. Then runs `stackfold report OUT/run`
``--repeats`` times as a cold subprocess and prints its wall seconds, peak RSS (from
``/usr/bin/time``) and HTML size against the targets. ``--sections``: also time each section
in-process. The build (about 2 minutes at 85,000 rows on 2 cores, 1.5 of them the twin's text and
pictures) is printed apart from the report. ``--image-size`` below 24 can crash the twin's drawing.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, UTC
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
from scipy.stats import norm

from stackfold.competition.folds import make_folds, save_folds
from stackfold.competition.load import load_competition
from stackfold.competition.metric import SUMMARY_COLUMN, classification_scores
from stackfold.competition.challenges import get_spec
from stackfold.config import RunConfig, load_config
from stackfold.core.cv import CVResult
from stackfold.core.topk import predicted_positions
from stackfold.ensembles.search_space import LGBM_SPACE, Range
from stackfold.hashing import content_key
from stackfold.io import write_json_atomic
from stackfold.leaderboard import leaderboard_frame, write_leaderboard
from stackfold.run_folder import Level, RunFolder
from stackfold.submissions import SubmissionRecord, register_submission, write_submission
from stackfold.synthetic import write_demo_data

STACKFOLD = Path(sys.executable).parent / "stackfold"
BASE = ("color_forest", "pixel_forest", "pixel_svc", "cnn", "efficientnet_svc", "efficientnet_logreg",
        "complement_nb", "rbf_svc", "sentence_logreg", "sentence_nn", "linear_svc", "logreg", "tfidf_logreg",
        "text_nn", "fusion")
"""15 of the base models of ``stackfold/cli/options.py``, weakest first (accuracy 0.40 up to 0.85)."""
STACKERS = ("mean", "log_pool", "weighted_mean", "logreg_stack", "xgb", "lgbm")
"""The 6 stackers, weakest first (accuracy 0.86 up to 0.89)."""
TARGETS = {"wall s": 30.0, "peak RSS GiB": 2.0, "HTML MB": 5.0}
FOLDS, SEED = 5, 0
VERSION = 2
"""Bumped when the folder this script builds changes: an older cached folder is rebuilt."""


def made_proba(y: np.ndarray, accuracy: float, difficulty: np.ndarray, confuser: np.ndarray, n_classes: int,
               rng: np.random.Generator) -> np.ndarray:
    """Probability rows (sum 1, float32) whose argmax is right on about ``accuracy`` of the rows.

    A row is right when ``accuracy``'s probit minus the shared ``difficulty`` plus own noise is
    positive; wrong rows mostly go to the row's shared ``confuser`` class; the top probability
    is higher on right rows (Beta(5, 2)) than on wrong ones (Beta(2, 3)), the rest Dirichlet.
    """
    rho = 0.7
    right = norm.ppf(accuracy) - rho * difficulty + np.sqrt(1 - rho**2) * rng.standard_normal(len(y))
    right = right > 0
    random_wrong = (y + rng.integers(1, n_classes, len(y))) % n_classes
    wrong = np.where(rng.random(len(y)) < 0.6, confuser, random_wrong)
    predicted = np.where(right, y, wrong)
    top = np.where(right, rng.beta(5, 2, len(y)), rng.beta(2, 3, len(y)))
    rows = rng.dirichlet(np.full(n_classes, 0.3), len(y)) * (1 - top)[:, None]
    rows[np.arange(len(y)), predicted] = np.maximum(top, rows.max(axis=1) * 1.05)
    return (rows / rows.sum(axis=1, keepdims=True)).astype(np.float32)


def fold_scores(y_codes: np.ndarray, predicted_codes: np.ndarray, folds: np.ndarray, level: Level,
                rng: np.random.Generator) -> pd.DataFrame:
    """Real per-fold scores of the made predictions, with made fit and predict seconds."""
    scale = 60.0 if level == Level.BASE else 5.0
    rows = []
    for fold in range(FOLDS):
        valid = folds == fold
        rows.append({"fold": fold, **classification_scores(y_codes[valid], predicted_codes[valid]),
                     "fit_s": float(rng.gamma(2.0, scale)), "predict_s": float(rng.gamma(2.0, scale / 10))})
    return pd.DataFrame(rows)


def made_study(run: RunFolder) -> None:
    """A 50-trial study of a toy objective over the lgbm search space, saved like `stackfold tune`."""
    storage = f"sqlite:///{run.study_storage('lgbm').resolve()}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=storage, study_name="lgbm", direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=SEED), load_if_exists=True)

    def objective(trial: optuna.Trial) -> float:
        values = {}
        for name, dim in LGBM_SPACE.items():
            if not isinstance(dim, Range):
                values[name] = trial.suggest_categorical(name, list(dim.values))
            elif isinstance(dim.low, int) and isinstance(dim.high, int):
                values[name] = trial.suggest_int(name, dim.low, dim.high, log=dim.log)
            else:
                values[name] = trial.suggest_float(name, dim.low, dim.high, log=dim.log)
        return 0.88 - 0.02 * abs(np.log(values["learning_rate"] / 0.08)) - 0.001 * abs(values["num_leaves"] - 31) / 8

    study.optimize(objective, n_trials=50 - len(study.trials))
    best = study.best_trial
    write_json_atomic(run.tuning_result("lgbm"), {
        "params": best.params, "value": best.value, "trials": len(study.trials), "best_trial": best.number,
        "study": "lgbm", "storage": storage, "default_value": 0.86, "inputs_key": "bench"})


def build_run(out: Path, rows: int, image_size: int) -> dict[str, float]:
    """Write ``out/data`` and ``out/run`` (see the module docstring); return seconds per step."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    data, run = out / "data", RunFolder(out / "run")
    shutil.rmtree(out, ignore_errors=True)
    write_demo_data(data, n_products=rows, seed=SEED, image_size=image_size)
    seconds["synthetic twin"] = time.perf_counter() - started

    started = time.perf_counter()
    spec = get_spec("rakuten")
    dataset = load_competition(data, spec, images=False)
    classes = np.asarray(spec.classes)
    y = pd.Index(spec.classes).get_indexer(dataset.y)
    y_test = pd.Index(spec.classes).get_indexer(pd.read_csv(data / "truth" / "Y_test.csv", index_col=0).iloc[:, 0])
    config = RunConfig(models=BASE, stackers=STACKERS, seed=SEED, folds=FOLDS)
    run.root.mkdir(parents=True)
    run.save_origin({"competition": "rakuten", "data": dataset.fingerprint, "folds": FOLDS, "seed": SEED}, data)
    folds = make_folds(dataset.y, FOLDS, SEED)
    save_folds(run.folds, dataset.train.index, folds, dataset.y)
    rng = np.random.default_rng(SEED)
    difficulty, difficulty_test = rng.standard_normal(len(y)), rng.standard_normal(len(y_test))
    confuser = (y + rng.integers(1, spec.n_classes, len(y))) % spec.n_classes
    confuser_test = (y_test + rng.integers(1, spec.n_classes, len(y_test))) % spec.n_classes
    accuracies = {**dict(zip(BASE, np.linspace(0.40, 0.85, len(BASE)))),
                  **dict(zip(STACKERS, np.linspace(0.86, 0.89, len(STACKERS))))}
    results: list[tuple[CVResult, Level]] = []
    for name, accuracy in accuracies.items():
        level = Level.BASE if name in BASE else Level.STACK
        oof = made_proba(y, accuracy, difficulty, confuser, spec.n_classes, rng)
        test = made_proba(y_test, accuracy, difficulty_test, confuser_test, spec.n_classes, rng)
        scores = fold_scores(dataset.y, classes[oof.argmax(axis=1)], folds, level, rng)
        result = CVResult(name, oof, test, scores)
        info = ({"views": {}} if level == Level.BASE else {"inputs": list(BASE), "meta_features": []})
        run.save_result(level, result, content_key("bench", name), list(spec.classes), dataset.train.index,
                        dataset.test.index, {**info, "blank_images": 0, "params": {}, "seed": SEED})
        results.append((result, level))
    seconds["made OOF + fold scores"] = time.perf_counter() - started

    started = time.perf_counter()
    rank_by = SUMMARY_COLUMN[spec.metric]
    rows_ = [{"model": r.name, "level": level, **r.summary(), "blank_images": 0} for r, level in results]
    predictions = {r.name: predicted_positions(r.oof) for r, _ in results}
    board = leaderboard_frame(rows_, predictions, y, spec.n_classes, spec.metric, rank_by, SEED)
    seconds["leaderboard_frame (bootstrap)"] = time.perf_counter() - started
    write_leaderboard(board, run.leaderboard, run.leaderboard_markdown)

    started = time.perf_counter()
    best, level = next((r, lv) for r, lv in results if r.name == board["model"].iloc[0])
    run.config.write_text(config.to_toml())
    load_config(run.config)  # the report reads it back: it must be valid
    path, when = run.submission("best"), datetime.now(UTC)
    write_submission(path, spec, dataset.test.index, classes[best.test.argmax(axis=1)])
    cv_score = best.summary()[rank_by]
    record = SubmissionRecord(path, best.name, level, cv_score, dataset.fingerprint, content_key(config.to_toml()))
    register_submission(run.submission_registry, record, run.history_submission(best.name, cv_score, when), when)
    weights = rng.dirichlet(np.ones(len(BASE)))
    overall = pd.Series(weights, index=list(BASE), name="share").sort_values(ascending=False)
    per_class = pd.DataFrame(rng.dirichlet(weights * 20 + 0.1, spec.n_classes), index=list(spec.classes),
                             columns=list(BASE))
    run.save_shares(overall, per_class, run.manifest(Level.STACK, "lgbm").get("key"))
    made_study(run)
    seconds["config, submission, shares, study"] = time.perf_counter() - started
    return seconds


def measure_report(run: Path) -> dict[str, float]:
    """Run `stackfold report RUN` as a cold subprocess: wall seconds, its peak RSS (GiB) and the HTML's MB.

    The peak comes from ``/usr/bin/time`` when present: the ``wait4`` figure of a direct child also
    counts this process's own peak (Linux keeps the pre-exec memory's high-water mark), which after
    a build here is larger than the report's.
    """
    timer = shutil.which("time", path="/usr/bin:/bin")
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        command = [str(STACKFOLD), "report", str(run)]
        if timer:
            command = [timer, "-f", "%M", "-o", rss_file.name, *command]
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            sys.exit(f"stackfold report failed ({child.returncode}):\n{output.decode(errors='replace')}")
        peak_kib = int(rss_file.read().split()[-1]) if timer else usage.ru_maxrss
    html = RunFolder(run).report
    return {"wall s": wall, "peak RSS GiB": peak_kib / 1024**2, "HTML MB": html.stat().st_size / 1e6}


def _rss_mb() -> float:
    """This process's resident memory now (Linux; NaN elsewhere)."""
    statm = Path("/proc/self/statm")
    return int(statm.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20 if statm.is_file() else float("nan")


def section_seconds(run: Path) -> dict[str, tuple[float, float]]:
    """Seconds of loading the run, of each section (as ``build.build_report`` lists them) and of rendering."""
    from stackfold.report import model_sections, run_sections
    from stackfold.report.contents import load_run
    from stackfold.report.page import render_page

    seconds: dict[str, tuple[float, float]] = {}
    started = time.perf_counter()
    contents = load_run(run)
    seconds["load_run"] = (time.perf_counter() - started, _rss_mb())
    sections = []
    for module, name in [(model_sections, "leaderboard"), (model_sections, "per_class"), (model_sections, "confusion"),
                         (model_sections, "diversity"), (model_sections, "calibration"), (run_sections, "tuning"),
                         (run_sections, "data"), (run_sections, "submissions")]:
        started = time.perf_counter()
        function = getattr(module, f"{name}_section")
        sections.append(function(contents, None) if name == "data" else function(contents))
        seconds[name] = (time.perf_counter() - started, _rss_mb())
    started = time.perf_counter()
    render_page("bench", "bench", sections, "bench")
    seconds["render_page"] = (time.perf_counter() - started, _rss_mb())
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=85_000)
    parser.add_argument("--out", type=Path, default=Path("bench-runs/report"))
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--image-size", type=int, default=24, help="Pixels of the twin's pictures (>= 24).")
    parser.add_argument("--sections", action="store_true", help="Also time each report section in-process.")
    args = parser.parse_args()
    params = {"version": VERSION, "rows": args.rows, "image_size": args.image_size, "base": BASE, "stackers": STACKERS}
    manifest = args.out / "manifest.json"
    if manifest.is_file() and json.loads(manifest.read_text())["params"] == json.loads(json.dumps(params)):
        build, when = json.loads(manifest.read_text())["seconds"], "reused: these seconds were spent when it was built"
    else:
        build, when = build_run(args.out, args.rows, args.image_size), "built now"
        manifest.write_text(json.dumps({"params": params, "seconds": build}, indent=1))
    print(f"\nBUILD of {args.out} ({args.rows} rows, {len(BASE)} base models, {len(STACKERS)} stackers; {when}):")
    for step, seconds in build.items():
        print(f"  {step:<36} {seconds:8.1f} s")
    print(f"  {'total':<36} {sum(build.values()):8.1f} s")

    run = args.out / "run"
    figures = [measure_report(run) for _ in range(args.repeats)]
    print(f"\nREPORT: `stackfold report {run}` (cold subprocess, {args.repeats} repeat(s)):")
    print(f"  {'figure':<14} {'best':>8} {'worst':>8} {'target':>8}  ok")
    for figure, target in TARGETS.items():
        values = [f[figure] for f in figures]
        verdict = "PASS" if max(values) <= target else "FAIL"
        print(f"  {figure:<14} {min(values):8.2f} {max(values):8.2f} {target:8.1f}  {verdict}")
    if args.sections:
        print("\nin-process (imports warm; RSS of this process after each step):")
        for name, (seconds, rss) in section_seconds(run).items():
            print(f"  {name:<14} {seconds:8.2f} s {rss:8.0f} MB")


if __name__ == "__main__":
    main()
