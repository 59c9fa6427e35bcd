"""The ``stackfold`` command line: arguments in, rendering out (:mod:`stackfold.cli.render`).

Commands import their machinery when they run, so ``stackfold --help`` answers at once.
A user error (:class:`~stackfold.errors.StackfoldError`) or a file-system fault (``OSError``:
read-only, full disk, permissions) is one line on stderr and exit code 1, never a traceback.
"""

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from stackfold import __version__
from stackfold.cli import render
from stackfold.cli.options import MODELS, STACKERS, TUNABLE, competition_option, names
from stackfold.errors import StackfoldError
from stackfold.progress import console, report

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Stacked out-of-fold ensembles for multimodal product classification challenges.",
)


def _version(value: bool) -> None:
    if value:
        report.print(f"stackfold {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Stacked out-of-fold ensembles for multimodal product classification challenges."""


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
    console.print(f"wrote {products} training products to {escape(str(out))}")


def _check_bson_file(path: Path, spec) -> None:
    """Check one BSON file on its own, as a training file (every product needs a known category)."""
    from stackfold.competition.bson_files import index_bson

    index = index_bson(path, frozenset(spec.classes))
    report.print(render.key_value_table(f"{spec.name} training file: {path}", {
        "products": str(index.n_products),
        "images": str(index.n_images),
        "categories found": f"{index.n_categories()} of {spec.n_classes}",
        "products by image count": _by_image_count(index.products_by_image_count()),
    }))


def _by_image_count(counts: dict[int, int]) -> str:
    return ", ".join(f"{products} with {n}" for n, products in counts.items())


@app.command("check-data")
def check_data(
    data: Annotated[Path, typer.Argument(
        help="Folder holding the challenge files, or a single Cdiscount .bson file (checked as a training file).")],
    images: Annotated[bool, typer.Option(help="Require every referenced image file to exist.")] = False,
    competition: Annotated[str | None, competition_option(
        "cdiscount for a .bson file or a folder holding one, else rakuten")] = None,
) -> None:
    """Validate the challenge files; each problem is reported as one line naming file, row and fix."""
    from stackfold.competition import detect, get_spec, load_competition
    from stackfold.competition.load import image_coverage

    spec = get_spec(competition or detect(data))
    if spec.format == "bson" and not (data / spec.train_file).is_file():
        files = [data] if data.is_file() or data.suffix == ".bson" else sorted(data.glob("*.bson"))
        for path in files or [data / spec.train_file]:  # none at all: the error names the file expected
            _check_bson_file(path, spec)
        report.print("[green]ok[/green]")
        return
    dataset = load_competition(data, spec, images=images)
    rows = {"train products": str(len(dataset.train)), "test products": str(len(dataset.test)),
            "classes present": f"{len(set(dataset.y))} of {spec.n_classes}"}
    if dataset.bson is not None:
        rows["train products by image count"] = _by_image_count(dataset.bson["train"].products_by_image_count())
    for column in spec.text_columns:
        rows[f"empty {column} (train)"] = f"{(dataset.train[column].str.strip() == '').mean():.1%}"
    for split, (found, total) in image_coverage(dataset).items():
        rows[f"{split} images found"] = f"{found} of {total}"
    report.print(render.key_value_table(f"{spec.name}: {data}", rows))
    if not images and dataset.bson is None:
        console.print("images not required; pass --images to check that every image exists")
    report.print("[green]ok[/green]")


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
) -> None:
    """Cross-validate every base model and stacker, write the leaderboard and the submissions.

    best.csv is the leaderboard's top row: the highest CV score of the challenge metric among all rows.
    """
    from stackfold.competition.folds import SmallClassWarning
    from stackfold.config import load_config
    from stackfold.pipeline import run_pipeline

    warnings.simplefilter("always", SmallClassWarning)  # every run says which classes its folds miss
    given = {"models": names("--models", models), "stackers": names("--stackers", stackers), "folds": folds,
             "images": images}
    with _resumable():
        summary = run_pipeline(data, out, load_config(config, {k: v for k, v in given.items() if v is not None}),
                               force=force)
    report.print(render.leaderboard_table(summary.leaderboard))
    report.print(f"submitted: {summary.best_model}, the highest CV {summary.metric} ({summary.best_score:.4f}) "
                 f"of {len(summary.leaderboard)} rows -> {escape(str(summary.best_submission))}", soft_wrap=True)


