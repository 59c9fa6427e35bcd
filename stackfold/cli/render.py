"""What the command line shows: tables and lines built from results, every user string escaped.

Rich reads ``[...]`` as markup, so a path such as ``runs[v2]`` would lose its brackets: every
string that comes from the user or the file system goes through :func:`escape` here.
"""

import errno
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

    from stackfold.submissions import SubmissionDiff
    from stackfold.tune import TuningResult


def leaderboard_table(frame: "pd.DataFrame") -> Table:
    """One row per model and stacker, best first; the submitted row marked."""
    table = Table(title="leaderboard (CV); * = submitted as best.csv")
    for column in frame.columns:
        table.add_column(column, justify="left" if column in ("model", "level") else "right")
    for row in frame.itertuples(index=False):
        table.add_row(*(_cell(column, value) for column, value in zip(frame.columns, row)))
    return table


def _cell(column: str, value: object) -> str:
    if column == "submitted":
        return "*" if value in (True, "True") else ""
    if not isinstance(value, float):
        return escape(str(value))
    return f"{value:.1f}" if column.endswith("_s") else f"{value:.4f}"


def tuning_table(result: "TuningResult") -> Table:
    """Best trial next to the untuned baseline: CV score, then every tuned parameter."""
    table = Table(title=f"{result.stacker}: best of {result.finished} trials (trial {result.best_trial}, "
                        f"study {escape(repr(result.study))})")
    for column in ("", "default", "tuned"):
        table.add_column(column, justify="left" if not column else "right")
    table.add_row(f"CV {result.metric}", f"{result.default_value:.4f}", f"{result.value:.4f}")
    for name, value in result.params.items():
        table.add_row(name, _param(result.default_params.get(name)), _param(value))
    return table


def _param(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def key_value_table(title: str, rows: dict[str, str]) -> Table:
    """A two-column table without header (data checks)."""
    table = Table(title=escape(title), show_header=False)
    for name, value in rows.items():
        table.add_row(escape(name), escape(value))
    return table


def shares_table(overall: "pd.Series", n_rows: int) -> Table:
    table = Table(title=f"share of mean |SHAP| in the lgbm stacker ({n_rows} rows)")
    table.add_column("model")
    table.add_column("share", justify="right")
    for model, share in overall.items():
        table.add_row(escape(str(model)), f"{share:.1%}")
    return table


def diff_lines(result: "SubmissionDiff") -> str:
    """What changed between two submissions, and with the truth which side the changes favour."""
    text = f"{result.changed} of {result.rows} predictions changed ({result.changed / result.rows:.1%})"
    if result.right_a is not None:
        text += (f"; of the changed rows A is right on {result.right_a}, B on {result.right_b} "
                 f"(B {result.right_b - result.right_a:+d})")
    return text


def os_error_line(error: OSError) -> str:
    """One line for a file-system fault: what failed, on which path, and what to do."""
    where = " -> ".join(escape(str(p)) for p in (error.filename, error.filename2) if p is not None)
    what = error.strerror or str(error)
    hint = _OS_HINTS.get(error.errno, "check the path, then run the same command again")
    return f"{what}: {where or 'a file'}; {hint}"


_WRITE_ACCESS = "check its permissions, or choose a folder you can write to"
_NO_SPACE = "free some disk space, then run the same command again: finished work is kept"
_FILE_IN_THE_WAY = "a file stands where a folder is needed: move it, or choose another path"
_OS_HINTS = {
    errno.EACCES: _WRITE_ACCESS,
    errno.EPERM: _WRITE_ACCESS,
    errno.EROFS: "the file system is read-only: choose another folder (e.g. --out)",
    errno.ENOSPC: _NO_SPACE,
    errno.EDQUOT: _NO_SPACE,
    errno.EFBIG: "a file reached the size limit: " + _NO_SPACE,
    errno.EEXIST: _FILE_IN_THE_WAY,
    errno.ENOTDIR: _FILE_IN_THE_WAY,
    errno.EISDIR: "a folder stands where a file is needed: move it, or choose another path",
}
