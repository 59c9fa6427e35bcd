"""The Typer application every command registers on, with the options and behaviour they share."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from stackfold.version import __version__
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


@contextmanager
def resumable() -> Iterator[None]:
    """Ctrl-C during long work: say that finished work is kept, exit 130."""
    try:
        yield
    except KeyboardInterrupt:
        console.print("interrupted: finished folds and trials are saved; run the same command again to resume",
                      soft_wrap=True)
        raise typer.Exit(130) from None
