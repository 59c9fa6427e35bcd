"""Write a challenge submission: validated in memory first, then written atomically."""

from pathlib import Path

import numpy as np
import pandas as pd

from stackfold.competition.spec import CompetitionSpec
from stackfold.io import write_text_atomic
from stackfold.submissions.validate import check_submission


def submission_text(spec: CompetitionSpec, test_index: pd.Index, labels: np.ndarray) -> str:
    """The CSV text of a submission (``,prdtypecode`` keyed by the original test index)."""
    frame = pd.DataFrame({spec.label_column: np.asarray(labels, dtype=np.int64)}, index=test_index)
    return frame.to_csv(index_label=spec.submission_index_name, lineterminator="\n")


def write_submission(
    path: Path, spec: CompetitionSpec, test_index: pd.Index, labels: np.ndarray, full_ids: pd.Index | None = None
) -> None:
    """Validate then write; an invalid submission raises and leaves no file behind."""
    text = submission_text(spec, test_index, labels)
    check_submission(text, spec, test_index, source=str(path), full_ids=full_ids)
    write_text_atomic(Path(path), text)
