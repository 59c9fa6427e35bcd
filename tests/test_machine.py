"""A missing requirement (root, a mount, ../shared) skips a test on a workstation and fails it under CI."""

import pytest
from conftest import _shared
from machine import needs_root, unavailable


@pytest.mark.parametrize(("ci", "outcome"), [(None, pytest.skip.Exception), ("true", pytest.fail.Exception)])
@pytest.mark.parametrize("requirement", [
    lambda: unavailable("cannot mount a tmpfs"),
    lambda: needs_root("mounting a tmpfs"),
    lambda: _shared("no-such-sample"),
], ids=["unavailable", "needs_root", "shared"])
def test_missing_requirement_skips_or_fails_under_ci(monkeypatch, ci, outcome, requirement):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    with pytest.raises(outcome, match=r"tmpfs|no-such-sample"):
        requirement()
