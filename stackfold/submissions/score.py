"""Score a submission file against a file of the true labels of the same ids."""

from pathlib import Path

import pandas as pd

from stackfold.competition.metric import classification_scores, log_loss
from stackfold.competition.spec import CompetitionSpec
from stackfold.errors import SubmissionError
from stackfold.submissions.validate import check_submission, parse_labels, parse_probabilities, read_text


def score_submission(submission: Path, truth: Path, spec: CompetitionSpec) -> dict[str, float]:
    """Weighted F1, accuracy and macro F1 of ``submission`` against ``truth`` (``id,label``: the challenge's label
    column), and the log loss of a probability submission; ``rows``: the rows scored."""
    truth_labels = parse_labels(read_text(truth, "truth"), spec, str(truth))
    if truth_labels.empty:
        raise SubmissionError(f"{truth}, line 2: no rows after the header; the truth file needs one label per row")
    text = read_text(submission, "submission")
    predicted = check_submission(text, spec, truth_labels.index, str(submission), against="the truth file")
    scores = classification_scores(truth_labels.to_numpy(), predicted.loc[truth_labels.index].to_numpy())
    if spec.submission == "probabilities":
        proba = parse_probabilities(text, spec, str(submission)).loc[truth_labels.index]
        positions = pd.Index(spec.classes).get_indexer(truth_labels.to_numpy())
        scores["log_loss"] = log_loss(positions, proba.to_numpy())
    return {**scores, "rows": len(truth_labels)}
