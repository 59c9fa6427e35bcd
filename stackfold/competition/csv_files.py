"""Challenge CSV files read exactly: one line naming the file, the line or row, and what to do for
anything else (missing, empty, cut short, not UTF-8, another delimiter, a repeated header or column,
an index that is not a unique integer)."""

import csv
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd

from stackfold.errors import DataError, StackfoldError


def describe_row(position: int, index: object) -> str:
    return f"row {position + 1} (index {index})"


def _challenge_text(path: Path, strict_end: bool = True) -> str:
    """The whole text of a challenge file, refused when missing, empty, cut short or not UTF-8 (a BOM is fine).

    ``strict_end``: a file must end with a line break (a cut file rarely does); otherwise pandas judges the last row.
    """
    if not path.is_file():
        raise DataError(f"{path}: file not found; put the challenge file there or pass the right data folder")
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError(f"{path}: file is empty; download it again from the challenge site")
    if strict_end and not raw.endswith(b"\n"):  # checked before decoding: a cut inside a UTF-8 character is a cut
        line = raw.count(b"\n") + 1
        raise DataError(f"{path}, line {line}: incomplete last line (the file does not end with a line break, "
                        "so it was likely cut short); download it again, or end it with a line break if it is whole")
    return decode_utf8(raw, path, DataError)


def decode_utf8(raw: bytes, path: Path, error: type[StackfoldError]) -> str:
    """``raw`` as text (a UTF-8 BOM dropped), or a one-line ``error`` naming the line of its first non-UTF-8 byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise error(
            f"{path}, line {line}: byte {raw[e.start]:#04x} is not valid UTF-8; re-save the file as UTF-8"
        ) from e


def _check_header(path: Path, text: str, required: tuple[str, ...], first_is_index: bool = True) -> list[str]:
    """The header line's names; refused with another delimiter, a repeated name or a required column missing
    (``first_is_index``: the first name is the index's, not a column's)."""
    line = text.split("\n", 1)[0].rstrip("\r")
    names = next(csv.reader([line]))
    delimiter = next((d for d in ";\t|" if d in line), None)
    if len(names) == 1 and delimiter:
        raise DataError(f"{path}, line 1: fields are separated by {delimiter!r}; re-save the file with commas")
    twice = next((name for i, name in enumerate(names) if name in names[:i]), None)
    if twice is not None:
        raise DataError(f"{path}, line 1: column {twice!r} appears twice; remove one of them")
    columns = names[1:] if first_is_index else names
    missing = [c for c in required if c not in columns]
    if missing:
        raise DataError(
            f"{path}: column {missing[0]!r} is missing (found: {', '.join(columns)}); "
            f"the file needs columns {', '.join(required)}"
        )
    return names


def read_challenge_csv(path: Path, required: tuple[str, ...], id_column: str = "") -> pd.DataFrame:
    """Read one challenge CSV as strings, indexed by its unnamed first column as integers (``id_column=""``), or by
    column ``id_column`` (:func:`id_index`)."""
    text = _challenge_text(path, strict_end=not id_column)
    names = _check_header(path, text, (*required, id_column) if id_column else required, first_is_index=not id_column)
    try:
        frame = pd.read_csv(StringIO(text), index_col=id_column or 0, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as e:
        reason = " ".join(str(e).split())
        if "EOF inside string" in reason:  # cut short inside a quoted field that spans lines
            raise DataError(f"{path}: incomplete last row ({reason}); download the file again") from e
        raise DataError(f"{path}: not a valid CSV ({reason}); download the file again") from e
    if frame.empty:
        raise DataError(f"{path}, line 2: no rows, the file holds only its header line; download it again")
    first = frame.columns[0] if len(frame.columns) else None
    repeated = np.flatnonzero((frame.index == (id_column or names[0]))
                              & ((frame[first] == first).to_numpy() if first is not None else True))
    if len(repeated):
        raise DataError(f"{path}, row {repeated[0] + 1}: repeats the header line; remove that line")
    frame.index = id_index(path, frame.index.to_series(), id_column) if id_column else integer_column(
        path, frame.index.to_series(), "index")
    duplicated = frame.index.duplicated()
    if duplicated.any():
        position = int(np.flatnonzero(duplicated)[0])
        raise DataError(
            f"{path}, {describe_row(position, frame.index[position])}: index appears twice; "
            "each product needs exactly one row"
        )
    return frame


def parse_integers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Strings as int64, and a mask of those that are not whole numbers within int64 (whose int64 is 0)."""
    numbers = pd.to_numeric(values.str.strip(), errors="coerce")
    if numbers.dtype == np.int64:
        return numbers.to_numpy(), np.zeros(len(numbers), dtype=bool)
    as_float = numbers.to_numpy(dtype=np.float64)  # NaN where not a number
    bad = ~np.isfinite(as_float) | (as_float != np.floor(as_float)) | (np.abs(as_float) >= 2.0**63)
    return np.where(bad, 0, numbers.fillna(0).to_numpy()).astype(np.int64), bad


def integer_column(path: Path, values: pd.Series, column: str) -> pd.Index:
    converted, bad = parse_integers(values)
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}, row {position + 1}, column {column}: {values.iloc[position]!r} is not an integer; "
            "fix or remove that row"
        )
    return pd.Index(converted, name=None)


def id_index(path: Path, values: pd.Series, column: str) -> pd.Index:
    """Row ids as the file gives them: integers when every id is one (written the usual way), else strings.

    An empty id is an error naming its row."""
    values = values.astype(str)
    empty = (values.str.strip() == "").to_numpy()
    if empty.any():
        position = int(np.flatnonzero(empty)[0])
        raise DataError(f"{path}, row {position + 1}, column {column}: empty id; every row needs its id")
    numbers = canonical_integers(values)
    return pd.Index(numbers if numbers is not None else values.to_numpy(dtype=object), name=None)


def canonical_integers(values: pd.Series) -> np.ndarray | None:
    """String ``values`` as int64 when every one is an integer written the usual way (``"10"``; not ``"010"`` or
    ``"1.0"``; spaces around it are fine), else ``None``: ids that stay strings."""
    numbers, bad = parse_integers(values)
    if bad.any() or not (pd.Series(numbers).astype(str).to_numpy() == values.str.strip().to_numpy()).all():
        return None
    return numbers
