"""`stackfold report` and the report written at the end of `stackfold run`, from the command line (no browser).

One small text-only run on the real sample (:func:`finished_run`) serves every read-only check;
tests that change a run work on a copy. tests/test_report_browser.py reuses the same run (and a
tuned copy of it) through :func:`finished_run` and :func:`tuned_run`: both cache their folder under
the session's base temp folder, so a session running both files makes each only once.
"""

import io
import json
import re
import shutil
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from stackfold import cli

RUN_CONFIG = """\
images = false
models = ["prior", "tfidf_logreg", "logreg", "complement_nb"]
stackers = ["lgbm", "mean"]
decisions = []
shift = true

[params.lgbm]
max_rounds = 10  # fast: the report's content matters here, not the stacker's score
"""
"""Fast text models on the real sample; the lgbm stacker makes `stackfold run` save SHAP shares for the report, and
`shift = true` ends the run with the train/test shift check the report shows."""
ROWS = {"prior", "tfidf_logreg", "logreg", "complement_nb", "lgbm", "mean"}
SECTIONS = ["leaderboard", "per-class", "confusion", "diversity", "calibration", "tuning", "data", "shift",
            "submissions"]
INTERVAL_COLUMNS = ["oof_score", "ci_low", "ci_high", "gap_low", "gap_high", "tied"]
MAX_REPORT_BYTES = 5 * 2**20


@dataclass(frozen=True)
class Outcome:
    """What one command printed: exit code, stdout, stderr."""

    code: int
    out: str
    err: str


@dataclass(frozen=True)
class Run:
    """A finished run folder and what the command that made it printed."""

    root: Path
    made_by: Outcome

    @property
    def report(self) -> Path:
        return self.root / "report" / "index.html"


