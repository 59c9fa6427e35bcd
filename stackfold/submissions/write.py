"""Write a challenge submission: validated in memory first, then written atomically."""

from pathlib import Path

import numpy as np
import pandas as pd

from stackfold.competition.spec import CompetitionSpec
from stackfold.io import write_text_atomic
from stackfold.submissions.validate import check_submission

PROBABILITY_FORMAT = "%.6g"
"""Six significant digits: log loss moves by under 1e-5, and a 13,812-row, 27-class file stays a few MB."""


def submission_text(spec: CompetitionSpec, test_index: pd.Index, labels: np.ndarray,
                    proba: np.ndarray | None = None) -> str:
    """The CSV text of a submission keyed by the test ids: each row's label as the challenge writes it
    (``,prdtypecode``), or with a probability submission ``proba``'s columns under the sample submission's header,
    each row renormalised after rounding."""
    if spec.submission == "probabilities":
        if proba is None:
            raise ValueError(f"{spec.name} submissions hold probabilities: pass proba")
        order = [spec.class_labels.index(label) for label in spec.submission_columns]
        values = np.asarray(proba, dtype=np.float64)[:, order]
        values = values / values.sum(axis=1, keepdims=True)
        frame = pd.DataFrame(values, index=test_index, columns=list(spec.submission_columns))
        return frame.to_csv(index_label=spec.submission_index_name, lineterminator="\n",
                            float_format=PROBABILITY_FORMAT)
    written = np.asarray(spec.class_labels, dtype=object)[pd.Index(spec.classes).get_indexer(labels)]
    if spec.integer_labels:
        written = np.asarray(labels, dtype=np.int64)
    frame = pd.DataFrame({spec.submission_label: written}, index=test_index)
    return frame.to_csv(index_label=spec.submission_index_name, lineterminator="\n")


def write_submission(
    path: Path, spec: CompetitionSpec, test_index: pd.Index, labels: np.ndarray, full_ids: pd.Index | None = None,
    proba: np.ndarray | None = None,
) -> None:
    """Validate then write; an invalid submission raises and leaves no file behind."""
    text = submission_text(spec, test_index, labels, proba)
    check_submission(text, spec, test_index, source=str(path), full_ids=full_ids)
    write_text_atomic(Path(path), text)
