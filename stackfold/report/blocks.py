"""The pieces a report page is made of: sections holding charts, tables and notes, rendered by :mod:`.page`."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from stackfold.report.charts import to_svg


@dataclass(frozen=True)
class Chart:
    """One inline SVG chart; ``group`` and ``key`` let the page show one chart of a group at a time."""

    svg: str
    caption: str
    group: str = ""
    key: str = ""


@dataclass(frozen=True)
class Cell:
    text: str
    sort: str = ""
    css: str = ""


@dataclass(frozen=True)
class Table:
    """A table of display cells; ``sortable`` tables sort by a click on a header (numbers by their ``sort`` value)."""

    columns: list[str]
    rows: list[list[Cell]]
    id: str = ""
    sortable: bool = True
    group: str = ""
    key: str = ""


@dataclass(frozen=True)
class Note:
    text: str


@dataclass(frozen=True)
class Choice:
    """A drop-down showing one chart and table of ``group`` at a time (keys: the options, first shown)."""

    group: str
    label: str
    keys: list[str]


@dataclass
class Section:
    id: str
    title: str
    blocks: list[Chart | Table | Note | Choice] = field(default_factory=list)

    def chart(self, figure, caption: str, group: str = "", key: str = "") -> None:
        self.blocks.append(Chart(to_svg(figure, f"{self.id}-{len(self.blocks)}"), caption, group, key))

    def note(self, text: str) -> None:
        self.blocks.append(Note(text))


def number(value: float, digits: int = 4) -> Cell:
    """A numeric cell: shown rounded, sorted by its value (NaN shown blank, sorted as the lowest value)."""
    if value is None or not np.isfinite(value):
        return Cell("", "-inf")
    return Cell(f"{value:.{digits}f}", repr(float(value)))


def text(value: object) -> Cell:
    return Cell(str(value), str(value))


def frame_table(frame: pd.DataFrame, id: str = "", formats: dict[str, Callable[[object], Cell]] | None = None,
                **kwargs) -> Table:
    """A table of ``frame``'s columns: floats as 4-digit numbers, integers as numbers, the rest as text."""
    formats = formats or {}
    rows = []
    for record in frame.to_dict("records"):
        rows.append([formats.get(c, _default_cell)(record[c]) for c in frame.columns])
    return Table([str(c) for c in frame.columns], rows, id=id, **kwargs)


def _default_cell(value: object) -> Cell:
    if isinstance(value, (bool, np.bool_)):
        return text("yes" if value else "")
    if isinstance(value, (int, np.integer)):
        return Cell(str(value), str(value))
    if isinstance(value, (float, np.floating)):
        return number(float(value))
    return text(value)


def labels(classes: Sequence[int], names: Sequence[str], width: int = 28) -> list[str]:
    """``"<code> <name>"`` of each class, the name cut to ``width`` characters."""
    return [f"{code} {name[:width]}" for code, name in zip(classes, names)]
