"""Writing, validating, scoring, comparing and registering challenge submissions."""

from stackfold.submissions.diff import SubmissionDiff, diff_submissions
from stackfold.submissions.registry import SubmissionRecord, register_submission
from stackfold.submissions.score import score_submission
from stackfold.submissions.validate import check_submission, read_id_list, validate_submission
from stackfold.submissions.write import submission_text, write_submission

__all__ = [
    "SubmissionDiff",
    "SubmissionRecord",
    "check_submission",
    "diff_submissions",
    "read_id_list",
    "register_submission",
    "score_submission",
    "submission_text",
    "validate_submission",
    "write_submission",
]
