"""A keras feature network run by LiteRT (TensorFlow Lite) with its XNNPACK CPU kernels.

Extraction only runs the network forward, which LiteRT does in about half the time keras takes
on 2 cores: EfficientNet-Lite0, 64 images of 224 px, 55.7 images/s against 25.7 in one run of
``bench/efficientnet_speed.py`` (the network was designed for it). The keras network is converted
once per process (TensorFlow's converter, offline, ~10 s) and its features match keras's
within ~1e-5. XNNPACK picks its kernels for the CPU it runs on (AVX-512, AVX2, ...), like
TensorFlow's oneDNN: the features are the same bytes run after run on one machine, and equal
up to float rounding on another CPU.
"""

import contextlib
import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from stackfold.errors import ConfigError

CHUNK = 8
"""Images per interpreter call: its input keeps this shape; a last, shorter chunk is padded with zeros."""


@contextmanager
def _silenced() -> Iterator[None]:
    """Standard output and error sent to /dev/null at the file-descriptor level: the converter prints where it
    saved its temporary model and every captured tensor, and LiteRT's C++ runtime that it made its XNNPACK
    delegate. Errors still arrive, as Python exceptions."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(fd) for fd in (1, 2)]
    try:
        with open(os.devnull, "wb") as devnull:
            for fd in (1, 2):
                os.dup2(devnull.fileno(), fd)
            yield
    finally:
        for fd, copy in zip((1, 2), saved):
            os.dup2(copy, fd)
            os.close(copy)


def convert(model: Any) -> bytes:
    """A keras model (one input, one output) as a LiteRT flatbuffer (TensorFlow's converter, offline)."""
    import tensorflow as tf

    with _silenced(), contextlib.redirect_stdout(io.StringIO()):
        return tf.lite.TFLiteConverter.from_keras_model(model).convert()


class LiteNetwork:
    """A converted network (:func:`convert`) run by LiteRT's interpreter on ``n_threads`` threads.

    Not picklable: a copy sent elsewhere (a Dask worker) is built there from the flatbuffer.
    """

    def __init__(self, content: bytes, n_threads: int):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as e:
            raise ConfigError("LiteRT is missing: pip install ai-edge-litert") from e
        with _silenced():
            self.interpreter = Interpreter(model_content=content, num_threads=n_threads)
            self.interpreter.allocate_tensors()  # where the delegate is made
        details = self.interpreter.get_input_details()[0]
        self.input, self.input_shape = details["index"], tuple(int(n) for n in details["shape"][1:])
        self.output = self.interpreter.get_output_details()[0]["index"]
        self.interpreter.resize_tensor_input(self.input, [CHUNK, *self.input_shape])
        self.interpreter.allocate_tensors()
        self.output_shape = tuple(self.interpreter.get_tensor(self.output).shape[1:])

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        """The network's float32 outputs for ``inputs`` of its input shape, one row each."""
        outputs = [np.empty((0, *self.output_shape), dtype=np.float32)]
        chunk = np.zeros((CHUNK, *self.input_shape), dtype=np.float32)
        for start in range(0, len(inputs), CHUNK):
            part = inputs[start: start + CHUNK]
            chunk[: len(part)] = part
            chunk[len(part):] = 0
            self.interpreter.set_tensor(self.input, chunk)
            self.interpreter.invoke()
            outputs.append(self.interpreter.get_tensor(self.output)[: len(part)].copy())
        return np.concatenate(outputs)
