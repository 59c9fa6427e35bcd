"""The files ``stackfold init`` guesses a spec from: which table is train, test, the sample submission or a labels
file, their rows (as strings, up to :data:`MAX_ROWS`), and image folders whose file names hold the rows' ids.

File names decide (``train.csv``, ``X_train.csv``, ``sample_submission.csv``); where several files could be the
one, exact names win, else a one-line :class:`ConfigError` names the candidates and the key to write by hand.
"""

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from stackfold.competition.spec_file import SPEC_FILE
from stackfold.competition.tables import PARQUET_SUFFIXES, is_parquet, table_columns
from stackfold.errors import ConfigError, DataError

MAX_ROWS = 100_000
"""Rows of each file read for guessing: enough to judge columns, quick on a file of millions."""
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif")
CHECKED_ROWS = 20
"""Image paths checked (per file) before an image column or a file-name template is believed."""
FOLDER_DEPTH = 3
"""How deep under the data folder image folders are looked for (``images/train`` is depth 2)."""


@dataclass(frozen=True)
class Tables:
    """A data folder's challenge tables, found by name and read as strings (missing values ``""``)."""

    data: Path
    train_file: str
    test_file: str
    train: pd.DataFrame
    test: pd.DataFrame
    sample_file: str = ""
    sample_header: list[str] = field(default_factory=list)
    labels_file: str = ""
    """A two-column file named like train (an id and one more column): perhaps the labels, kept apart."""
    labels_frame: pd.DataFrame | None = None
    reasons: dict[str, str] = field(default_factory=dict)
    """Why each file was chosen (or none), by spec key: train, test, sample_submission, labels."""


def read_rows(path: Path) -> pd.DataFrame:
    """Up to :data:`MAX_ROWS` rows of a CSV or Parquet table as strings, its columns named as its header."""
    header = table_columns(path)
    try:
        if is_parquet(path):
            import pyarrow.parquet as pq

            batch = next(pq.ParquetFile(path).iter_batches(batch_size=MAX_ROWS, columns=header), None)
            frame = batch.to_pandas() if batch is not None else pd.DataFrame(columns=header)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=MAX_ROWS, encoding="utf-8-sig")
            frame.columns = header
    except (ValueError, OSError) as e:
        raise DataError(f"{path}: cannot be read as a table ({' '.join(str(e).split())}); check the file") from e
    if frame.empty:
        raise DataError(f"{path}: no rows; download it again")
    return frame.astype(object).where(frame.notna(), "").astype(str)


def _exact(key: str, names: list[str]) -> list[str]:
    return [n for n in names if n.lower() in (f"{key}.csv", *(f"{key}{s}" for s in PARQUET_SUFFIXES))]


def _pick(data: Path, key: str, names: list[str], labels: list[str]) -> tuple[str, str]:
    """The file of spec key ``train`` or ``test`` among the tables named like it: the exact name, else the only
    one, else the only one that does not look like a labels file (in ``labels``)."""
    exact, kept = _exact(key, names), [n for n in names if n not in labels]
    if len(exact) == 1:
        return exact[0], f"named {exact[0]}"
    if len(names) == 1:
        return names[0], f"the one table named like *{key}*"
    if not exact and len(kept) == 1:
        return kept[0], f"the one table named like *{key}* that is not a labels file ({', '.join(labels)})"
    if not names:
        bson = " (a BSON challenge such as Cdiscount's needs no spec file)" if any(data.glob("*.bson")) else ""
        raise ConfigError(f"{data}: no {key} file ({key}.csv, {key}.parquet or a .csv/.parquet file named like "
                          f"*{key}*){bson}; write {data / SPEC_FILE} by hand with {key} = \"file\"")
    raise ConfigError(f"{data}: several {key} files ({', '.join(exact or names)}); write {data / SPEC_FILE} by hand "
                      f"with {key} = \"one of them\"")


def _pick_sample(names: list[str], headers: dict[str, list[str]]) -> tuple[str, str]:
    """The sample submission: ``sample_submission.csv``, else the one table named with "sample" and "submission"."""
    found = [n for n in names if "sample" in n.lower() and "submission" in n.lower()]
    exact = [n for n in found if n.lower() == "sample_submission.csv"] or found
    if not found:
        return "", "default: none found (no table named like *sample*submission*)"
    if len(exact) > 1:
        return "", f"default: none chosen among {', '.join(exact)}; set the one the challenge gives"
    if len(headers[exact[0]]) < 2:
        return "", f"default: {exact[0]} has fewer than two columns, not a submission"
    return exact[0], f"named {exact[0]}: header {','.join(headers[exact[0]][:4])}{'...' * (len(headers[exact[0]]) > 4)}"


