"""The TensorFlow runtime every net shares, feature extractors and models alike: quiet, thread-bounded, seeded.

TensorFlow is imported only when a net is built (the import alone costs ~5 s).
"""

import logging
import os
from types import ModuleType


def keras(n_threads: int, seed: int) -> ModuleType:
    """The keras module, with TensorFlow held to ``n_threads`` and every random source seeded.

    Op determinism (and oneDNN's reordered kernels off) makes the same seed give the same
    weights, at a small cost in speed. TensorFlow's Python warnings are silenced.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras as keras_module
    import tensorflow as tf

    if getattr(tf, "_stackfold_threads", None) is None:
        # every fold builds new nets, whose first predictions TensorFlow reports as "retracing"
        tf.get_logger().setLevel(logging.ERROR)
        tf.config.threading.set_intra_op_parallelism_threads(n_threads)
        tf.config.threading.set_inter_op_parallelism_threads(n_threads)
        tf.config.experimental.enable_op_determinism()
        tf._stackfold_threads = n_threads  # thread pools are fixed once TensorFlow runs: later calls cannot change them
    keras_module.utils.set_random_seed(seed)
    return keras_module
