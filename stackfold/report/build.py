"""Build a run's report: load the run folder once, compute every section, render one page."""

from pathlib import Path

from stackfold.version import __version__
from stackfold.competition.metric import metric_info
from stackfold.progress import Cost
from stackfold.report import model_sections, run_sections, shift_section
from stackfold.report.contents import RunContents, load_run
from stackfold.report.page import render_page, write_page


def build_report(run: RunContents, data: Path | None = None) -> str:
    """The report page of a loaded run; ``data``: the challenge folder, when it moved since the run."""
    sections = [
        model_sections.leaderboard_section(run),
        model_sections.per_class_section(run),
        model_sections.confusion_section(run),
        model_sections.diversity_section(run),
        model_sections.calibration_section(run),
        run_sections.tuning_section(run),
        run_sections.data_section(run, data),
        shift_section.shift_section(run),
        run_sections.submissions_section(run),
    ]
    board = run.leaderboard
    lower = "" if metric_info(run.spec.metric).higher_is_better else ", lower is better"
    subtitle = (f"{run.spec.name}: {len(run.assignment.labels)} training rows, {run.config.folds} folds, seed "
                f"{run.config.seed}; {len(board)} rows; submitted {run.best} (CV {run.spec.metric} "
                f"{board['oof_score'].iloc[0]:.4f} on pooled OOF{lower})")
    return render_page(f"stackfold report: {run.folder.root.name}", subtitle, sections, f"stackfold {__version__}")


REPORT_COST = Cost(8.0, exponent=0.25)
"""What :func:`write_report` takes on the reference machine at 84,916 rows."""


def write_report(run: Path, data: Path | None = None) -> Path:
    """Write ``RUN/report/index.html`` and return its path."""
    contents = load_run(run)
    return write_page(contents.folder.report, build_report(contents, data))
