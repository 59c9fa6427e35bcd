"""Commands for models trained outside stackfold: ``folds`` hands out a run's fold assignment, ``add-oof`` stacks
the probabilities made on it."""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from stackfold.cli.app import app, resumable
from stackfold.cli.render import leaderboard_table
from stackfold.progress import report


@app.command()
def folds(
    run: Annotated[Path, typer.Argument(help="Run folder of a finished `stackfold run`.")],
    out: Annotated[Path, typer.Option("--out", help="CSV file to write: the row id, then a fold column.")],
) -> None:
    """Write the run's fold of every training row, for a model trained elsewhere (a GPU notebook, another framework).

    In fold k, train on the rows of the other folds and predict the rows of fold k: their probabilities make the
    OOF file of `stackfold add-oof`. Its test file: the test rows' probabilities (e.g. the folds' models averaged).
    """
    from stackfold.api import open_run
    from stackfold.io import write_text_atomic

    table = open_run(run).folds()
    write_text_atomic(out, table.to_csv())
    report.print(f"{len(table)} rows in {table['fold'].nunique()} folds -> {escape(str(out))}", soft_wrap=True)


@app.command("add-oof")
def add_oof(
    run: Annotated[Path, typer.Argument(help="Run folder of a finished `stackfold run`.")],
    name: Annotated[str, typer.Argument(help="The model's name on the leaderboard.")],
    oof: Annotated[Path, typer.Option("--oof", help=(
        "Its out-of-fold probabilities of the training rows, made on `stackfold folds`: CSV or Parquet, the row id "
        "then one column per class, named as the challenge names its classes."))],
    test: Annotated[Path, typer.Option("--test", help="Its probabilities of the test rows, in the same layout.")],
    data: Annotated[Path | None, typer.Option(
        "--data", help="Challenge folder, if it moved since the run (default: the run's own).")] = None,
    write_report: Annotated[bool, typer.Option(
        "--report/--no-report", help="End by writing RUN/report/index.html (default yes).")] = True,
) -> None:
    """Stack a model trained outside stackfold: its files are checked (every id once, one column per class, no NaN
    or negative value, rows summing to 1 within 1e-3), then the run goes on with it as a base model (as
    [external.NAME] in run.toml would): unchanged results reused, stackers refitted, a new best.csv.

    The run cannot check that the model kept to the folds: one scoring above every built-in model out of fold while
    far surer of those rows than of the test rows is marked leak_suspect on the leaderboard and in the report.
    """
    from stackfold.api import open_run

    with resumable():
        summary = open_run(run).add_oof(name, oof, test, data=data, report=write_report).summary
    report.print(leaderboard_table(summary.leaderboard))
    report.print(f"submitted: {summary.best_model} ({summary.metric} {summary.best_score:.4f}) -> "
                 f"{escape(str(summary.best_submission))}", soft_wrap=True)
