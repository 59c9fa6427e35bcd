"""Commands on challenge files and submissions: demo data, data checks, scoring, validation, diffs."""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from stackfold.cli.app import app
from stackfold.cli.options import LAYOUTS, challenge_option
from stackfold.cli.render import diff_lines, key_value_table
from stackfold.progress import console, report


@app.command("demo-data")
def demo_data(
    out: Annotated[Path, typer.Argument(help="Folder to write the synthetic data set to.")],
    products: Annotated[int, typer.Option(min=20, help="Training products (test adds the real ratio).")] = 3000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same bytes.")] = 0,
    image_size: Annotated[int | None, typer.Option(
        min=16, help="Image side in pixels; default the real one (rakuten 500, cdiscount 180, kaggle 500).")] = None,
    layout: Annotated[str, typer.Option(
        help=f"Challenge to imitate: {', '.join(LAYOUTS)} (CSVs and JPEG files; BSON files, streamed; a generic "
        "Kaggle challenge: train.csv, test.csv, sample_submission.csv, class names, image paths).")]
    = "rakuten",
) -> None:
    """Write a calibrated synthetic twin of a challenge (Rakuten by default) in its exact file layout."""
    from stackfold.errors import ConfigError
    from stackfold.synthetic import LAYOUTS as WRITERS

    if layout not in WRITERS:
        raise ConfigError(f"--layout {layout!r}: unknown layout; choose one of: {', '.join(WRITERS)}")
    twin = WRITERS[layout]
    twin.write(out, n_products=products, seed=seed, image_size=image_size or twin.image_size)
    console.print(f"wrote {products} training products ({layout}) to {escape(str(out))}")


@app.command()
def init(
    data: Annotated[Path, typer.Argument(
        help="Folder holding the challenge's files (train, test, sample submission).")],
    force: Annotated[bool, typer.Option(help="Replace an existing DATA/challenge.toml with a new guess.")] = False,
) -> None:
    """Guess a first DATA/challenge.toml from the files (say why for each key), for `stackfold run DATA` to read."""
    from rich.table import Table

    from stackfold.competition.guess import init_spec
    from stackfold.io import toml_value

    guess, path = init_spec(data, force=force)
    table = Table(title=f"guessed from the files of {escape(str(data))}")
    for column in ("key", "value", "why"):
        table.add_column(column)
    for key, value in guess.keys.items():
        table.add_row(key, escape(toml_value(value)), escape(guess.reasons[key]))
    report.print(table)
    for line in guess.ignored:
        report.print(escape(line), soft_wrap=True)
    report.print(f"wrote {escape(str(path))}: check each guess (its comment says why), then run:", soft_wrap=True)
    report.print(f"  stackfold run {escape(str(data))} --out runs/first", soft_wrap=True, highlight=False)


def _check_bson_file(path: Path, spec) -> None:
    """Check one BSON file on its own, as a training file (every product needs a known category)."""
    from stackfold.competition.bson_files import index_bson

    index = index_bson(path, frozenset(spec.classes))
    report.print(key_value_table(f"{spec.name} training file: {path}", {
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
    challenge: Annotated[str | None, challenge_option(
        "cdiscount for a .bson file or a folder holding one, else rakuten")] = None,
) -> None:
    """Validate the challenge files; each problem is reported as one line naming file, row and fix."""
    from stackfold.competition import detect, get_spec, load_competition
    from stackfold.competition.load import image_coverage
    from stackfold.errors import DataError

    spec = get_spec(challenge or detect(data), data)
    if spec.format == "bson" and not (data / spec.train_file).is_file():
        files = [data] if data.is_file() or data.suffix == ".bson" else sorted(data.glob("*.bson"))
        if files == [data / spec.test_file]:  # a folder's test file alone: what is missing is the training file
            raise DataError(f"{data / spec.train_file}: not found beside {spec.test_file}; put the training file "
                            "there (or check a .bson file itself: stackfold check-data FILE.bson)")
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
    for split, (found, total) in (image_coverage(dataset).items() if spec.has_images else ()):
        rows[f"{split} images found"] = f"{found} of {total}"
    report.print(key_value_table(f"{spec.name}: {data}", rows))
    if not images and dataset.bson is None and spec.has_images:
        console.print("images not required; pass --images to check that every image exists")
    report.print("[green]ok[/green]")


@app.command()
def score(
    submission: Annotated[Path, typer.Argument(help="Submission CSV.")],
    truth: Annotated[Path, typer.Option("--truth", help="True labels in the same format.")],
    challenge: Annotated[str | None, challenge_option("the one whose submission header opens the truth file")]
    = None,
) -> None:
    """Print the challenge's metric of a submission first, then weighted F1, accuracy and macro F1 (and the log loss of
    a probability submission)."""
    from stackfold.cli.render import score_line
    from stackfold.competition import detect_from_header, get_spec
    from stackfold.submissions import score_submission

    spec = get_spec(challenge or detect_from_header(truth))
    report.print(score_line(score_submission(submission, truth, spec), spec.metric))


@app.command()
def validate(
    submission: Annotated[Path, typer.Argument(help="Submission CSV.")],
    data: Annotated[Path, typer.Option("--data", help="Folder holding the challenge's test file.")],
    ids: Annotated[Path | None, typer.Option("--ids", help="Full test id list, e.g. reference/test_ids.csv.")] = None,
    challenge: Annotated[str | None, challenge_option(
        "cdiscount for a folder holding a .bson file, else rakuten")] = None,
) -> None:
    """Check a submission answers exactly the test rows, in the challenge format."""
    from stackfold.competition import detect, get_spec, load_competition
    from stackfold.submissions import read_id_list, validate_submission

    dataset = load_competition(data, get_spec(challenge or detect(data), data), images=False)
    labels = validate_submission(
        submission, dataset.spec, dataset.test.index, read_id_list(ids, dataset.spec) if ids is not None else None
    )
    report.print(f"[green]ok[/green]: {len(labels)} rows")


@app.command()
def diff(
    submission_a: Annotated[Path, typer.Argument(help="First submission CSV.")],
    submission_b: Annotated[Path, typer.Argument(help="Second submission CSV, of the same test rows.")],
    truth: Annotated[Path | None, typer.Option("--truth", help="True labels: count the changes each gets right.")]
    = None,
    challenge: Annotated[str | None, challenge_option("the one whose submission header opens the first file")]
    = None,
) -> None:
    """How many predictions changed from A to B, per class, and (with --truth) how many changes were right."""
    from stackfold.competition import detect_from_header, get_spec
    from stackfold.submissions import diff_submissions

    result = diff_submissions(submission_a, submission_b, get_spec(challenge or detect_from_header(submission_a)),
                              truth)
    report.print(diff_lines(result), soft_wrap=True)
    if result.changed:
        report.print(result.per_class.to_markdown(), markup=False)
