"""Check a submission against the challenge format and the test set it answers."""

from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd

from stackfold.competition.spec import CompetitionSpec
from stackfold.errors import SubmissionError


def read_text(path: Path, what: str) -> str:
    """Text of a submission-like file, or a one-line error naming it."""
    path = Path(path)
    if not path.is_file():
        raise SubmissionError(f"{path}: {what} file not found")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise SubmissionError(f"{path}: not valid UTF-8 ({e.reason}); re-save the file as UTF-8") from e


def parse_submission(text: str, spec: CompetitionSpec, source: str) -> pd.Series:
    """Labels of a submission text keyed by index; format errors name the line."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != spec.submission_header:
        found = lines[0].strip() if lines else "nothing"
        raise SubmissionError(f"{source}, line 1: header must be {spec.submission_header!r}, found {found!r}")
    try:
        frame = pd.read_csv(StringIO(text), index_col=0, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as e:
        raise SubmissionError(f"{source}: not a valid CSV ({str(e).strip()})") from e
    for name, values in (("index", frame.index.to_series()), (spec.label_column, frame[spec.label_column])):
        numbers = pd.to_numeric(values, errors="coerce")
        bad = np.flatnonzero(numbers.isna().to_numpy() | (numbers != np.floor(numbers)).to_numpy())
        if len(bad):
            raise SubmissionError(
                f"{source}, line {bad[0] + 2}, column {name}: {values.iloc[bad[0]]!r} is not an integer"
            )
    labels = pd.Series(
        pd.to_numeric(frame[spec.label_column]).astype(np.int64).to_numpy(),
        index=pd.Index(pd.to_numeric(frame.index).astype(np.int64)),
    )
    duplicated = np.flatnonzero(labels.index.duplicated())
    if len(duplicated):
        raise SubmissionError(
            f"{source}, line {duplicated[0] + 2}: index {labels.index[duplicated[0]]} appears twice"
        )
    unknown = np.flatnonzero(~np.isin(labels.to_numpy(), spec.classes))
    if len(unknown):
        raise SubmissionError(
            f"{source}, line {unknown[0] + 2}, column {spec.label_column}: "
            f"{labels.iloc[unknown[0]]} is not one of the {spec.n_classes} classes of {spec.name}"
        )
    return labels


def _check_index(labels: pd.Series, expected: pd.Index, source: str, against: str) -> None:
    missing = expected.difference(labels.index, sort=False)
    if len(missing):
        raise SubmissionError(
            f"{source}: index {missing[0]} of {against} has no prediction ({len(missing)} missing)"
        )
    extra = labels.index.difference(expected, sort=False)
    if len(extra):
        line = int(labels.index.get_loc(extra[0])) + 2
        raise SubmissionError(f"{source}, line {line}: index {extra[0]} is not in {against} ({len(extra)} extra)")


def check_submission(
    text: str, spec: CompetitionSpec, test_index: pd.Index, source: str, full_ids: pd.Index | None = None
) -> pd.Series:
    """Parse ``text`` and check it answers exactly the test rows (and ``full_ids`` when given)."""
    labels = parse_submission(text, spec, source)
    _check_index(labels, test_index, source, "the test file")
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
    frame = pd.read_csv(StringIO(read_text(path, "id list")), index_col=0)
    return pd.Index(frame.index.astype(np.int64))
