"""Fault injection: `kill -9` of `stackfold run` and `stackfold tune` at seeded moments, and a full disk.

A killed command, run again, must end exactly where an uninterrupted one does; a full disk must
leave every finished artifact as it was and say so in one line. The data are a small synthetic
twin (300 products, 64-pixel images) and the models fast ones, two of them over image views.
"""

import json
import shutil
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from stackfold import cli, studies

STACKFOLD = Path(sys.executable).parent / "stackfold"
CONFIG = """n_jobs = 1
models = ["prior", "color_forest", "pixel_forest"]
stackers = ["mean", "lgbm"]
[params.color_forest]
n_estimators = 30
[params.pixel_forest]
n_estimators = 30
[params.lgbm]
max_rounds = 60
"""
STACKERS = tomllib.loads(CONFIG)["stackers"]
KILLS = {"models": 4, "stackers": 3, "leaderboard": 1, "submission": 3}
"""Kills per phase of the run, in order: feature extraction and base-model folds; stacker folds and refits;
the leaderboard being written; ``best.csv``, its history copy and its registry line being written (a few
milliseconds, yet where a kill finds the most)."""
WALL_CLOCK = ["fit_s", "predict_s"]
SLOW_SPACE = "max_rounds = {choices = [300]}\nearly_stopping_rounds = {choices = [300]}\n"


@dataclass(frozen=True)
class Twin:
    data: Path
    config: Path
    root: Path

    def run(self, out: Path, config: Path | None = None) -> list[str]:
        """The ``stackfold run`` command line writing to ``out`` (with the twin's configuration by default)."""
        return [str(STACKFOLD), "run", str(self.data), "--out", str(out), "--config", str(config or self.config),
                "--no-report"]


