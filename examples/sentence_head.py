"""An example plug-in model: a small keras head over stackfold's sentence vectors.

Name it in ``run.toml``::

    plugins = ["sentence_head.py"]          # this file, relative to run.toml
    models = ["tfidf_logreg", "sentence_head"]

    [params.sentence_head]                  # optional: its declared parameters
    units = 64

or, from a package on the Python path, ``models = ["my_package.models:SentenceHead"]``. It then runs through the
OOF loop, checkpoints, stackers, the leaderboard and ``stackfold predict`` as a built-in model does.
"""

from typing import Any

import numpy as np

from stackfold.base import BaseModel, Views, count, fraction, keras_runtime, positive


class SentenceHead(BaseModel):
    """Dense ``units`` relu -> dropout -> softmax over the 512-d sentence vectors, early-stopped on a held-out tenth
    of the training rows."""

    name = "sentence_head"
    version = "1"  # change it when this code changes: runs then retrain the model instead of reusing its results
    views = ("sentence",)
    cpu_dispatched = True  # TensorFlow picks its kernels for the CPU: equal across CPUs up to float rounding
    parameters = {"units": count(64), "dropout": fraction(0.2), "epochs": count(30), "patience": count(3, low=0),
                  "learning_rate": positive(1e-3), "batch_size": count(64)}

    def _fit(self, X: Views, y: np.ndarray) -> None:
        keras = keras_runtime(self.n_jobs, self.seed)  # threads and seeds from the run
        features = np.asarray(X["sentence"], dtype=np.float32)
        order = np.random.default_rng(self.seed).permutation(len(y))
        valid, train = order[: max(1, len(y) // 10)], order[max(1, len(y) // 10):]
        self.net_ = self.network(keras, features.shape[1], len(self.classes))
        self.net_.compile(optimizer=keras.optimizers.Adam(self.params["learning_rate"]),
                          loss="sparse_categorical_crossentropy")
        self.net_.fit(features[train], y[train], validation_data=(features[valid], y[valid]),
                      epochs=self.params["epochs"], batch_size=self.params["batch_size"], verbose=0, shuffle=False,
                      callbacks=[keras.callbacks.EarlyStopping(patience=self.params["patience"],
                                                               restore_best_weights=True)])

    def _predict_proba(self, X: Views) -> np.ndarray:
        return self.net_.predict(np.asarray(X["sentence"], dtype=np.float32), verbose=0)

    def network(self, keras: Any, n_inputs: int, n_classes: int) -> Any:
        """The uncompiled net: from a sentence vector to probabilities over all ``n_classes``."""
        return keras.Sequential([
            keras.Input(shape=(n_inputs,)),
            keras.layers.Dense(self.params["units"], activation="relu"),
            keras.layers.Dropout(self.params["dropout"]),
            keras.layers.Dense(n_classes, activation="softmax"),
        ])
