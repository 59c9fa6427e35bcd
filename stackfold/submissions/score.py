"""Score a submission file against a label file of the same index."""

from pathlib import Path

from stackfold.competition.metric import classification_scores
from stackfold.competition.spec import CompetitionSpec
from stackfold.errors import SubmissionError
from stackfold.submissions.validate import check_submission, parse_submission, read_text


def score_submission(submission: Path, truth: Path, spec: CompetitionSpec) -> dict[str, float]:
    """Weighted F1, accuracy and macro F1 of ``submission`` against ``truth`` (same ``,prdtypecode`` format)."""
    truth_labels = parse_submission(read_text(truth, "truth"), spec, str(truth))
    if truth_labels.empty:
        raise SubmissionError(f"{truth}, line 2: no rows after the header; the truth file needs one label per row")
    predicted = check_submission(
        read_text(submission, "submission"), spec, truth_labels.index, str(submission), against="the truth file"
    )
    scores = classification_scores(truth_labels.to_numpy(), predicted.loc[truth_labels.index].to_numpy())
    return {**scores, "rows": len(truth_labels)}
