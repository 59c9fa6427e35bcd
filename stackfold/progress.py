"""Rich consoles and progress bars shared by every long step."""

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, UTC
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

T = TypeVar("T")

console = Console(stderr=True)
"""Progress, status and errors go to stderr."""
report = Console(width=None if sys.stdout.isatty() else 160)
"""Results (tables, scores) go to stdout, wide enough not to truncate when piped."""


_bars_hidden: ContextVar[bool] = ContextVar("bars_hidden", default=False)
"""Set in this thread's context by :func:`no_bars`."""


@contextmanager
def no_bars() -> Iterator[None]:
    """No progress bar in this thread until the block ends: a Dask task's partial bars would crowd the
    worker's log (or, on a local cluster, the terminal) while the client draws one bar for all tasks."""
    token = _bars_hidden.set(True)
    try:
        yield
    finally:
        _bars_hidden.reset(token)


class _Rate(ProgressColumn):
    """Items per second, named by their unit."""

    def __init__(self, unit: str):
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:.0f} {self.unit}/s" if task.speed else "", style="progress.data.speed")


@contextmanager
def progress_bar(description: str, total: int | None, unit: str | None = None) -> Iterator[Callable[..., None]]:
    """A progress bar with elapsed time and ETA on stderr (and the rate of ``unit`` per second); yields
    ``advance(n=1)``; none inside :func:`no_bars`."""
    if _bars_hidden.get():
        yield lambda n=1: None
        return
    columns: list[ProgressColumn] = [TextColumn("[progress.description]{task.description}"), BarColumn(),
                                     MofNCompleteColumn()]
    if unit is not None:
        columns.append(_Rate(unit))
    columns += [TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(description, total=total)
        try:
            yield lambda n=1: bar.advance(task, n)
        except GeneratorExit:  # a track() loop left early, closed when collected: its last frame means nothing now
            bar.live.transient = True
            raise


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Yield from ``items`` while drawing a progress bar on stderr."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with progress_bar(description, total) as advance:
        for item in items:
            yield item
            advance()


def clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}"


class PeakMemory:
    """Peak resident memory of this process over a span: Linux's high-water mark (``VmHWM``), reset at the start.

    Writing ``5`` to ``/proc/self/clear_refs`` resets the mark (Linux >= 4.0). Where that is not
    possible the lifetime peak (``ru_maxrss``) is reported instead, which can only be larger.
    """

    def __init__(self) -> None:
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self.resettable = True
        except OSError:
            self.resettable = False

    @staticmethod
    def peak_bytes() -> int:
        """The process's peak resident bytes since the last reset."""
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)


@dataclass(frozen=True)
class Cost:
    """Seconds a step takes on the reference machine at ``rows`` rows, growing as ``(n / rows) ** exponent``.

    The reference is 2 cores at the Rakuten challenge's size (84,916 training products), measured by
    ``bench/full_size.py``; :class:`Pace` rescales every cost by how fast this machine has run so far.
    """

    seconds: float
    exponent: float = 1.0
    rows: int = 84_916
    class_exponent: float = 0.0
    """How a model's time grows with the classes, ``(classes / 27) ** class_exponent`` (a time-limited run's plan on
    another challenge): 1 for one-vs-rest and multinomial linear models, 0 where the classes are only the last
    layer."""
    fixed: float = 0.0
    """Seconds paid at any size (loading an encoder, TensorFlow tracing each fold's net): what dominates on a few
    thousand rows, measured by ``bench/plan_honesty.py``."""

    def at(self, n: int, scale: float = 1.0) -> float:
        """Expected seconds at ``n`` rows (``scale``: a further factor, e.g. folds or image size)."""
        return scale * (self.fixed + self.seconds * (max(n, 1) / self.rows) ** self.exponent)


@dataclass(frozen=True)
class Step:
    """One finished step of a run: what, when (UTC, and seconds after the run started), how long, peak
    memory, and the ETA the run showed as it began (``None`` before any step had run)."""

    kind: str
    name: str
    started_at: str
    started_s: float
    seconds: float
    peak_rss_bytes: int
    expected_s: float
    eta_s: float | None


ETA_PRIOR_SECONDS = 60.0
"""Weight of the reference machine's speed in the ETA's rescaling: after a minute of steps, this machine's own pace
weighs as much, and soon far more."""


class Pace:
    """Where a run stands: the steps planned with their expected seconds, the steps finished, and an ETA.

    The ETA is the expected seconds of the planned steps left, rescaled by how fast this machine has run
    the finished ones against their expected seconds (``Cost``), a rescaling that starts at 1 and follows
    the finished steps (``ETA_PRIOR_SECONDS``). ``on_step`` receives every finished :class:`Step`
    (the run's timeline).
    """

    def __init__(self, planned: dict[tuple[str, str], float] | None = None,
                 on_step: Callable[[Step], None] | None = None, speed: float = 1.0):
        self.planned = dict(planned or {})
        self.speed = speed
        self.on_step = on_step
        self.start = time.perf_counter()
        self.steps: list[Step] = []
        self._left = dict(self.planned)

    def record_to(self, on_step: Callable[[Step], None]) -> None:
        """Give every step finished so far, and every later one, to ``on_step``."""
        self.on_step = on_step
        for step in self.steps:
            on_step(step)

    def plan(self, kind: str, name: str, expected_s: float) -> None:
        """Add step ``name`` of ``kind`` to the plan, expected to take ``expected_s`` on the reference machine."""
        self.planned[kind, name] = self._left[kind, name] = expected_s

    def skip(self, kind: str, name: str) -> None:
        """A planned step turned out to need no work (its result was saved)."""
        self._left.pop((kind, name), None)

    def rate(self) -> float:
        """Seconds this machine took per expected second, over the finished steps that were planned, starting from
        ``speed`` (a calibration's, :mod:`stackfold.pipeline.speed`; 1: the reference machine's)."""
        actual = sum(s.seconds for s in self.steps if s.expected_s > 0)
        expected = sum(s.expected_s for s in self.steps if s.expected_s > 0)
        return (actual + ETA_PRIOR_SECONDS * self.speed) / (expected + ETA_PRIOR_SECONDS)

    def eta(self) -> float | None:
        """Seconds left by the plan, once a step has finished (``None`` before: nothing is measured yet)."""
        if not self.steps:
            return None
        return self.rate() * sum(self._left.values())

    def status(self) -> str:
        """``step 3/16, run 0:02:10[, about 0:05:00 left]``."""
        done = len(self.planned) - len(self._left)
        text = f"step {done + 1}/{max(len(self.planned), done + 1)}, run {clock(time.perf_counter() - self.start)}"
        left = self.eta()
        if left is not None:
            text += f", about {clock(left)} left"
        return text

    @contextmanager
    def step(self, kind: str, name: str) -> Iterator[None]:
        """Time the block as step ``name`` (of ``kind``: view, base, stack, ...) with its peak memory; record it
        when it ends without an error."""
        eta = self.eta()
        memory = PeakMemory()
        started, started_at = time.perf_counter(), datetime.now(UTC).isoformat(timespec="milliseconds")
        yield
        self.record(Step(kind, name, started_at, started - self.start, time.perf_counter() - started,
                         memory.peak_bytes(), self.planned.get((kind, name), 0.0), eta))

    def record(self, step: Step) -> None:
        """Count ``step`` as finished (:meth:`step` times one; a replay of a saved timeline gives them)."""
        self._left.pop((step.kind, step.name), None)
        self.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)
