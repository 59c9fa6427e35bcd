"""How two submissions of the same test rows differ: how many predictions changed, per class, and
(given the true labels) how many of the changes were right."""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from stackfold.competition.spec import CompetitionSpec
from stackfold.errors import SubmissionError
from stackfold.submissions.validate import check_submission, parse_submission, read_text


@dataclass(frozen=True)
class SubmissionDiff:
    """``per_class``: for each class, rows predicted as it in A and in B, and changed rows leaving or reaching it.

    With a truth file, ``right_a`` / ``right_b`` count the changed rows each submission gets right.
    """

    rows: int
    changed: int
    per_class: pd.DataFrame
    right_a: int | None = None
    right_b: int | None = None


def diff_submissions(a: Path, b: Path, spec: CompetitionSpec, truth: Path | None = None) -> SubmissionDiff:
    """Compare submissions ``a`` and ``b``, which must answer the same test rows (one line otherwise)."""
    labels_a = parse_submission(read_text(a, "submission"), spec, str(a))
    if labels_a.empty:
        raise SubmissionError(f"{a}, line 2: no rows after the header; nothing to compare")
    labels_b = check_submission(read_text(b, "submission"), spec, labels_a.index, str(b), against=str(a))
    labels_b = labels_b.loc[labels_a.index]
    changed = labels_a != labels_b
    per_class = pd.DataFrame({
        "in_a": labels_a.value_counts(),
        "in_b": labels_b.value_counts(),
        "left": labels_a[changed].value_counts(),
        "reached": labels_b[changed].value_counts(),
    }).reindex(spec.classes).fillna(0).astype(int)
    per_class.index.name = spec.label_column
    per_class = per_class[(per_class["left"] > 0) | (per_class["reached"] > 0)]
    if truth is None:
        return SubmissionDiff(len(labels_a), int(changed.sum()), per_class)
    true = check_submission(read_text(truth, "truth"), spec, labels_a.index, str(truth), against=str(a))
    true = true.loc[labels_a.index][changed]
    return SubmissionDiff(len(labels_a), int(changed.sum()), per_class,
                          int((labels_a[changed] == true).sum()), int((labels_b[changed] == true).sum()))
