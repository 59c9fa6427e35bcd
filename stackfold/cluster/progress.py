"""The terminal view of a cluster run: one bar of finished fold tasks per model, and what the cluster is doing."""

import threading
from typing import TYPE_CHECKING

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from stackfold.progress import console

if TYPE_CHECKING:
    from distributed import Client, Future

POLL_S = 1.0


class ClusterProgress:
    """Bars of done / total fold tasks per model, and a line of tasks running and failed on the cluster.

    The line is refreshed every second from the scheduler (a thread polls it), so a long fold
    shows as running rather than as a frozen bar.
    """

    def __init__(self, client: "Client", totals: dict[str, int]):
        self.client = client
        self.bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                             TimeRemainingColumn(), console=console)
        self.summary = self.bars.add_task("cluster: fold tasks saved", total=sum(totals.values()))
        self.models = {name: self.bars.add_task(f"  {name}: fold tasks", total=n) for name, n in totals.items()}
        self.futures: dict[Future, object] = {}
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> "ClusterProgress":
        self.bars.__enter__()
        self._poller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._poller.join()
        self.bars.__exit__(*exc)

    def watch(self, futures: dict["Future", object]) -> None:
        """The tasks whose failures the summary line counts."""
        self.futures = dict(futures)

    def finished(self, model: str) -> None:
        self.bars.advance(self.models[model])
        self.bars.advance(self.summary)

    def _poll(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                running = sum(len(keys) for keys in self.client.processing().values())
            except Exception:  # a lost scheduler is reported by the run itself, not by this display
                continue
            failed = sum(f.status == "error" for f in list(self.futures))
            workers = len(self.client.scheduler_info(n_workers=-1).get("workers", {}))
            self.bars.update(self.summary, description=(
                f"cluster: fold tasks saved; {running} running, {failed} failed, {workers} workers"))
