"""`stackfold diff`: what changed between two submissions of the same rows, and which side the changes favour."""

import pytest

from stackfold.competition.challenges import rakuten
from stackfold.errors import SubmissionError
from stackfold.submissions import diff_submissions

IDS = [84916, 84917, 84918, 84919]


def _submission(path, labels, ids=IDS):
    path.write_text(",prdtypecode\n" + "".join(f"{i},{c}\n" for i, c in zip(ids, labels)))
    return path


def test_counts_changes_per_class_and_which_side_is_right(tmp_path):
    a = _submission(tmp_path / "a.csv", [10, 10, 40, 50])
    b = _submission(tmp_path / "b.csv", [10, 40, 40, 10])
    truth = _submission(tmp_path / "truth.csv", [10, 40, 2583, 50])
    result = diff_submissions(a, b, rakuten(), truth)
    assert (result.rows, result.changed, result.right_a, result.right_b) == (4, 2, 1, 1)
    assert result.per_class.to_dict("index") == {
        10: {"in_a": 2, "in_b": 2, "left": 1, "reached": 1},
        40: {"in_a": 1, "in_b": 2, "left": 0, "reached": 1},
        50: {"in_a": 1, "in_b": 0, "left": 1, "reached": 0},
    }


def test_the_cli_prints_one_line_summary_and_the_table(tmp_path, run_cli):
    a = _submission(tmp_path / "a.csv", [10, 10, 40, 50])
    b = _submission(tmp_path / "b.csv", [10, 40, 40, 50])
    truth = _submission(tmp_path / "truth.csv", [10, 40, 40, 50])
    code, out, _ = run_cli("diff", a, b, "--truth", truth)
    assert code == 0 and out.startswith("1 of 4 predictions changed (25.0%); of the changed rows A is right on 0, "
                                        "B on 1 (B +1)")
    code, out, _ = run_cli("diff", a, a)
    assert code == 0 and out.strip() == "0 of 4 predictions changed (0.0%)"


@pytest.mark.parametrize(("b_ids", "b_labels", "match"), [
    (IDS[:3], [10, 10, 40], r"b.csv: index 84919 of .*a.csv has no prediction"),
    ([*IDS[:3], 99], [10, 10, 40, 50], r"b.csv: index 84919 of .*a.csv has no prediction"),
    (IDS, [10, 10, 40, 7], r"b.csv.*7"),
])
def test_submissions_of_other_rows_are_refused_in_one_line(b_ids, b_labels, match, tmp_path):
    a = _submission(tmp_path / "a.csv", [10, 10, 40, 50])
    b = _submission(tmp_path / "b.csv", b_labels, b_ids)
    with pytest.raises(SubmissionError, match=match) as info:
        diff_submissions(a, b, rakuten())
    assert "\n" not in str(info.value)


def test_an_empty_first_submission_is_one_line(tmp_path):
    a = tmp_path / "a.csv"
    a.write_text(",prdtypecode\n")
    with pytest.raises(SubmissionError, match=r"a.csv, line 2: no rows"):
        diff_submissions(a, _submission(tmp_path / "b.csv", [10, 10, 40, 50]), rakuten())