def find_tables(data: Path) -> Tables:
    """The challenge tables of folder ``data`` (its .csv and .parquet files), chosen by name and read."""
    data = Path(data)
    if not data.is_dir():
        raise ConfigError(f"{data}: not a folder; give the folder holding the challenge's files")
    names = sorted(p.name for p in data.iterdir() if p.is_file() and p.suffix.lower() in (".csv", *PARQUET_SUFFIXES)
                   and any(word in p.name.lower() for word in ("train", "test", "submission")))
    headers = {name: table_columns(data / name) for name in names}
    sample, sample_why = _pick_sample(names, headers)
    others = [n for n in names if n != sample and "submission" not in n.lower()]
    test_file, test_why = _pick(data, "test", [n for n in others if "test" in n.lower() and "train" not in n.lower()],
                                [])
    named_train = [n for n in others if "train" in n.lower() and n != test_file]
    labels = [n for n in named_train if len(headers[n]) == 2 and headers[n][1] not in headers[test_file]]
    train_file, train_why = _pick(data, "train", named_train, labels)
    first = headers[train_file][0]
    labels = [n for n in labels if n != train_file and headers[n][0] == first]
    reasons = {"train": train_why, "test": test_why, "sample_submission": sample_why}
    if len(labels) == 1:
        reasons["labels"] = (f"named like *train*, holding {train_file}'s id column ({first or 'unnamed'}) and one "
                             "more column")
    return Tables(data, train_file, test_file, read_rows(data / train_file), read_rows(data / test_file),
                  sample, headers.get(sample, []), labels[0] if len(labels) == 1 else "",
                  read_rows(data / labels[0]) if len(labels) == 1 else None, reasons)


def image_column(t: Tables, column: str) -> tuple[bool, str]:
    """Whether ``column`` holds image paths (nine in ten values end like an image file) that exist under the data
    folder (the first :data:`CHECKED_ROWS` of each file), and why; ``""``: not image paths at all."""
    values = [v for v in t.train[column] if v]
    if not values or sum(v.lower().endswith(IMAGE_SUFFIXES) for v in values) < 0.9 * len(values):
        return False, ""
    paths = [*values[:CHECKED_ROWS], *[v for v in t.test[column] if v][:CHECKED_ROWS]]
    missing = sum(not (t.data / p).is_file() for p in paths)
    if missing:
        return False, f"image paths, but {missing} of the first {len(paths)} are not under {t.data}"
    return True, (f"its values are image files ({values[0]}); the {len(paths)} checked (the first of train and test) "
                  "exist under the data folder")


def _image_folders(data: Path) -> dict[str, list[str]]:
    """Every folder under ``data`` (at most :data:`FOLDER_DEPTH` deep) holding image files: its path relative
    to ``data`` and the image files' names."""
    found = {}
    for folder, subfolders, files in os.walk(data):
        depth = len(Path(folder).relative_to(data).parts)
        subfolders[:] = [] if depth >= FOLDER_DEPTH else sorted(s for s in subfolders if not s.startswith("."))
        images = sorted(f for f in files if f.lower().endswith(IMAGE_SUFFIXES))
        if images and depth:
            found[Path(folder).relative_to(data).as_posix()] = images
    return found


def _pattern(value: str) -> re.Pattern:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])")


def _all_exist(data: Path, folder: str, template: str, frame: pd.DataFrame, columns: list[str]) -> bool:
    rows = frame[columns].head(CHECKED_ROWS).to_dict("records")
    return bool(rows) and all((data / folder / template.format(**row)).is_file() for row in rows)


def _template_in(data: Path, folder: str, names: list[str], t: Tables, columns: list[str]) -> tuple[str, list[str]]:
    """The file-name template of ``folder`` built from the first training row's values of ``columns``, if the
    first rows' files are all there; ``("", [])`` otherwise."""
    row = {c: t.train[c].iloc[0] for c in columns if t.train[c].iloc[0]}
    patterns = {c: _pattern(v) for c, v in row.items()}
    matching = [(n, [c for c, p in patterns.items() if row[c] in n and p.search(n)]) for n in names]
    for name, used in sorted((m for m in matching if m[1]), key=lambda m: -len(m[1]))[:5]:
        if "{" in name or "}" in name:
            continue
        template = name
        for column in sorted(used, key=lambda c: -len(row[c])):
            template = patterns[column].sub(lambda _, field="{" + column + "}": field, template)
        if _all_exist(data, folder, template, t.train, used):
            return template, used
    return "", []


def image_template(t: Tables, id_column: str, columns: list[str]) -> tuple[str, str, str, list[str], str] | None:
    """An image folder of train rows whose file names hold their ids (the id column, or integer ``columns``
    unique in train), and the test images' folder: (template, train folder, test folder, columns read, why)."""
    folders = _image_folders(t.data)
    integers = [c for c in columns if c and t.train[c].str.fullmatch(r"-?\d+").all() and t.train[c].is_unique]
    candidates = ([id_column] if id_column else []) + [c for c in integers if c != id_column]
    if not folders or not candidates:
        return None
    for folder, names in folders.items():
        template, used = _template_in(t.data, folder, names, t, candidates)
        if not template:
            continue
        test = [f for f in folders if _all_exist(t.data, f, template, t.test, used)]
        if test:
            why = (f"the file names in {folder} and {test[0]} are {template} for the first {CHECKED_ROWS} rows of "
                   "train and test")
            return template, folder, test[0], used, why
    return None