@app.command()
def leaderboard(run: Annotated[Path, typer.Argument(help="Run folder.")]) -> None:
    """Print one row per base model and stacker, best CV score (the challenge metric) first."""
    from stackfold.leaderboard import read_leaderboard
    from stackfold.run_folder import RunFolder

    folder = RunFolder(run)
    report.print(render.leaderboard_table(read_leaderboard(folder.require(folder.leaderboard, "leaderboard"))))


@app.command()
def score(
    submission: Annotated[Path, typer.Argument(help="Submission CSV.")],
    truth: Annotated[Path, typer.Option("--truth", help="True labels in the same format.")],
    competition: Annotated[str | None, competition_option("the one whose submission header opens the truth file")]
    = None,
) -> None:
    """Print weighted F1, accuracy and macro F1 of a submission."""
    from stackfold.competition import detect_from_header, get_spec
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
    competition: Annotated[str | None, competition_option(
        "cdiscount for a folder holding a .bson file, else rakuten")] = None,
) -> None:
    """Check a submission answers exactly the test rows, in the challenge format."""
    from stackfold.competition import detect, get_spec, load_competition
    from stackfold.submissions import read_id_list, validate_submission

    dataset = load_competition(data, get_spec(competition or detect(data)), images=False)
    labels = validate_submission(
        submission, dataset.spec, dataset.test.index, read_id_list(ids) if ids is not None else None
    )
    report.print(f"[green]ok[/green]: {len(labels)} rows")


@app.command()
def diff(
    submission_a: Annotated[Path, typer.Argument(help="First submission CSV.")],
    submission_b: Annotated[Path, typer.Argument(help="Second submission CSV, of the same test rows.")],
    truth: Annotated[Path | None, typer.Option("--truth", help="True labels: count the changes each gets right.")]
    = None,
    competition: Annotated[str | None, competition_option("the one whose submission header opens the first file")]
    = None,
) -> None:
    """How many predictions changed from A to B, per class, and (with --truth) how many changes were right."""
    from stackfold.competition import detect_from_header, get_spec
    from stackfold.submissions import diff_submissions

    result = diff_submissions(submission_a, submission_b, get_spec(competition or detect_from_header(submission_a)),
                              truth)
    report.print(render.diff_lines(result), soft_wrap=True)
    if result.changed:
        report.print(result.per_class.to_markdown(), markup=False)


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
) -> None:
    """Tune a stacker by CV over the run's OOF matrix and saved folds; the next `stackfold run` uses the best.

    Interrupted or killed, the same command continues the study; the result is RUN/tuning/<stacker>.json.
    """
    from stackfold.tune import tune_stacker

    with _resumable():
        result = tune_stacker(run, stacker, trials, timeout=timeout, storage=storage, study_name=study,
                              space_file=space)
    report.print(render.tuning_table(result))
    report.print(f"saved {escape(str(result.path))}; the next `stackfold run` uses these parameters")


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
    report.print(render.shares_table(overall, n_rows))
    if per_class:
        report.print(by_class.map(lambda v: f"{v:.0%}").to_markdown(), markup=False)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    console.print(f"[yellow]warning[/yellow]: {escape(str(message))}", highlight=False)


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
    """Entry point: user errors and file-system faults become one line on stderr and exit code 1."""
    warnings.showwarning = _show_warning
    try:
        app()
    except StackfoldError as e:
        _error(escape(str(e)))
    except OSError as e:
        _error(render.os_error_line(e))


def _error(line: str) -> None:
    console.print(f"[red]error[/red]: {line}", highlight=False, soft_wrap=True)
    sys.exit(1)
