"""A challenge's tables, CSV or Parquet, read as strings by the same rules (:mod:`csv_files` for CSV).

Parquet files are read with pyarrow; every value becomes its text, so ids, labels and text columns
reach the loader alike whichever format the challenge chose.
"""

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from stackfold.competition.csv_files import decode_utf8, id_index, read_challenge_csv
from stackfold.errors import DataError

PARQUET_SUFFIXES = (".parquet", ".pq")


def is_parquet(path: Path) -> bool:
    return Path(path).suffix.lower() in PARQUET_SUFFIXES


def _missing(path: Path, source_key: tuple[Path, str] | None) -> DataError:
    if source_key is not None:
        source, key = source_key
        return DataError(f"{source}: {key}: {path} not found; fix the path (relative to the data folder) or add "
                         "the file")
    return DataError(f"{path}: file not found; put the challenge file there or pass the right data folder")


def table_columns(path: Path, source_key: tuple[Path, str] | None = None) -> list[str]:
    """The column names of a CSV (its header line) or Parquet file; ``source_key`` (spec file, key) names the key
    that gave the path when it is missing."""
    path = Path(path)
    if not path.is_file():
        raise _missing(path, source_key)
    if is_parquet(path):
        import pyarrow.parquet as pq

        try:
            return [name for name in pq.read_schema(path).names if not name.startswith("__index_level_")]
        except OSError as e:
            raise DataError(f"{path}: not a readable Parquet file ({e}); download it again") from e
    with open(path, "rb") as f:
        first = f.readline()
    line = decode_utf8(first, path, DataError).rstrip("\r\n")
    return next(csv.reader([line]), [])


def read_table_column(path: Path, column: str, source_key: tuple[Path, str], key: str) -> np.ndarray:
    """Every value of ``column`` as text; a missing column names the spec ``key`` that asked for it."""
    columns = table_columns(path, source_key)
    if column not in columns:
        source = source_key[0]
        raise DataError(f"{source}: {key}: column {column!r} is not in {path} (its columns: "
                        f"{', '.join(columns[:12])}); fix the key or the file")
    if is_parquet(path):
        return pd.read_parquet(path, columns=[column])[column].astype(str).to_numpy()
    return pd.read_csv(path, usecols=[column], dtype=str, keep_default_na=False)[column].to_numpy()


def read_challenge_table(path: Path, required: tuple[str, ...], id_column: str = "") -> pd.DataFrame:
    """One challenge table as strings indexed by its ids (see :func:`read_challenge_csv`): CSV or Parquet."""
    path = Path(path)
    if not is_parquet(path):
        return read_challenge_csv(path, required, id_column)
    if not path.is_file():
        raise _missing(path, None)
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: not a readable Parquet file ({' '.join(str(e).split())}); download it again") from e
    if id_column:
        if id_column not in frame.columns:
            raise DataError(f"{path}: column {id_column!r} is missing (found: {', '.join(map(str, frame.columns))})")
        frame = frame.set_index(id_column)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: column {missing[0]!r} is missing (found: {', '.join(map(str, frame.columns))}); "
                        f"the file needs columns {', '.join(required)}")
    if frame.empty:
        raise DataError(f"{path}: no rows; download it again")
    frame = frame.astype(object).where(frame.notna(), "").astype(str)
    frame.index = id_index(path, frame.index.to_series().astype(str), id_column or "index")
    duplicated = frame.index.duplicated()
    if duplicated.any():
        position = int(np.flatnonzero(duplicated)[0])
        raise DataError(f"{path}, row {position + 1} (id {frame.index[position]}): id appears twice; each row "
                        "needs exactly one id")
    return frame
