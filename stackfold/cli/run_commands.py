"""Commands on run folders: run, predict, tune, explain, leaderboard, report, compare."""

import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from stackfold.cli.app import app, resumable
from stackfold.cli.options import MODELS, PRESETS, STACKERS, TUNABLE, external_files, names, track_option
from stackfold.cli.render import comparison_tables, leaderboard_table, shares_table, tuning_table
from stackfold.progress import console, report


@app.command()
def run(
    data: Annotated[Path, typer.Argument(help="Folder holding the challenge files.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder (created; re-runs reuse its results).")],
    config: Annotated[Path | None, typer.Option("--config", help="TOML run configuration.")] = None,
    models: Annotated[str | None, typer.Option(help=f"Comma-separated base models, replacing the config's: {MODELS}.")]
    = None,
    stackers: Annotated[str | None, typer.Option(help=f"Comma-separated stackers, replacing the config's: {STACKERS}.")]
    = None,
    folds: Annotated[int | None, typer.Option(min=2, help="Number of folds (default 5).")] = None,
    images: Annotated[bool | None, typer.Option(
        "--images/--no-images", help="Use the product photos (default yes); --no-images runs text models only.")]
    = None,
    force: Annotated[bool, typer.Option(
        help="The folder holds results from other data, folds or seed: delete them and start over.")] = False,
    write_report: Annotated[bool, typer.Option(
        "--report/--no-report", help="End by writing RUN/report/index.html (default yes).")] = True,
    scheduler: Annotated[str | None, typer.Option(
        help="Run the fits and slow feature views on this Dask cluster: tcp://host:8786, or local:N for N worker "
        "processes here (replaces the config's [cluster] scheduler).")] = None,
    preset: Annotated[str | None, typer.Option(
        help=f"Models, stackers and tuning to start from where the config names none: {PRESETS}.")] = None,
    time_limit: Annotated[str | None, typer.Option(
        "--time-limit", help="Time the run may take (30m, 2h, 1h30m, 90s): it plans the models and stackers that "
        "fit, prints the plan, and skips a model that would overrun.")] = None,
    track: Annotated[str | None, track_option()] = None,
) -> None:
    """Cross-validate every base model and stacker, write the leaderboard and the submissions.

    best.csv is the leaderboard's top row: the best CV score of the challenge metric among all rows (the highest; the
    lowest for log loss).
    """
    from stackfold.api import run as run_api
    from stackfold.competition.folds import SmallClassWarning
    from stackfold.competition.metric import metric_info

    warnings.simplefilter("always", SmallClassWarning)  # every run says which classes its folds miss
    given = {"models": names("--models", models), "stackers": names("--stackers", stackers), "folds": folds,
             "images": images, "preset": preset, "time_limit": time_limit, "tracking": track}
    with resumable():
        finished = run_api(data, out, config, force=force, report=write_report, scheduler=scheduler,
                           **{k: v for k, v in given.items() if v is not None})
    summary = finished.summary
    report.print(leaderboard_table(summary.leaderboard))
    best = "highest" if metric_info(summary.metric).higher_is_better else "lowest"
    for decision in summary.left_out:
        report.print(escape(f"not run ({decision.decision}, time limit): {decision.level} {decision.name}: "
                            f"{decision.reason}"), soft_wrap=True)
    report.print(f"submitted: {summary.best_model}, the {best} CV {summary.metric} ({summary.best_score:.4f}) "
                 f"of {len(summary.leaderboard)} rows -> {escape(str(summary.best_submission))}", soft_wrap=True)
    if write_report:
        report.print(f"report: {escape(str(finished.folder.report))}", soft_wrap=True)


@app.command()
def predict(
    run: Annotated[Path, typer.Argument(help="Run folder of a finished `stackfold run`.")],
    data: Annotated[Path, typer.Argument(help=(
        "Folder holding the products to predict as the challenge's test file (rakuten: X_test_update.csv, "
        "cdiscount: test.bson), with their photos in the challenge's layout if the run used photos."))],
    out: Annotated[Path, typer.Option("--out", help="Submission file to write, in the challenge's format.")],
    row: Annotated[str | None, typer.Option(
        "--row", help="Leaderboard row that predicts (default: the submitted one, best.csv's).")] = None,
    proba: Annotated[Path | None, typer.Option(help=(
        "Also write the probabilities: FILE.parquet, a column per class (a top-k run: FILE.npz, each "
        "product's top k)."))] = None,
    cache: Annotated[Path | None, typer.Option(help=(
        "Folder caching DATA's feature views (default RUN/cache; a read-only RUN: a temporary folder)."))] = None,
    external: Annotated[list[str] | None, typer.Option(help=(
        "NAME=FILE: the probabilities of DATA's products by the model NAME trained outside stackfold (the row id, "
        "then one column per class); once per external model the row stacks."))] = None,
) -> None:
    """Predict new products with the run's saved models; write a validated challenge-format submission.

    DATA's feature views are built with the run's parameters and vocabularies, and cached in RUN/cache.

    Each base model's fold models are averaged, then the row's stacker applied: on the run's own data, best.csv.

    Kaggle, the hidden test set at rerun time: stackfold predict my-run /kaggle/input/CHALLENGE --out submission.csv
    """
    from stackfold.api import open_run

    with resumable():
        prediction = open_run(run).predict(data, row=row, cache=cache, external=external_files(external or []))
        prediction.write(out, proba)
    report.print(f"{prediction.row} predicted {len(prediction.labels)} products -> {escape(str(out))}"
                 + (f" (probabilities: {escape(str(proba))})" if proba else ""), soft_wrap=True)


