"""Progress bars: hidden inside ``no_bars`` (a Dask task), in that thread only."""

import threading

from stackfold.progress import no_bars, track


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
