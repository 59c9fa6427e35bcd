"""Check a submission against the challenge format and the test set it answers."""

from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd

from stackfold.competition.csv_files import decode_utf8, parse_integers
from stackfold.competition.spec import CompetitionSpec
from stackfold.errors import SubmissionError


def read_text(path: Path, what: str) -> str:
    """Text of a submission-like file (a UTF-8 BOM is dropped), or a one-line error naming it."""
    path = Path(path)
    if not path.is_file():
        raise SubmissionError(f"{path}: {what} file not found; check the path")
    return decode_utf8(path.read_bytes(), path, SubmissionError)


def _integers(values: pd.Series, source: str, column: str) -> np.ndarray:
    """``values`` as int64; the first that is not an integer is an error naming its line."""
    numbers, bad = parse_integers(values)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise SubmissionError(
            f"{source}, line {first + 2}, column {column}: {values.iloc[first]!r} is not an integer; fix that line"
        )
    return numbers


def parse_submission(text: str, spec: CompetitionSpec, source: str) -> pd.Series:
    """Labels of a submission text keyed by index; format errors name the line."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != spec.submission_header:
        found = lines[0].strip() if lines else "nothing"
        raise SubmissionError(f"{source}, line 1: header must be {spec.submission_header!r}, found {found!r}")
    try:
        frame = pd.read_csv(StringIO(text), index_col=0, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as e:
        raise SubmissionError(f"{source}: not a valid CSV ({' '.join(str(e).split())}); fix that line") from e
    index = _integers(frame.index.to_series(), source, "index")
    labels = pd.Series(_integers(frame[spec.label_column], source, spec.label_column), index=pd.Index(index))
    duplicated = np.flatnonzero(labels.index.duplicated())
    if len(duplicated):
        raise SubmissionError(
            f"{source}, line {duplicated[0] + 2}: index {labels.index[duplicated[0]]} appears twice; "
            "keep one prediction per row"
        )
    unknown = np.flatnonzero(~np.isin(labels.to_numpy(), spec.classes))
    if len(unknown):
        raise SubmissionError(
            f"{source}, line {unknown[0] + 2}, column {spec.label_column}: "
            f"{labels.iloc[unknown[0]]} is not one of the {spec.n_classes} classes of {spec.name}; predict one of them"
        )
    return labels


def _check_index(labels: pd.Series, expected: pd.Index, source: str, against: str) -> None:
    missing = expected.difference(labels.index, sort=False)
    if len(missing):
        raise SubmissionError(
            f"{source}: index {missing[0]} of {against} has no prediction ({len(missing)} missing); "
            "add a line for every row"
        )
    extra = labels.index.difference(expected, sort=False)
    if len(extra):
        line = int(labels.index.get_loc(extra[0])) + 2
        raise SubmissionError(
            f"{source}, line {line}: index {extra[0]} is not in {against} ({len(extra)} extra); remove those lines"
        )


def check_submission(
    text: str, spec: CompetitionSpec, test_index: pd.Index, source: str, full_ids: pd.Index | None = None,
    against: str = "the test file",
) -> pd.Series:
    """Parse ``text`` and check it answers exactly the rows of ``test_index`` (named ``against`` in errors)."""
    labels = parse_submission(text, spec, source)
    _check_index(labels, test_index, source, against)
    if full_ids is not None:
        _check_index(labels, full_ids, source, "the full test id list")
    return labels


def validate_submission(
    path: Path, spec: CompetitionSpec, test_index: pd.Index, full_ids: pd.Index | None = None
) -> pd.Series:
    """Read and check a submission file on disk."""
    return check_submission(read_text(path, "submission"), spec, test_index, str(path), full_ids)


def read_id_list(path: Path) -> pd.Index:
    """The index column of an id list such as ``reference/test_ids.csv``."""
    text = read_text(path, "id list")
    try:
        frame = pd.read_csv(StringIO(text), index_col=0, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as e:  # EmptyDataError is a ValueError
        raise SubmissionError(f"{path}: not a valid CSV ({' '.join(str(e).split())}); fix the id list") from e
    return pd.Index(_integers(frame.index.to_series(), str(path), "index"))
