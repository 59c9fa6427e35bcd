"""stackfold: stacked out-of-fold ensembles for multimodal product classification challenges.

The Python API (:mod:`stackfold.api`)::

    import stackfold
    stackfold.demo_data("demo/data", products=1500)
    run = stackfold.run("demo/data", "demo/run", images=False)     # or stackfold.open_run("demo/run")
    run.leaderboard(); run.oof("logreg"); run.test_proba("mean")
    run.predict("new/data").write("submission.csv")
    run.report()
    stackfold.tune_stacker("demo/run", "lgbm"); stackfold.explain_stacker("demo/run")
    stackfold.compare(["demo/run", "demo/other-run"])
    stackfold.check_shift("demo/data", images=False).overall.auc

Every error a user can cause is a :class:`StackfoldError` (:mod:`stackfold.errors`), re-exported here with its
subclasses: ``except stackfold.RunFolderError``.
"""

import os

# How long an idle OpenMP thread (libgomp: LightGBM, XGBoost, scikit-learn) spins before it
# sleeps. Measured with the LightGBM stacker (5,000 x 81, 27 classes, 2 threads, 2 cores):
# libgomp's default (300,000) took 0.8 s idle but up to 163 s with both cores busy; passive
# waiting (0) took 1.5-7 s busy and 5.5 s idle; 1,000 took 0.8 s idle and 2.0 s busy.
# A user's own setting wins.
os.environ.setdefault("GOMP_SPINCOUNT", "1000")

from stackfold.api import (  # noqa: E402  (after the OpenMP setting)
    Run, check_shift, compare, demo_data, explain_stacker, open_run, run, tune_stacker,
)
from stackfold.errors import (  # noqa: E402
    ClusterError, ConfigError, DataError, RunFolderError, RunFolderLockedError, RunFolderMismatchError,
    StackfoldError, SubmissionError,
)
from stackfold.version import __version__  # noqa: E402

__all__ = [
    "ClusterError", "ConfigError", "DataError", "Run", "RunFolderError", "RunFolderLockedError",
    "RunFolderMismatchError", "StackfoldError", "SubmissionError", "__version__", "check_shift", "compare", "demo_data",
    "explain_stacker", "open_run", "run", "tune_stacker",
]