def stackfold(*args: object) -> Outcome:
    """Run ``stackfold ARGS`` in-process (usable where the function-scoped ``run_cli`` fixture is not)."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, redirect_stdout(out), redirect_stderr(err):
        patch.setattr(sys, "argv", ["stackfold", *map(str, args)])
        try:
            cli.main()
            code = 0
        except SystemExit as exit_info:
            code = exit_info.code or 0
    return Outcome(code, out.getvalue(), err.getvalue())


def _cached(folder: Path, make) -> Run:
    """``folder`` made once per session by ``make(folder) -> Outcome`` (a marker file holds its output)."""
    marker = folder.with_name(folder.name + ".outcome.json")
    if marker.is_file():
        return Run(folder, Outcome(**json.loads(marker.read_text())))
    if folder.exists():  # an earlier attempt failed half-way
        shutil.rmtree(folder)
    outcome = make(folder)
    assert outcome.code == 0, f"{outcome.out}\n{outcome.err}"
    marker.write_text(json.dumps(outcome.__dict__))
    return Run(folder, outcome)


def finished_run(sample: Path, factory: pytest.TempPathFactory) -> Run:
    """`stackfold run` on the real sample with the report at its end (SHAP shares saved first)."""
    base = factory.getbasetemp() / "report-runs"
    base.mkdir(exist_ok=True)
    config = base / "run.toml"
    config.write_text(RUN_CONFIG)
    return _cached(base / "run", lambda folder: stackfold("run", sample, "--out", folder, "--config", config))


def tuned_run(sample: Path, factory: pytest.TempPathFactory) -> Run:
    """A copy of :func:`finished_run` after `stackfold tune --stacker lgbm --trials 6` and `stackfold report`."""
    finished = finished_run(sample, factory)

    def make(folder: Path) -> Outcome:
        shutil.copytree(finished.root, folder)
        tuned = stackfold("tune", folder, "--stacker", "lgbm", "--trials", 6)
        assert tuned.code == 0, tuned.err
        return stackfold("report", folder)

    return _cached(finished.root.with_name("tuned"), make)


@pytest.fixture(scope="module")
def run(rakuten_sample, tmp_path_factory) -> Run:
    """The shared finished run: read it, never change it (copy it with :func:`copy_run` first)."""
    return finished_run(rakuten_sample, tmp_path_factory)


def copy_run(run: Run, tmp_path: Path) -> Path:
    target = tmp_path / "run"
    shutil.copytree(run.root, target)
    return target


def section_html(html: str, section_id: str) -> str:
    """The HTML of ``<section id=...>`` (sections do not nest)."""
    match = re.search(rf'<section id="{re.escape(section_id)}">(.*?)</section>', html, re.S)
    assert match, f"no section {section_id!r}"
    return match.group(1)


def one_error_line(outcome: Outcome | tuple[int, str, str]) -> str:
    """The single ``error: ...`` line of a failed command (no traceback, nothing else)."""
    outcome = Outcome(*outcome) if isinstance(outcome, tuple) else outcome
    assert outcome.code == 1, outcome
    assert "Traceback" not in outcome.err
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1, outcome.err
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.slow
def test_run_prints_the_report_path_and_writes_it(run):
    lines = [line for line in run.made_by.out.splitlines() if line.startswith("report: ")]
    assert lines == [f"report: {run.report}"]
    assert run.report.is_file()
    html = run.report.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert re.findall(r'<section id="([^"]+)">', html) == SECTIONS
    assert (run.root / "explain" / "shares.json").is_file()  # lgbm in the run: its SHAP shares come first
    assert "SHAP shares: none saved" not in html


@pytest.mark.slow
def test_report_is_small(run):
    assert 10_000 < run.report.stat().st_size < MAX_REPORT_BYTES


@pytest.mark.slow
def test_report_shows_every_leaderboard_row_with_its_interval(run):
    board = pd.read_csv(run.root / "leaderboard.csv", keep_default_na=False)
    assert set(board["model"]) == ROWS
    html = section_html(run.report.read_text(encoding="utf-8"), "leaderboard")
    for row in board.to_dict("records"):
        assert f'<td data-sort="{row["model"]}">{row["model"]}</td>' in html
        assert f'>[{row["ci_low"]:.4f}, {row["ci_high"]:.4f}]</td>' in html


@pytest.mark.slow
def test_same_run_same_report_bytes(run):
    """The report written by `stackfold run` and a later `stackfold report` of the same folder are identical."""
    first = run.report.read_bytes()
    outcome = stackfold("report", run.root)
    assert outcome.code == 0, outcome.err
    assert outcome.out.strip().splitlines()[-1] == f"report: {run.report}"
    assert run.report.read_bytes() == first


@pytest.mark.slow
def test_no_report_writes_none(rakuten_sample, tmp_path, run_cli):
    config = tmp_path / "run.toml"
    config.write_text('images = false\nmodels = ["prior", "complement_nb"]\nstackers = ["lgbm", "mean"]\n'
                      'decisions = []\n\n[params.lgbm]\nmax_rounds = 5\n')
    code, out, err = run_cli("run", rakuten_sample, "--out", tmp_path / "run", "--config", config, "--no-report")
    assert code == 0, err
    assert (tmp_path / "run" / "submissions" / "best.csv").is_file()
    assert "report:" not in out and "report:" not in err
    assert not (tmp_path / "run" / "report").exists()
    assert not (tmp_path / "run" / "explain").exists()  # nor the SHAP shares only the report needs


def test_report_of_a_folder_that_is_no_run(tmp_path, run_cli):
    (tmp_path / "empty").mkdir()
    line = one_error_line(run_cli("report", tmp_path / "empty"))
    assert "config.toml" in line and "stackfold run" in line
    assert not (tmp_path / "empty" / "report").exists()
    line = one_error_line(run_cli("report", tmp_path / "nowhere"))
    assert str(tmp_path / "nowhere") in line


@pytest.mark.slow
@pytest.mark.parametrize("remove, named", [
    ("leaderboard.csv", "no leaderboard"),
    ("models/logreg/oof.parquet", "OOF probabilities of 'logreg'"),
    ("folds.csv", "folds.csv"),
])
def test_report_of_an_unfinished_run_names_what_is_missing(run, tmp_path, run_cli, remove, named):
    root = copy_run(run, tmp_path)
    (root / remove).unlink()
    before = (root / "report" / "index.html").read_bytes()
    line = one_error_line(run_cli("report", root))
    assert named in line
    assert (root / "report" / "index.html").read_bytes() == before  # the old report is left as it was


@pytest.mark.slow
def test_leaderboard_of_an_older_version_says_to_rerun(run, tmp_path, run_cli):
    root = copy_run(run, tmp_path)
    board = pd.read_csv(root / "leaderboard.csv", keep_default_na=False)
    board.drop(columns=INTERVAL_COLUMNS).to_csv(root / "leaderboard.csv", index=False)
    line = one_error_line(run_cli("report", root))
    assert "older stackfold" in line and f"--out {root}" in line and "again" in line
    assert "ci_low" in line


@pytest.mark.slow
def test_report_without_the_data_says_it_cannot_read_it(run, tmp_path, run_cli):
    """The challenge folder moved since the run: the report is still written, its data section says why it is short."""
    root = copy_run(run, tmp_path)
    gone = tmp_path / "data-moved-away"
    shutil.rmtree(root / "report")
    origin = json.loads((root / "origin.json").read_text())
    (root / "origin.json").write_text(json.dumps({**origin, "data_dir": str(gone)}))
    code, out, err = run_cli("report", root)
    assert code == 0, err
    assert out.strip().splitlines()[-1] == f"report: {root / 'report' / 'index.html'}"
    html = (root / "report" / "index.html").read_text(encoding="utf-8")
    data = section_html(html, "data")
    assert f"The data of this run cannot be read from {gone}" in data and "pass --data" in data
    assert data.count('<figure class="chart">') == 1  # the class distribution comes from the run folder
    assert re.findall(r'<section id="([^"]+)">', html) == SECTIONS


@pytest.mark.slow
def test_report_with_data_moved_and_given_by_option(run, tmp_path, run_cli, rakuten_sample):
    """--data finds the moved challenge folder: the report is the one of the data in place (paths aside)."""
    root = copy_run(run, tmp_path)
    origin = json.loads((root / "origin.json").read_text())
    (root / "origin.json").write_text(json.dumps({**origin, "data_dir": str(tmp_path / "data-moved-away")}))
    code, _, err = run_cli("report", root, "--data", rakuten_sample)
    assert code == 0, err
    data = section_html((root / "report" / "index.html").read_text(encoding="utf-8"), "data")
    assert "cannot be read" not in data
    assert data.count('<figure class="chart">') == 3  # classes, text lengths, languages
    assert "Language mix of 300 sampled training texts" in data
    html = (root / "report" / "index.html").read_text(encoding="utf-8")
    assert html.replace(str(root), str(run.root)) == run.report.read_text(encoding="utf-8")


@pytest.mark.slow
def test_cli_leaderboard_shows_the_intervals(run, run_cli):
    code, out, err = run_cli("leaderboard", run.root)
    assert code == 0, err
    assert "OOF [95% CI]" in out and "tied" in out
    board = pd.read_csv(run.root / "leaderboard.csv", keep_default_na=False)
    lines = {line.split()[1]: line for line in out.splitlines() if line.startswith("│")}
    assert set(lines) == ROWS
    for row in board.to_dict("records"):
        line = lines[row["model"]]
        assert f'{row["oof_score"]:.4f} [{row["ci_low"]:.4f}-{row["ci_high"]:.4f}]' in line
        assert row["ci_low"] <= row["oof_score"] <= row["ci_high"]
        assert (" = " in line) == row["tied"]
    assert board["tied"].iloc[0]  # the top row is tied with itself
