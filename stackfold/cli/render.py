"""What the command line shows: tables and lines built from results, every user string escaped.

Rich reads ``[...]`` as markup, so a path such as ``runs[v2]`` would lose its brackets: every
string that comes from the user or the file system goes through :func:`escape` here.
"""

import errno
import math
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

    from stackfold.report.compare import Comparison
    from stackfold.submissions import SubmissionDiff
    from stackfold.tune import TuningResult


def leaderboard_table(frame: "pd.DataFrame") -> Table:
    """One row per model and stacker, best first: the submitted row marked, intervals as ``low-high``; the
    ``leak_suspect`` column only when a row is one (``!``)."""
    lower = "; lower log_loss is better" if "log_loss" in frame.columns else ""  # a log-loss challenge's run
    table = Table(title=f"leaderboard (CV{lower}); * = submitted as best.csv; = : tied with it (paired bootstrap, 95%)")
    suspects = "leak_suspect" in frame.columns and frame["leak_suspect"].isin([True, "True"]).any()
    shown = [c for c in frame.columns if c not in _INTERVAL_PARTS and (c != "leak_suspect" or suspects)]
    for column in shown:
        table.add_column(_HEADERS.get(column, column), justify="left" if column in ("model", "level") else "right")
    for row in frame.to_dict("records"):
        table.add_row(*(_cell(column, row) for column in shown))
    return table


_INTERVAL_PARTS = ("ci_low", "ci_high", "gap_low", "gap_high")
_HEADERS = {"oof_score": "OOF [95% CI]", "tied": "tied", "submitted": "submitted", "leak_suspect": "leak?"}


def _cell(column: str, row: dict) -> str:
    value = row[column]
    if column in ("submitted", "tied", "leak_suspect"):
        return {"submitted": "*", "tied": "=", "leak_suspect": "!"}[column] if value in (True, "True") else ""
    if column == "oof_score":
        return f"{value:.4f} [{row['ci_low']:.4f}-{row['ci_high']:.4f}]"
    if not isinstance(value, float):
        return escape(str(value))
    return f"{value:.1f}" if column.endswith("_s") else f"{value:.4f}"


def comparison_tables(comparison: "Comparison") -> Group:
    """Each row's OOF score per run, then the paired differences against the first run."""
    scores = Table(title=f"OOF {comparison.metric} [95% interval] per run; {comparison.direction}")
    scores.add_column("model")
    for label in comparison.labels:
        scores.add_column(escape(label), justify="right")
    for model, row in comparison.scores.iterrows():
        scores.add_row(escape(str(model)), *(
            "" if math.isnan(row[(label, "OOF")]) else
            f"{row[(label, 'OOF')]:.4f} [{row[(label, 'low')]:.4f}-{row[(label, 'high')]:.4f}]"
            for label in comparison.labels))
    reference = comparison.labels[0]
    differences = Table(title=f"paired difference against {escape(reference)} (same OOF rows, 95% interval); "
                              "! = significant")
    for column in ("row", "run", "difference", "95% interval", ""):
        differences.add_column(column, justify="left" if column in ("row", "run") else "right")
    for row in comparison.differences.to_dict("records"):
        differences.add_row(escape(row["row"]), escape(row["run"]), f"{row[f'vs {reference}']:+.4f}",
                            f"[{row['low']:+.4f}, {row['high']:+.4f}]", "!" if row["significant"] else "")
    return Group(scores, differences)


def tuning_table(result: "TuningResult") -> Table:
    """Best trial next to the untuned baseline: CV score, then every tuned parameter."""
    table = Table(title=f"{result.stacker}: best of {result.finished} trials (trial {result.best_trial}, "
                        f"study {escape(repr(result.study))})")
    for column in ("", "default", "tuned"):
        table.add_column(column, justify="left" if not column else "right")
    from stackfold.competition.metric import metric_info  # deferred, as every heavy import of the command line

    lower = "" if metric_info(result.metric).higher_is_better else " (lower is better)"
    table.add_row(f"CV {result.metric}{lower}", f"{result.default_value:.4f}", f"{result.value:.4f}")
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
    """What changed between two submissions, and with the truth which side the changes favour (and, for probability
    submissions, each one's log loss: lower is better)."""
    text = f"{result.changed} of {result.rows} predictions changed ({result.changed / result.rows:.1%})"
    if result.right_a is not None:
        text += (f"; of the changed rows A is right on {result.right_a}, B on {result.right_b} "
                 f"(B {result.right_b - result.right_a:+d})")
    if result.log_loss_a is not None and result.log_loss_b is not None:
        text += (f"; log loss A {result.log_loss_a:.4f}, B {result.log_loss_b:.4f} "
                 f"(B {result.log_loss_b - result.log_loss_a:+.4f}, lower is better)")
    return text


def score_line(scores: dict[str, float], metric: str) -> str:
    """``stackfold score``'s line: the challenge's ``metric`` first (and which way is better), then every other
    score the submission has, then the rows scored (log loss: of a probability submission only)."""
    from stackfold.competition.metric import metric_info

    better = "higher" if metric_info(metric).higher_is_better else "lower"
    shown = {"weighted_f1": scores["wf1"], "accuracy": scores["accuracy"], "macro_f1": scores["macro_f1"],
             **({"log_loss": scores["log_loss"]} if "log_loss" in scores else {})}
    first = (f"{metric} {shown.pop(metric):.4f} ({better} is better)" if metric in shown
             else f"{metric} not scored (labels, not probabilities)")
    return "  ".join([first, *(f"{name} {value:.4f}" for name, value in shown.items()), f"rows {scores['rows']}"])


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
