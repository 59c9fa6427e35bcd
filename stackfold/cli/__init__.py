"""The ``stackfold`` command line: arguments in, rendering out (:mod:`stackfold.cli.render`).

Commands live in :mod:`.data_commands` (challenge files, submissions), :mod:`.run_commands`
(run folders), :mod:`.external_commands` (models trained elsewhere) and :mod:`.shift_commands` (the train/test shift
check), registered on the one application of :mod:`.app`. They import their machinery
when they run, so ``stackfold --help`` answers at once. A user error
(:class:`~stackfold.errors.StackfoldError`) or a file-system fault (``OSError``: read-only, full
disk, permissions) is one line on stderr and exit code 1, never a traceback.
"""

import sys
import warnings

from rich.markup import escape

from stackfold.cli import data_commands, external_commands, run_commands, shift_commands  # noqa: F401  (they register)
from stackfold.cli.app import app
from stackfold.cli.render import os_error_line
from stackfold.errors import StackfoldError
from stackfold.progress import console

__all__ = ["app", "main"]


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    console.print(f"[yellow]warning[/yellow]: {escape(str(message))}", highlight=False)


def main() -> None:
    """Entry point: user errors and file-system faults become one line on stderr and exit code 1."""
    warnings.showwarning = _show_warning
    try:
        app()
    except StackfoldError as e:
        _error(escape(str(e)))
    except OSError as e:
        _error(os_error_line(e))


def _error(line: str) -> None:
    console.print(f"[red]error[/red]: {line}", highlight=False, soft_wrap=True)
    sys.exit(1)
