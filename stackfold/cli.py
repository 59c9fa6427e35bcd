"""The ``stackfold`` command line."""

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from stackfold.competition import detect, detect_from_header
from stackfold.competition.bson_files import index_bson
from stackfold.competition.folds import SmallClassWarning
from stackfold.competition.load import image_coverage, load_competition
from stackfold.competition.spec import CompetitionSpec, get_spec
from stackfold.errors import StackfoldError
from stackfold.progress import console, report

if TYPE_CHECKING:
    from stackfold.tune import TuningResult

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Stacked out-of-fold ensembles for multimodal product classification challenges.",
)


@app.command("demo-data")
def demo_data(
    out: Annotated[Path, typer.Argument(help="Folder to write the synthetic data set to.")],
    products: Annotated[int, typer.Option(min=20, help="Training products (test adds the real ratio).")] = 3000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same bytes.")] = 0,
    image_size: Annotated[int, typer.Option(min=16, help="Image side in pixels (real images: 500).")] = 500,
) -> None:
    """Write a calibrated synthetic twin of the Rakuten challenge in its exact file layout."""
    from stackfold.synthetic import write_demo_data

    write_demo_data(out, n_products=products, seed=seed, image_size=image_size)
    console.print(f"wrote {products} training products to {out}")


def _products_by_image_count(counts: dict[int, int]) -> str:
    return ", ".join(f"{products} with {n}" for n, products in counts.items())


def _check_bson_file(path: Path, spec: CompetitionSpec) -> None:
    """Check one BSON file on its own, as a training file (every product needs a known category)."""
    index = index_bson(path, frozenset(spec.classes))
    table = Table(title=f"{spec.name} training file: {path}", show_header=False)
    table.add_row("products", str(index.n_products))
    table.add_row("images", str(index.n_images))
    table.add_row("categories found", f"{index.n_categories()} of {spec.n_classes}")
    table.add_row("products by image count", _products_by_image_count(index.products_by_image_count()))
    report.print(table)
    report.print("[green]ok[/green]")


@app.command("check-data")
def check_data(
    data: Annotated[Path, typer.Argument(
        help="Folder holding the challenge files, or a single Cdiscount .bson file (checked as a training file).")],
    images: Annotated[bool, typer.Option(help="Require every referenced image file to exist.")] = False,
    competition: Annotated[str | None, typer.Option(
        help="Built-in challenge spec; default cdiscount for a .bson file or a folder with train.bson, "
        "else rakuten.")] = None,
) -> None:
    """Validate the challenge files; each problem is reported as one line naming file, row and fix."""
    spec = get_spec(competition or detect(data))
    if spec.format == "bson" and (data.suffix == ".bson" or data.is_file()):
        _check_bson_file(data, spec)
        return
    dataset = load_competition(data, spec, images=images)
    table = Table(title=f"{spec.name}: {data}", show_header=False)
    table.add_row("train products", str(len(dataset.train)))
    table.add_row("test products", str(len(dataset.test)))
    table.add_row("classes present", f"{len(set(dataset.y))} of {spec.n_classes}")
    if dataset.bson is not None:
        table.add_row("train products by image count",
                      _products_by_image_count(dataset.bson["train"].products_by_image_count()))
    for column in spec.text_columns:
        empty = (dataset.train[column].str.strip() == "").mean()
        table.add_row(f"empty {column} (train)", f"{empty:.1%}")
    for split, (found, total) in image_coverage(dataset).items():
        table.add_row(f"{split} images found", f"{found} of {total}")
    report.print(table)
    if not images and dataset.bson is None:
        console.print("images not required; pass --images to check that every image exists")
    report.print("[green]ok[/green]")


@app.command()
def run(
    data: Annotated[Path, typer.Argument(help="Folder holding the challenge files.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder (created; re-runs reuse its results).")],
    config: Annotated[Path | None, typer.Option("--config", help="TOML run configuration.")] = None,
) -> None:
    """Cross-validate every base model and stacker, write the leaderboard and the submissions."""
    from stackfold.config import load_config
    from stackfold.pipeline import run_pipeline

    with _resumable():
        summary = run_pipeline(data, out, load_config(config))
    report.print(_leaderboard_table(summary.leaderboard))
    report.print(f"best: {summary.best_model} -> {summary.best_submission}")


@app.command()
def leaderboard(run: Annotated[Path, typer.Argument(help="Run folder.")]) -> None:
    """Print one row per base model and stacker, best CV score (the challenge metric) first."""
    from stackfold.leaderboard import read_leaderboard
    from stackfold.run_folder import RunFolder

    folder = RunFolder(run)
    report.print(_leaderboard_table(read_leaderboard(folder.require(folder.leaderboard, "leaderboard"))))


