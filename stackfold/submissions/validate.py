"""Check a submission against the challenge format and the test set it answers.

A label submission holds each test row's class as the challenge writes it (an integer code or a
string); a probability submission one column per class under the sample submission's header, each
row's values finite, non-negative and summing to 1. Either parses to each row's class code, so
scores and diffs read both alike.
"""

from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd

from stackfold.competition.csv_files import canonical_integers, decode_utf8, parse_integers
from stackfold.competition.spec import CompetitionSpec
from stackfold.errors import SubmissionError

ROW_SUM_TOLERANCE = 1e-3
"""How far a probability submission's row may sum from 1 (Kaggle renormalises; a larger gap is a mistake)."""


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


def _ids(values: pd.Series, spec: CompetitionSpec, source: str) -> pd.Index:
    """Row ids as the challenge's files give them: integers for an unnamed index (Rakuten) and for ids that are all
    integers, else strings."""
    if not spec.id_column:
        return pd.Index(_integers(values, source, "index"))
    numbers = canonical_integers(values)  # the rule the loader keys the test rows by (csv_files.id_index)
    return pd.Index(numbers if numbers is not None else values.to_numpy(dtype=object))


def _frame(text: str, header: str, source: str) -> pd.DataFrame:
    lines = text.splitlines()
    if not lines or lines[0].strip() != header:
        found = lines[0].strip() if lines else "nothing"
        shown = header if len(header) <= 200 else header[:200] + "..."
        raise SubmissionError(f"{source}, line 1: header must be {shown!r}, found {found[:200]!r}")
    try:
        return pd.read_csv(StringIO(text), index_col=0, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as e:
        raise SubmissionError(f"{source}: not a valid CSV ({' '.join(str(e).split())}); fix that line") from e


def _unique(index: pd.Index, source: str) -> None:
    duplicated = np.flatnonzero(index.duplicated())
    if len(duplicated):
        raise SubmissionError(f"{source}, line {duplicated[0] + 2}: index {index[duplicated[0]]} appears twice; "
                              "keep one prediction per row")


def parse_labels(text: str, spec: CompetitionSpec, source: str, header: str | None = None) -> pd.Series:
    """Class codes of a label file (a label submission, or a truth file) keyed by id; errors name the line.

    ``header``: the first line expected (default: the spec's label header, ``id,label``)."""
    frame = _frame(text, header or spec.label_header, source)
    index = _ids(frame.index.to_series(), spec, source)
    column = frame.columns[0]  # the header names it: the label column, or the sample submission's name for it
    given = frame[column]
    if spec.integer_labels:  # integer labels: their own codes
        codes = _integers(given, source, column)
        unknown = np.flatnonzero(~np.isin(codes, spec.classes))
    else:
        mapped = given.map(spec.label_of)
        unknown = np.flatnonzero(mapped.isna().to_numpy())
        codes = mapped.fillna(-1).to_numpy(dtype=np.int64)
    labels = pd.Series(codes, index=index)
    _unique(labels.index, source)
    if len(unknown):
        shown = codes[unknown[0]] if spec.integer_labels else repr(given.iloc[unknown[0]])
        raise SubmissionError(
            f"{source}, line {unknown[0] + 2}, column {column}: "
            f"{shown} is not one of the {spec.n_classes} classes of {spec.name}; predict one of them"
        )
    return labels


def parse_probabilities(text: str, spec: CompetitionSpec, source: str, any_header: bool = False) -> pd.DataFrame:
    """A probability submission as a frame keyed by id, one column per class code in the spec's order.

    ``any_header``: any name for the id column, and the class columns (named as the challenge names its classes)
    in any order: probabilities made by another tool (``stackfold add-oof``)."""
    if any_header:
        frame = _frame(text, text.splitlines()[0].strip() if text.strip() else "an id, then the classes", source)
        missing = [label for label in spec.class_labels if label not in frame.columns]
        extra = [column for column in frame.columns if column not in spec.class_labels]
        if missing or extra or len(frame.columns) != spec.n_classes:
            problem = f"no column {missing[0]!r}" if missing else f"column {extra[0]!r} is no class of {spec.name}"
            raise SubmissionError(f"{source}, line 1: {problem}; give the id, then one column per class named as "
                                  f"{spec.name} names them ({', '.join(spec.class_labels[:5])}, ...)")
    else:
        frame = _frame(text, spec.submission_header, source)
    index = _ids(frame.index.to_series(), spec, source)
    values = frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        row, column = (int(i[0]) for i in np.nonzero(bad))
        raise SubmissionError(f"{source}, line {row + 2}, column {frame.columns[column]}: "
                              f"{frame.iat[row, column]!r} is not a probability; give a number from 0 to 1")
    sums = values.sum(axis=1)
    off = np.flatnonzero(np.abs(sums - 1) > ROW_SUM_TOLERANCE)
    if len(off):
        raise SubmissionError(f"{source}, line {off[0] + 2}: probabilities sum to {sums[off[0]]:.6g}, not 1; "
                              "normalise each row")
    _unique(index, source)
    order = [list(frame.columns).index(label) for label in spec.class_labels]
    return pd.DataFrame(values[:, order], index=index, columns=list(spec.classes))


def parse_submission(text: str, spec: CompetitionSpec, source: str) -> pd.Series:
    """Each row's class code, keyed by id (a probability submission's most probable class); errors name the line."""
    if spec.submission == "probabilities":
        proba = parse_probabilities(text, spec, source)
        return pd.Series(np.asarray(spec.classes)[proba.to_numpy().argmax(axis=1)], index=proba.index)
    return parse_labels(text, spec, source, spec.submission_header)


def check_index(labels: pd.Series | pd.DataFrame, expected: pd.Index, source: str, against: str) -> None:
    """One line unless ``labels`` has exactly one row for each id of ``expected`` (named ``against``)."""
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
    check_index(labels, test_index, source, against)
    if full_ids is not None:
        check_index(labels, full_ids, source, "the full test id list")
    return labels


def validate_submission(
    path: Path, spec: CompetitionSpec, test_index: pd.Index, full_ids: pd.Index | None = None
) -> pd.Series:
    """Read and check a submission file on disk."""
    return check_submission(read_text(path, "submission"), spec, test_index, str(path), full_ids)


def read_id_list(path: Path, spec: CompetitionSpec) -> pd.Index:
    """The id column of an id list such as ``reference/test_ids.csv`` (its first column)."""
    text = read_text(path, "id list")
    try:
        frame = pd.read_csv(StringIO(text), index_col=0, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as e:  # EmptyDataError is a ValueError
        raise SubmissionError(f"{path}: not a valid CSV ({' '.join(str(e).split())}); fix the id list") from e
    return _ids(frame.index.to_series(), spec, str(path))
