"""A run sized to a time limit: which base models and stackers fit, planned before the first one and re-planned
before each, so a model that would overrun is skipped, never killed half-way.

Each step's expected seconds are its :class:`~stackfold.progress.Cost` at this data's rows and classes (a model's
and the views it needs that are not cached yet; a stacker's over the base models planned; a reused result: none),
times how fast this machine runs: first a short calibration (:mod:`.speed`), then the run's own pace. Candidates
are taken in the order of :data:`~stackfold.config.presets.PRIORITY` while the total fits; a run keeps at least
one base model. What was left out, and why, goes to the run folder (``plan.json``), the leaderboard and the report.
"""

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from stackfold.config.presets import priority_order
from stackfold.progress import Pace, clock, console

Expected = Callable[[list[str]], dict[str, float]]
"""``expected(selected)``: reference seconds of each step of a selection of base models and stackers, by name, with
the fixed steps (views are charged to the first model reading them; the leaderboard, the report and the SHAP pass
under their own names)."""


@dataclass(frozen=True)
class Decision:
    """One base model or stacker of the plan: ``run``, ``reused`` (saved result), ``left out`` (the plan) or
    ``skipped`` (during the run, behind the plan), with why."""

    name: str
    level: str
    decision: str
    expected_s: float
    reason: str = ""


class Budget:
    """The time limit of one run: the plan, and at each step whether it still fits.

    ``levels`` maps every candidate (the configuration's base models and stackers) to its level, ``expected``
    prices a selection (:data:`Expected`), ``speed`` is the calibrated factor of this machine, ``pace`` the run's;
    ``reused`` candidates have saved results, ``external`` says the run stacks models trained elsewhere.
    """

    def __init__(self, limit_s: float, levels: dict[str, str], expected: Expected, speed: float, pace: Pace,
                 reused: set[str], external: bool = False):
        self.limit_s, self.levels, self.expected, self.speed, self.pace = limit_s, levels, expected, speed, pace
        self.reused, self.external = reused, external
        self.order = priority_order(tuple(levels))
        self.decisions: dict[str, Decision] = {}
        self.selected = self._choose()
        self.predicted_s = self.elapsed() + self.speed * sum(self.expected(self.selected).values())

    def elapsed(self) -> float:
        return time.perf_counter() - self.pace.start

    def _cost(self, selection: list[str]) -> float:
        return self.speed * sum(self.expected(selection).values())

    def _choose(self) -> list[str]:
        """The candidates in priority order while the selection's total fits the time left. A stacker waits for a
        base model (one trained elsewhere counts); the first base model is taken whatever it costs."""
        left = self.limit_s - self.elapsed()
        selected: list[str] = []
        waiting: list[str] = []
        for name in self.order:
            if self.levels[name] == "stack" and not (self.external or self._bases(selected)):
                waiting.append(name)
                continue
            batch, waiting = ([name, *waiting], []) if self.levels[name] == "base" else ([name], waiting)
            for candidate in batch:
                trial = [*selected, candidate]
                needs, first = self._cost(trial), self.levels[candidate] == "base" and not self._bases(selected)
                if needs <= left or first:
                    selected = trial
                    over = "" if needs <= left else f"over the limit ({clock(needs)} needed): a run needs a model"
                    self._decide(candidate, "reused" if candidate in self.reused else "run", trial, over)
                else:
                    self._decide(candidate, "left out", trial, f"{clock(needs - self._cost(selected))} expected, "
                                 f"{clock(max(left - self._cost(selected), 0))} of the limit left for it")
        for name in waiting:
            self._decide(name, "left out", [name], "no base model to stack")
        return [name for name in self.order if name in selected]

    def _bases(self, selection: list[str]) -> list[str]:
        return [s for s in selection if self.levels[s] == "base"]

    def _decide(self, name: str, decision: str, selection: list[str], reason: str) -> None:
        seconds = self.speed * self.expected(selection).get(name, 0.0)
        self.decisions[name] = Decision(name, self.levels[name], decision, round(seconds, 1), reason)

    def admit(self, name: str) -> bool:
        """Whether ``name`` still fits, about to start: the time left against the work planned and not done, at this
        run's pace so far. Behind, the lowest-priority steps not started are skipped first (possibly ``name``)."""
        while name in self.selected:
            done = {step.name for step in self.pace.steps if step.kind in ("base", "stack")}
            remaining = [s for s in self.selected if s not in done]
            work = self.pace.rate() * sum(seconds for step, seconds in self.expected(self.selected).items()
                                          if step in remaining or step not in self.levels)
            left = self.limit_s - self.elapsed()
            droppable = [s for s in remaining if s not in self.reused and not self._last_base(s)]
            if work <= left or not droppable:
                return True
            last = max(droppable, key=self.order.index)
            expected = self.pace.rate() * self.expected(self.selected).get(last, 0.0)
            self.selected.remove(last)
            self.decisions[last] = Decision(last, self.levels[last], "skipped", round(expected, 1),
                                            f"behind the plan at {clock(self.elapsed())}: {clock(work)} of work "
                                            f"left for {clock(max(left, 0))}")
            console.print(f"time limit: skipping {last} ({self.decisions[last].reason})", soft_wrap=True)
        return False

    def _last_base(self, name: str) -> bool:
        """Whether ``name`` is the only base model left in the selection (a run keeps one)."""
        return self.levels[name] == "base" and self._bases(self.selected) == [name]

    def describe(self) -> list[str]:
        """The plan as lines: what runs, what was left out and why, the expected finish."""
        finish = time.strftime("%H:%M", time.localtime(time.time() + self.predicted_s - self.elapsed()))
        lines = [f"time limit {clock(self.limit_s)}: this machine runs at {1 / self.speed:.2f}x the reference; "
                 f"expected {clock(self.predicted_s)} in all, finishing about {finish}"]
        for d in sorted(self.decisions.values(), key=lambda d: self.order.index(d.name)):
            why = f": {d.reason}" if d.reason else ""
            lines.append(f"  {d.decision:<8} {d.level} {d.name} ({clock(d.expected_s)}){why}")
        return lines

    def record(self) -> dict:
        """What ``plan.json`` holds: the limit, the calibration, the predicted total and every decision."""
        return {"time_limit_s": self.limit_s, "speed": round(self.speed, 3), "predicted_s": round(self.predicted_s, 1),
                "decisions": [asdict(d) for d in self.decisions.values()]}

    def left_out(self) -> list[Decision]:
        """The candidates the plan left out or the run skipped, in priority order."""
        return [d for d in sorted(self.decisions.values(), key=lambda d: self.order.index(d.name))
                if d.decision in ("left out", "skipped")]
