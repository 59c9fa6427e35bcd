"""How two submissions of the same test rows differ: how many predictions changed, per class, and
(given the true labels) how many of the changes were right; for probability submissions, each one's
log loss too (lower is better)."""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from stackfold.competition.metric import log_loss
from stackfold.competition.spec import CompetitionSpec
from stackfold.errors import SubmissionError
from stackfold.submissions.validate import (
    check_submission, parse_labels, parse_probabilities, parse_submission, read_text,
)


@dataclass(frozen=True)
class SubmissionDiff:
    """``per_class``: for each class, rows predicted as it in A and in B, and changed rows leaving or reaching it.

    With a truth file, ``right_a`` / ``right_b`` count the changed rows each submission gets right, and for
    probability submissions ``log_loss_a`` / ``log_loss_b`` are their log losses over all rows (lower is better).
    """

    rows: int
    changed: int
    per_class: pd.DataFrame
    right_a: int | None = None
    right_b: int | None = None
    log_loss_a: float | None = None
    log_loss_b: float | None = None


def diff_submissions(a: Path, b: Path, spec: CompetitionSpec, truth: Path | None = None) -> SubmissionDiff:
    """Compare submissions ``a`` and ``b``, which must answer the same test rows (one line otherwise).

    ``truth``: the true labels, a file as ``stackfold score`` reads (``id,label``: the challenge's label column).
    """
    text_a, text_b = read_text(a, "submission"), read_text(b, "submission")
    labels_a = parse_submission(text_a, spec, str(a))
    if labels_a.empty:
        raise SubmissionError(f"{a}, line 2: no rows after the header; nothing to compare")
    labels_b = check_submission(text_b, spec, labels_a.index, str(b), against=str(a))
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
    true = parse_labels(read_text(truth, "truth"), spec, str(truth))
    missing = labels_a.index.difference(true.index, sort=False)
    if len(missing):
        raise SubmissionError(f"{truth}: index {missing[0]} of {a} has no true label ({len(missing)} missing); "
                              "give the truth of every row")
    true = true.loc[labels_a.index]
    losses = [None, None]
    if spec.submission == "probabilities":
        positions = pd.Index(spec.classes).get_indexer(true.to_numpy())
        losses = [log_loss(positions, parse_probabilities(text, spec, str(path)).loc[labels_a.index].to_numpy())
                  for text, path in ((text_a, a), (text_b, b))]
    return SubmissionDiff(len(labels_a), int(changed.sum()), per_class, int((labels_a[changed] == true[changed]).sum()),
                          int((labels_b[changed] == true[changed]).sum()), *losses)
