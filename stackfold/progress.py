"""Rich consoles and progress bars shared by every long step."""

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
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
    ``advance(n=1)``."""
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
