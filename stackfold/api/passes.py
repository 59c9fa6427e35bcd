"""What :func:`stackfold.run` does around the pipeline's one pass: ``tune_trials`` (the ``best`` preset) tunes the
``decide_on`` stacker before it is fitted, through ``stackfold tune``'s own study; ``shift = true`` ends the run
with the train/test shift check."""

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stackfold.config import RunConfig
    from stackfold.pipeline import FinalStep

TUNING_SHARE = 0.6
"""With ``tune_trials`` and a time limit: the share of the limit the first pass (base models, the other stackers)
is planned in; tuning then gets half of what is left, the tuned stacker and the report the rest."""


def tune_first(data: Path, out: Path, settings: "RunConfig", force: bool) -> "RunConfig":
    """``tune_trials``: run every base model and the other stackers, tune the ``decide_on`` stacker over their OOF
    matrix (as ``stackfold tune``), and return the configuration of the last pass, which fits the tuned stacker
    (everything else reused), within what is left of a time limit."""
    import time
    from dataclasses import replace

    from stackfold.pipeline import run_pipeline
    from stackfold.progress import console
    from stackfold.tune import tune_stacker as tune_here

    started = time.perf_counter()
    others = tuple(s for s in settings.stackers if s != settings.decide_on)
    limit = settings.time_limit
    first = replace(settings, stackers=others, decisions=(), tune_trials=0, time_limit=limit and limit * TUNING_SHARE)
    run_pipeline(data, out, first, force=force)
    left = None if limit is None else limit - (time.perf_counter() - started)
    if left is not None and left <= 0:
        console.print(f"time limit: no time left to tune or fit {settings.decide_on}", soft_wrap=True)
        return replace(first, time_limit=1.0)
    console.print(f"tuning {settings.decide_on}: {settings.tune_trials} trials"
                  + ("" if left is None else f" or {left / 2:.0f} s, whichever ends first"), soft_wrap=True)
    tune_here(out, settings.decide_on, settings.tune_trials, timeout=None if left is None else left / 2)
    left = None if limit is None else limit - (time.perf_counter() - started)
    return replace(settings, time_limit=None if left is None else max(left, 1.0))


def shift_steps(data: Path, out: Path, settings: "RunConfig") -> list["FinalStep"]:
    """The train/test shift check ending a run configured with ``shift = true``, before the report that shows it."""
    if not settings.shift:
        return []
    from stackfold.pipeline import FinalStep
    from stackfold.shift.check import SHIFT_COST, shift_data

    return [FinalStep("shift", "shift", SHIFT_COST, lambda: shift_data(data, settings, out, lock=False))]