@dataclass
class Watched:
    """A command in a subprocess, with each stderr line and the moment (seconds since the start) it appeared."""

    command: list[str]
    lines: list[tuple[float, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.start = time.monotonic()
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append((self.elapsed(), line.rstrip("\n")))

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def stderr(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def wait_for(self, landmark: Callable[[], bool], what: str) -> float:
        """Poll (every millisecond) until ``landmark()`` holds; the moment it did. Fails if the command ends first."""
        while not landmark():
            if self.process.poll() is not None and not landmark():
                self.reader.join()
                pytest.fail(f"{' '.join(self.command)} ended ({self.process.returncode}) before {what}:\n"
                            f"{self.stderr()}")
            time.sleep(0.001)
        return self.elapsed()

    def saw(self, predicate: Callable[[str], bool]) -> Callable[[], bool]:
        return lambda: any(predicate(line) for _, line in list(self.lines))

    def kill(self) -> bool:
        """``kill -9``; whether the command was still running."""
        alive = self.process.poll() is None
        self.process.kill()
        self.process.wait()
        self.reader.join()
        return alive


def _landmarks(watched: Watched, out: Path) -> dict[str, Callable[[], bool]]:
    """Where each phase of a run (:data:`KILLS`) starts: its first line, its first stacker's line, its
    leaderboard on disk, its ``best.csv`` on disk."""
    return {
        "models": watched.saw(lambda line: True),
        "stackers": watched.saw(lambda line: line.startswith(f"{STACKERS[0]}:")),
        "leaderboard": lambda: (out / "leaderboard.csv").exists(),
        "submission": lambda: (out / "submissions" / "best.csv").exists(),
    }


@dataclass(frozen=True)
class Baseline:
    run: Path
    phase_seconds: dict[str, float]
    """How long each phase of the uninterrupted run lasted."""


@pytest.fixture(scope="module")
def twin(tmp_path_factory) -> Twin:
    root = tmp_path_factory.mktemp("faults")
    twin = Twin(root / "data", root / "run.toml", root)
    twin.config.write_text(CONFIG)
    cli.app(["demo-data", str(twin.data), "--products", "300", "--image-size", "64"], standalone_mode=False)
    return twin


@pytest.fixture(scope="module")
def baseline(twin: Twin) -> Baseline:
    """The uninterrupted run, timed phase by phase (a phase ends where the next starts, the last one at
    ``config.toml``, renamed into place once the run has succeeded)."""
    out = twin.root / "baseline"
    watched = Watched(twin.run(out))
    starts = {phase: watched.wait_for(landmark, phase) for phase, landmark in _landmarks(watched, out).items()}
    ends = [*list(starts.values())[1:], watched.wait_for(lambda: (out / "config.toml").exists(), "config.toml")]
    assert watched.process.wait() == 0, watched.stderr()
    watched.reader.join()
    return Baseline(out, {phase: end - start for (phase, start), end in zip(starts.items(), ends)})


def _leaderboard(run: Path) -> pd.DataFrame:
    return pd.read_csv(run / "leaderboard.csv", dtype=str, keep_default_na=False).drop(columns=WALL_CLOCK)


def _oof_files(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.glob("*/*/oof.parquet"))}


def _registry(run: Path) -> pd.DataFrame:
    """The submission registry without its times (``written_at`` and the history copy named by it)."""
    return pd.read_csv(run / "submissions" / "registry.csv", dtype=str).drop(columns=["written_at", "history"])


def _history(run: Path) -> list[bytes]:
    """The kept submissions (a killed writer's hidden ``.*.tmp`` is no submission)."""
    return sorted(p.read_bytes() for p in (run / "submissions" / "history").glob("*.csv"))


def _assert_same_results(run: Path, reference: Path, context: str) -> None:
    pd.testing.assert_frame_equal(_leaderboard(run), _leaderboard(reference), obj=f"leaderboard ({context})")
    assert (run / "submissions" / "best.csv").read_bytes() == (reference / "submissions" / "best.csv").read_bytes(), \
        context
    oof, expected = _oof_files(run), _oof_files(reference)
    assert oof.keys() == expected.keys(), context
    assert [name for name in oof if oof[name] != expected[name]] == [], context
    pd.testing.assert_frame_equal(_registry(run), _registry(reference), obj=f"registry ({context})")
    kept = sorted(p.name for p in (run / "submissions" / "history").iterdir())
    assert _history(run) == _history(reference), f"{context}: a submission kept twice in the history, or lost: {kept}"


@pytest.mark.slow
def test_run_killed_at_seeded_moments_ends_as_an_uninterrupted_run(twin, baseline, run_cli):
    rng = np.random.default_rng(20240612)
    moments = [(phase, float(offset)) for phase, n in KILLS.items()
               for offset in (np.arange(n) + rng.random(n)) / n * baseline.phase_seconds[phase]]
    for i, (phase, offset) in enumerate(moments):
        out = twin.root / f"killed-{i}"
        watched, offset = _kill_in(twin, out, phase, offset)
        context = f"kill {i} in {phase} at +{offset:.3f} s, after {watched.lines[-1][1].strip()!r}"
        if (out / "config.toml").exists():  # only a run that published everything has a config.toml
            assert (out / "leaderboard.csv").is_file() and (out / "submissions" / "best.csv").is_file(), context

        code, _, err = run_cli(*twin.run(out)[1:])  # the same command again (in this process: it is not killed)
        assert code == 0, f"{context}:\n{err}"
        _assert_same_results(out, baseline.run, context)
        shutil.rmtree(out)


def _kill_in(twin: Twin, out: Path, phase: str, offset: float, tries: int = 4) -> tuple[Watched, float]:
    """Start the run into ``out`` and ``kill -9`` it ``offset`` seconds into ``phase``; the run and the offset used.

    The offsets come from the baseline run's phases: on a machine less loaded than it was then, a run can end
    before the moment. Such a run is started again and killed at half the offset (up to ``tries`` runs), so every
    kill lands inside its phase whatever the machine's load."""
    for _ in range(tries):
        shutil.rmtree(out, ignore_errors=True)
        watched = Watched(twin.run(out))
        anchor = watched.wait_for(_landmarks(watched, out)[phase], phase)
        time.sleep(max(0.0, anchor + offset - watched.elapsed()))
        if watched.kill():
            return watched, offset
        offset /= 2
    pytest.fail(f"every run ended before its kill in {phase} (last at +{offset * 2:.3f} s)")


def _trial_lines(watched: Watched) -> int:
    """Trials the worker has finished (one progress line each)."""
    return sum(line.startswith("  trial ") for _, line in list(watched.lines))


def _study(run: Path) -> optuna.Study:
    return optuna.load_study(study_name="lgbm", storage=f"sqlite:///{(run / 'tuning' / 'lgbm.db').resolve()}")


def _finished(run: Path) -> dict[int, float | None]:
    return {t.number: t.value for t in _study(run).get_trials(states=studies.FINISHED)}


@pytest.mark.slow
def test_tune_killed_mid_trial_keeps_every_finished_trial_and_adds_only_the_rest(
    twin, baseline, tmp_path, run_cli, monkeypatch,
):
    run = tmp_path / "run"
    shutil.copytree(baseline.run, run)
    space = tmp_path / "space.toml"
    space.write_text(SLOW_SPACE)
    args = ["tune", str(run), "--stacker", "lgbm", "--trials", "7", "--space", str(space)]
    rng = np.random.default_rng(7)
    seconds_per_trial = None
    kept: dict[int, float | None] = {}
    for i, fraction in enumerate(0.1 + 0.8 * rng.random(3)):
        watched = Watched([str(STACKFOLD), *args])
        watched.wait_for(lambda w=watched: _trial_lines(w) >= 1, "a finished trial")
        if seconds_per_trial is None:  # the first worker times one whole trial
            seconds_per_trial = watched.wait_for(lambda w=watched: _trial_lines(w) >= 2, "a second trial")
            seconds_per_trial -= next(t for t, line in watched.lines if line.startswith("  trial "))
        time.sleep(fraction * seconds_per_trial)
        assert watched.kill(), f"kill {i}: the study was already complete:\n{watched.stderr()}"
        finished = _finished(run)
        assert kept.items() < finished.items(), f"kill {i}: trials lost, or none added"
        kept = finished
    assert len(kept) < 7, "the workers finished the study before the last kill; slow the trials down"

    monkeypatch.setattr(studies, "HEARTBEAT_S", 1)
    monkeypatch.setattr(studies, "GRACE_S", 3)  # the killed workers' trials are stale after 3 s
    code, _, err = run_cli(*args)
    assert code == 0, err
    finished = _finished(run)
    assert len(finished) == 7 and kept.items() <= finished.items()
    assert TrialState.RUNNING not in {t.state for t in _study(run).trials}
    assert json.loads((run / "tuning" / "lgbm.json").read_text())["trials"] == 7


@pytest.mark.slow
def test_full_disk_keeps_the_finished_run_and_says_so_in_one_line(twin, baseline, small_disk, run_cli):
    run = small_disk.folder / "run"
    shutil.copytree(baseline.run, run)
    # timeline.csv is the progress log of the latest run, the failed one included
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file() and p.name not in (".lock", "timeline.csv")}
    config = small_disk.folder.parent / "retune.toml"
    config.write_text(CONFIG.replace("max_rounds = 60", "max_rounds = 61"))  # the lgbm stacker is trained again
    command = twin.run(run, config)
    with small_disk.full():
        failed = subprocess.run(command, capture_output=True, text=True)
    assert failed.returncode == 1, failed.stderr
    lines = failed.stderr.splitlines()
    assert lines[-1].startswith("error: ") and "Traceback" not in failed.stderr, failed.stderr
    assert sum(line.startswith("error") for line in lines) == 1
    assert any(reason in lines[-1] for reason in ("No space left on device", "File too large")), lines[-1]
    assert str(run) in lines[-1] and "run the same command again" in lines[-1], lines[-1]
    assert {p: p.read_bytes() for p in before} == before, "a finished artifact changed"
    assert not list(run.rglob("*.tmp"))

    code, _, err = run_cli(*command[1:])  # with room again, the same command goes on (in this process)
    assert code == 0, err
