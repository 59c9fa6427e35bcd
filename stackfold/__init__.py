"""stackfold: stacked out-of-fold ensembles for multimodal product classification challenges.

The Python API (:mod:`stackfold.api`)::

    import stackfold
    stackfold.demo_data("demo/data", products=1500)
    run = stackfold.run("demo/data", "demo/run", images=False)     # or stackfold.open_run("demo/run")
    run.leaderboard(); run.oof("logreg"); run.test_proba("mean")
    run.predict("new/data").write("submission.csv")
    run.report()
"""

import os

# How long an idle OpenMP thread (libgomp: LightGBM, XGBoost, scikit-learn) spins before it
# sleeps. Measured with the LightGBM stacker (5,000 x 81, 27 classes, 2 threads, 2 cores):
# libgomp's default (300,000) took 0.8 s idle but up to 163 s with both cores busy; passive
# waiting (0) took 1.5-7 s busy and 5.5 s idle; 1,000 took 0.8 s idle and 2.0 s busy.
# A user's own setting wins.
os.environ.setdefault("GOMP_SPINCOUNT", "1000")

from stackfold.api import Run, demo_data, open_run, run  # noqa: E402  (after the OpenMP setting)
from stackfold.version import __version__  # noqa: E402

__all__ = ["Run", "__version__", "demo_data", "open_run", "run"]