@app.command()
def score(
    submission: Annotated[Path, typer.Argument(help="Submission CSV.")],
    truth: Annotated[Path, typer.Option("--truth", help="True labels in the same format.")],
    competition: Annotated[str | None, typer.Option(
        help="Built-in challenge spec; default the one whose submission header opens the truth file.")] = None,
) -> None:
    """Print weighted F1, accuracy and macro F1 of a submission."""
    from stackfold.submissions import score_submission

    scores = score_submission(submission, truth, get_spec(competition or detect_from_header(truth)))
    report.print(
        f"weighted_f1 {scores['wf1']:.4f}  accuracy {scores['accuracy']:.4f}  "
        f"macro_f1 {scores['macro_f1']:.4f}  rows {scores['rows']}"
    )


@app.command()
def validate(
    submission: Annotated[Path, typer.Argument(help="Submission CSV.")],
    data: Annotated[Path, typer.Option("--data", help="Folder holding the challenge's test file.")],
    ids: Annotated[Path | None, typer.Option("--ids", help="Full test id list, e.g. reference/test_ids.csv.")] = None,
    competition: Annotated[str | None, typer.Option(
        help="Built-in challenge spec; default cdiscount for a folder with train.bson, else rakuten.")] = None,
) -> None:
    """Check a submission answers exactly the test rows, in the challenge format."""
    from stackfold.submissions import read_id_list, validate_submission

    dataset = load_competition(data, get_spec(competition or detect(data)), images=False)
    labels = validate_submission(
        submission, dataset.spec, dataset.test.index, read_id_list(ids) if ids is not None else None
    )
    report.print(f"[green]ok[/green]: {len(labels)} rows")


@app.command()
def tune(
    run: Annotated[Path, typer.Argument(help="Run folder of a finished `stackfold run`.")],
    stacker: Annotated[str, typer.Option("--stacker", help="Stacker to tune: lgbm or xgb.")],
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
) -> None:
    """Tune a stacker by CV over the run's OOF matrix and saved folds; the next `stackfold run` uses the best.

    Interrupted or killed, the same command continues the study; the result is RUN/tuning/<stacker>.json.
    """
    from stackfold.tune import tune_stacker

    with _resumable():
        result = tune_stacker(run, stacker, trials, timeout=timeout, storage=storage, study_name=study,
                              space_file=space)
    report.print(_tuning_table(result))
    report.print(f"saved {result.path}; the next `stackfold run` uses these parameters")


@app.command()
def explain(
    run: Annotated[Path, typer.Argument(help="Run folder of a finished `stackfold run`.")],
    rows: Annotated[int, typer.Option(min=100, help="Rows (seeded sample) to explain.")] = 5000,
    per_class: Annotated[bool, typer.Option(help="Also print each base model's share for every class.")] = False,
) -> None:
    """Each base model's share of mean |SHAP| in the LightGBM stacker (refitted on all OOF rows)."""
    from stackfold.explain import explain_run

    with console.status("refitting the LightGBM stacker on all OOF rows"):
        overall, by_class, n_rows = explain_run(run, rows)
    table = Table(title=f"share of mean |SHAP| in the lgbm stacker ({n_rows} rows)")
    table.add_column("model")
    table.add_column("share", justify="right")
    for model, share in overall.items():
        table.add_row(model, f"{share:.1%}")
    report.print(table)
    if per_class:
        report.print(by_class.map(lambda v: f"{v:.0%}").to_markdown())


def _tuning_table(result: "TuningResult") -> Table:
    """Best trial next to the untuned baseline: CV score, then every tuned parameter."""
    table = Table(title=f"{result.stacker}: best of {result.finished} trials (trial {result.best_trial}, "
                        f"study {result.study!r})")
    for column in ("", "default", "tuned"):
        table.add_column(column, justify="left" if not column else "right")
    table.add_row("CV weighted F1", f"{result.default_value:.4f}", f"{result.value:.4f}")
    for name, value in result.params.items():
        table.add_row(name, _format_param(result.default_params.get(name)), _format_param(value))
    return table


def _format_param(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _format_cell(column: str, value: object) -> str:
    if not isinstance(value, float):
        return str(value)
    return f"{value:.1f}" if column.endswith("_s") else f"{value:.4f}"


def _leaderboard_table(frame: pd.DataFrame) -> Table:
    table = Table(title="leaderboard (CV)")
    for column in frame.columns:
        table.add_column(column, justify="left" if column in ("model", "level") else "right")
    for row in frame.itertuples(index=False):
        table.add_row(*(_format_cell(column, value) for column, value in zip(frame.columns, row)))
    return table


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    console.print(f"[yellow]warning[/yellow]: {message}", highlight=False)


@contextmanager
def _resumable() -> Iterator[None]:
    """Ctrl-C during long work: say that finished work is kept, exit 130."""
    try:
        yield
    except KeyboardInterrupt:
        console.print("interrupted: finished folds and trials are saved; run the same command again to resume",
                      soft_wrap=True)
        raise typer.Exit(130) from None


def main() -> None:
    """Entry point: user errors become one line on stderr and exit code 1."""
    warnings.showwarning = _show_warning
    warnings.simplefilter("always", SmallClassWarning)
    try:
        app()
    except StackfoldError as e:
        console.print(f"[red]error[/red]: {e}", highlight=False, soft_wrap=True)
        sys.exit(1)
