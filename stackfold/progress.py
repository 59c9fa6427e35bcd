"""Rich consoles and progress bars shared by every long step."""

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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
        yield lambda n=1: bar.advance(task, n)


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Yield from ``items`` while drawing a progress bar on stderr."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with progress_bar(description, total) as advance:
        for item in items:
            yield item
            advance()


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}"


class Pace:
    """Where a run of ``total`` steps stands: elapsed time and, once a step was trained, an ETA.

    The ETA assumes every step left takes the mean time of the steps trained so far (steps
    reused from an earlier run take none), so it is a rough guide, said as such.
    """

    def __init__(self, total: int):
        self.total = total
        self.start = time.perf_counter()
        self.done = 0
        self.trained = 0
        self.trained_seconds = 0.0

    def skipped(self) -> None:
        self.done += 1

    def finished(self, seconds: float) -> None:
        self.done += 1
        self.trained += 1
        self.trained_seconds += seconds

    def status(self) -> str:
        """``step 3/16, run 0:02:10[, about 0:05:00 left]``."""
        text = f"step {self.done + 1}/{self.total}, run {_clock(time.perf_counter() - self.start)}"
        if self.trained:
            left = self.trained_seconds / self.trained * (self.total - self.done)
            text += f", about {_clock(left)} left"
        return text
