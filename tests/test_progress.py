"""Progress bars (hidden inside ``no_bars``, a Dask task, in that thread only), the run's pace, ETA and step timings."""

import gc
import threading
import time

import numpy as np
import pytest

from stackfold.progress import ETA_PRIOR_SECONDS, Cost, Pace, PeakMemory, Step, no_bars, track


def test_no_bars_hides_the_bars_of_its_thread_only(capsys):
    shown: list[int] = []
    with no_bars():
        assert list(track(range(3), "hidden bar")) == [0, 1, 2]
        other = threading.Thread(target=lambda: shown.extend(track(range(2), "other thread's bar")))
        other.start()
        other.join()
    assert list(track(range(1), "bar after the block")) == [0]
    err = capsys.readouterr().err
    assert shown == [0, 1]
    assert "hidden bar" not in err and "other thread's bar" in err and "bar after the block" in err


def test_a_loop_left_early_leaves_no_bar_behind(capsys):
    """A track() generator abandoned mid-loop (an error in the loop's body) is closed whenever it is collected,
    perhaps minutes later under someone else's output: its bar must not print then."""
    items = track(range(300), "abandoned bar")
    next(items)
    capsys.readouterr()
    del items
    gc.collect()
    assert "abandoned bar" not in capsys.readouterr().err
    assert list(track(range(2), "next bar")) == [0, 1]
    assert "next bar" in capsys.readouterr().err

def test_pace_eta_rescales_the_steps_left_by_the_pace_so_far(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(time, "perf_counter", lambda: clock[0])
    pace = Pace({("view", "text"): 10.0, ("base", "logreg"): 100.0, ("base", "cached"): 50.0})
    assert pace.eta() is None and pace.status() == "step 1/3, run 0:00:00"  # nothing measured yet
    pace.skip("base", "cached")  # its result was saved: no time left for it
    with pace.step("view", "text"):
        clock[0] += 70.0  # 7x slower than the reference machine
    rate = (70 + ETA_PRIOR_SECONDS) / (10 + ETA_PRIOR_SECONDS)
    assert pace.rate() == pytest.approx(rate)
    assert pace.eta() == pytest.approx(rate * 100)
    assert pace.status().startswith("step 3/3, run 0:01:10, about 0:03:05 left")
    with pace.step("base", "logreg"):
        clock[0] += 200.0
    assert pace.eta() == 0.0
    step = pace.steps[0]
    assert (step.kind, step.name, step.started_s, step.seconds, step.expected_s, step.eta_s) == \
        ("view", "text", 0.0, 70.0, 10.0, None)
    assert pace.steps[1].eta_s == pytest.approx(rate * 100) and pace.steps[1].started_s == 70.0


def test_pace_records_unplanned_steps_and_hands_every_step_to_its_recorder():
    pace = Pace()
    with pace.step("data", "check"):
        pass
    received: list[Step] = []
    pace.record_to(received.append)  # the steps so far, then each new one
    with pace.step("leaderboard", "leaderboard"):
        pass
    assert [(s.kind, s.name, s.expected_s) for s in received] == [("data", "check", 0.0), ("leaderboard", "leaderboard", 0.0)]


def test_a_failed_step_is_not_recorded():
    pace = Pace({("base", "logreg"): 10.0})
    with pytest.raises(RuntimeError), pace.step("base", "logreg"):
        raise RuntimeError("fold 2 failed")
    assert pace.steps == [] and pace.eta() is None


def test_peak_memory_sees_an_allocation_of_the_step():
    memory = PeakMemory()
    before = memory.peak_bytes()
    block = np.ones(64 * 1024 * 1024 // 8)  # 64 MiB, touched
    assert memory.peak_bytes() >= before + 60 * 1024 * 1024 or not memory.resettable
    del block


@pytest.mark.parametrize("n, scale, expected", [(84_916, 1.0, 30.0), (21_229, 1.0, 7.5), (84_916, 0.5, 15.0)])
def test_cost_grows_with_rows(n, scale, expected):
    assert Cost(30.0).at(n, scale) == pytest.approx(expected)
    assert Cost(30.0, exponent=2.0).at(42_458) == pytest.approx(7.5)