@app.command("report")
def report_command(
    run: Annotated[Path, typer.Argument(help="Run folder of a finished `stackfold run`.")],
    data: Annotated[Path | None, typer.Option(
        "--data", help="Challenge folder, if it moved since the run (default: the run's own).")] = None,
) -> None:
    """Write RUN/report/index.html: leaderboard with bootstrap intervals, per-class F1, confusion, diversity,
    calibration, tuning, data and submissions, in one self-contained page."""
    from stackfold.api import open_run

    with console.status("writing the report"):
        path = open_run(run).report(data)
    report.print(f"report: {escape(str(path))}", soft_wrap=True)


@app.command()
def leaderboard(run: Annotated[Path, typer.Argument(help="Run folder.")]) -> None:
    """Print one row per base model and stacker, best CV score (the challenge metric) first."""
    from stackfold.api import open_run

    report.print(leaderboard_table(open_run(run).leaderboard()))


@app.command()
def tune(
    run: Annotated[Path, typer.Argument(help="Run folder of a finished `stackfold run`.")],
    stacker: Annotated[str, typer.Option("--stacker", help=f"Stacker to tune: {', '.join(TUNABLE)}.")],
    trials: Annotated[int, typer.Option(
        min=1, help="Finished (complete or pruned) trials the study should hold in total; "
        "a resumed run or another worker on the same study only adds the rest.")] = 50,
    timeout: Annotated[float | None, typer.Option(
        min=0, help="Start no new trial after this many seconds.")] = None,
    storage: Annotated[str | None, typer.Option(
        help="Optuna storage URL; default sqlite:///RUN/tuning/<stacker>.db. Several workers on one study: "
        "postgresql://user@host:port/db.")] = None,
    study: Annotated[str | None, typer.Option(help="Study name; default the stacker's name.")] = None,
    space: Annotated[Path | None, typer.Option(help=(
        'TOML file overriding the built-in search space, one key per stacker parameter: \\[low, high], '
        '\\[low, high, "log"] or {choices = \\[...]}; a one-element choices list fixes the parameter.'))] = None,
    workers: Annotated[int, typer.Option(
        min=1, help="Tuning workers to start as tasks of the --scheduler cluster, all on one study.")] = 1,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask cluster running the workers: tcp://host:8786, or local:N for N processes here.")] = None,
    track: Annotated[str | None, track_option()] = None,
) -> None:
    """Tune a stacker by CV over the run's OOF matrix and saved folds; the next `stackfold run` uses the best.

    Interrupted or killed, the same command continues the study; the result is RUN/tuning/<stacker>.json.
    """
    from stackfold.api import tune_stacker

    if workers > 1 and scheduler is None:
        raise typer.BadParameter("several workers run on a cluster: add --scheduler (e.g. local:2), or start "
                                 "`stackfold tune` on each machine with one --storage", param_hint="--workers")
    with resumable():
        result = tune_stacker(run, stacker, trials, timeout=timeout, storage=storage, study=study, space=space,
                              workers=workers, scheduler=scheduler, track=track)
    report.print(tuning_table(result))
    report.print(f"saved {escape(str(result.path))}; the next `stackfold run` uses these parameters")


@app.command()
def explain(
    run: Annotated[Path, typer.Argument(help="Run folder of a finished `stackfold run`.")],
    rows: Annotated[int, typer.Option(min=100, help="Rows (seeded sample) to explain.")] = 5000,
    per_class: Annotated[bool, typer.Option(help="Also print each base model's share for every class.")] = False,
) -> None:
    """Each base model's share of mean |SHAP| in the LightGBM stacker (refitted on all OOF rows)."""
    from stackfold.api import explain_stacker

    with console.status("refitting the LightGBM stacker on all OOF rows"):
        overall, by_class, n_rows = explain_stacker(run, rows)
    report.print(shares_table(overall, n_rows))
    if per_class:
        report.print(by_class.map(lambda v: f"{v:.0%}").to_markdown(), markup=False)


@app.command()
def compare(
    runs: Annotated[list[Path], typer.Argument(
        help="Run folders of the same data and folds; the first is the reference.")],
    html: Annotated[Path | None, typer.Option("--html", help="Also write the comparison as an HTML page here.")]
    = None,
) -> None:
    """Leaderboards side by side, and paired bootstrap differences against the first run (same rows, same folds)."""
    from stackfold.api import compare as compare_api

    if len(runs) < 2:
        raise typer.BadParameter("name at least two run folders", param_hint="RUNS")
    with console.status("comparing the runs (paired bootstrap)"):
        comparison = compare_api(runs, html)
    report.print(comparison_tables(comparison))
    if html is not None:
        report.print(f"comparison: {escape(str(html))}", soft_wrap=True)
