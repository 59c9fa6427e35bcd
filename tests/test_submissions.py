"""Writing, validating and scoring submissions."""

import numpy as np
import pandas as pd
import pytest

from stackfold.competition.challenges import rakuten
from stackfold.errors import SubmissionError
from stackfold.submissions import read_id_list, score_submission, validate_submission, write_submission

SPEC = rakuten()
INDEX = pd.Index([84916, 84917, 84918, 84919])


def test_written_file_has_challenge_format(tmp_path):
    path = tmp_path / "sub.csv"
    write_submission(path, SPEC, INDEX, np.array([10, 2583, 40, 10]))
    assert path.read_text() == ",prdtypecode\n84916,10\n84917,2583\n84918,40\n84919,10\n"
    assert validate_submission(path, SPEC, INDEX).tolist() == [10, 2583, 40, 10]


def test_invalid_submission_leaves_no_file(tmp_path):
    path = tmp_path / "sub.csv"
    with pytest.raises(SubmissionError, match="not one of the 27 classes"):
        write_submission(path, SPEC, INDEX, np.array([10, 2583, 7, 10]))
    assert list(tmp_path.iterdir()) == []


BAD_SUBMISSIONS = [
    ("wrong header", "id,prdtypecode\n84916,10\n", r"line 1: header must be ',prdtypecode'"),
    ("empty file", "", r"line 1: header must be ',prdtypecode', found 'nothing'"),
    ("missing row", ",prdtypecode\n84916,10\n84917,10\n84918,10\n", r"index 84919 of the test file has no prediction \(1 missing\)"),
    ("extra row", ",prdtypecode\n84916,10\n84917,10\n84918,10\n84919,10\n5,10\n", r"line 6: index 5 is not in the test file"),
    ("duplicate row", ",prdtypecode\n84916,10\n84916,10\n84917,10\n84918,10\n84919,10\n", r"line 3: index 84916 appears twice"),
    ("unknown class", ",prdtypecode\n84916,10\n84917,11\n84918,10\n84919,10\n", r"line 3, column prdtypecode: 11 is not one of the 27 classes"),
    ("non-integer label", ",prdtypecode\n84916,10\n84917,ten\n84918,10\n84919,10\n", r"line 3, column prdtypecode: 'ten' is not an integer"),
    ("empty label", ",prdtypecode\n84916,10\n84917,\n84918,10\n84919,10\n", r"line 3, column prdtypecode: '' is not an integer"),
]


@pytest.mark.parametrize("text, pattern", [b[1:] for b in BAD_SUBMISSIONS], ids=[b[0] for b in BAD_SUBMISSIONS])
def test_bad_submissions_are_rejected(tmp_path, text, pattern):
    path = tmp_path / "sub.csv"
    path.write_text(text)
    with pytest.raises(SubmissionError, match=pattern):
        validate_submission(path, SPEC, INDEX)


def test_full_id_list_is_checked(rakuten_sample, tmp_path):
    path = tmp_path / "sub.csv"
    write_submission(path, SPEC, INDEX, np.array([10, 10, 10, 10]))
    full_ids = read_id_list(rakuten_sample / "reference" / "test_ids.csv", rakuten())
    assert len(full_ids) == 13812
    with pytest.raises(SubmissionError, match=r"index 84920 of the full test id list has no prediction \(13808 missing\)"):
        validate_submission(path, SPEC, INDEX, full_ids)


def test_score_matches_sklearn(tmp_path, run_cli):
    truth, sub = tmp_path / "truth.csv", tmp_path / "sub.csv"
    write_submission(truth, SPEC, INDEX, np.array([10, 10, 40, 2583]))
    write_submission(sub, SPEC, INDEX[::-1], np.array([2583, 10, 10, 10]))  # order does not matter
    scores = score_submission(sub, truth, SPEC)
    from sklearn.metrics import f1_score

    expected = f1_score([10, 10, 40, 2583], [10, 10, 10, 2583], average="weighted")
    assert scores["wf1"] == pytest.approx(expected) and scores["accuracy"] == 0.75
    code, out, _ = run_cli("score", sub, "--truth", truth)
    assert code == 0 and f"weighted_f1 {expected:.4f} (higher is better)  accuracy 0.7500" in out


def test_score_cli_error_is_one_line(tmp_path, run_cli):
    code, _, err = run_cli("score", tmp_path / "none.csv", "--truth", tmp_path / "none.csv")
    assert code == 1 and err.strip().count("\n") == 0 and "truth file not found" in err
