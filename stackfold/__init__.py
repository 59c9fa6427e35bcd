"""stackfold: stacked out-of-fold ensembles for multimodal product classification challenges."""

import os

# OpenMP threads that spin while waiting made LightGBM 8-20x slower with 2 threads on a busy
# 2-core machine; passive waiting costs nothing when the machine is idle. A user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
