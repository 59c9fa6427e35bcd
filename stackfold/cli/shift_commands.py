"""The shift check's command: can a classifier tell the challenge's test rows from its training rows?"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Group
from rich.markup import escape
from rich.table import Table

from stackfold.cli.app import app, resumable
from stackfold.cli.options import names
from stackfold.progress import report

if TYPE_CHECKING:
    from stackfold.api import ShiftResult

SHIFT_VIEWS = ("terms", "meta", "sentence", "color", "efficientnet")
"""The views ``--views`` takes, listed in ``--help`` (tests/test_shift.py checks they are ``shift.views``')."""


@app.command()
def shift(
    data: Annotated[Path, typer.Argument(help="Folder holding the challenge files.")],
    out: Annotated[Path | None, typer.Option("--out", help=(
        "Run folder of the same data: its cached feature views are reused, and the check is saved there "
        "(RUN/shift/) for `stackfold report RUN`. Default: a temporary cache, nothing saved."))] = None,
    config: Annotated[Path | None, typer.Option("--config", help="TOML run configuration.")] = None,
    images: Annotated[bool | None, typer.Option(
        "--images/--no-images", help="Use the product photos (default yes); --no-images checks text views only.")]
    = None,
    views: Annotated[str | None, typer.Option(help=(
        f"Comma-separated views to check: {', '.join(SHIFT_VIEWS)} (default: the config's shift_views, else terms, "
        "meta and the views the run's models read)."))] = None,
    rows: Annotated[int, typer.Option(min=0, help="Most test-like training rows to list.")] = 10,
) -> None:
    """Tell the test rows from the training rows, per feature view: the AUC of a cross-validated classifier with its
    95% interval (0.5: the test looks like the training rows), the terms or features that separate most, and the most
    test-like training rows.

    A run with `shift = true` in its configuration does the same at its end; its report then shows each row's OOF
    score beside that score weighted toward test-like rows (best.csv stays the row of the best unweighted score).
    """
    from stackfold.api import check_shift

    with resumable():
        result = check_shift(data, out, config, images=images, views=names("--views", views) or ())
    report.print(shift_tables(result, rows))
    auc = result.overall.auc
    report.print(f"AUC of {result.overall.view} {auc.value:.3f} [{auc.low:.3f}, {auc.high:.3f}]: "
                 f"{verdict(auc.value, auc.low, auc.high)}")
    if out is not None:
        report.print(f"saved {escape(str(out / 'shift'))}; `stackfold report {escape(str(out))}` shows it",
                     soft_wrap=True)


SLIGHT = 0.6
"""Below this AUC a difference the interval shows is slight: little for a model to suffer from, and with under a
hundred or so test rows often chance (docs/shift.md)."""


def verdict(value: float, low: float, high: float) -> str:
    """What an AUC and its interval say, in words."""
    if low <= 0.5 <= high:
        return "no sign of shift: the interval holds 0.5"
    if high < 0.5:
        return "below chance: no sign of shift (cross-validation of few rows can score below 0.5)"
    if value < SLIGHT:
        return "a slight difference: the interval is above 0.5, the AUC under 0.6 (with few test rows, often chance)"
    return "the test rows differ from the training rows: a classifier tells them apart"


def shift_tables(result: "ShiftResult", rows: int) -> Group:
    """The AUC and separators of each view, then the most test-like training rows."""
    views = Table(title=f"train/test shift: {result.n_train} train rows against {result.n_test} test rows, "
                        f"{result.folds}-fold CV (AUC 0.5: no shift)")
    for column in ("view", "AUC [95%]", "toward test", "toward train", "s"):
        views.add_column(column, justify="right" if column in ("AUC [95%]", "s") else "left")
    for view in result.views:
        sides = [", ".join(escape(s.feature) for s in view.separators if s.side == side)[:80] for side in
                 ("test", "train")]
        views.add_row(view.view, f"{view.auc.value:.3f} [{view.auc.low:.3f}, {view.auc.high:.3f}]", *sides,
                      f"{view.seconds:.1f}")
    for name, why in result.skipped.items():
        views.add_row(name, "skipped", escape(why), "", "")
    like = Table(title=f"most test-like training rows (out-of-fold P(test); weights' effective rows "
                       f"{result.effective_rows:,.0f} of {result.n_train})")
    titled = any(row.title for row in result.test_like)  # a challenge without text has none
    for column in ("id", "P(test)", "title")[:3 if titled else 2]:
        like.add_column(column, justify="right" if column == "P(test)" else "left")
    for row in result.test_like[:rows]:
        like.add_row(escape(row.id), f"{row.p_test:.3f}", *([escape(row.title)] if titled else []))
    return Group(views, like) if rows else Group(views)
