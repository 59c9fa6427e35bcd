"""The published LeNet-like CNN on the raw pixels of each image, streamed from a (memory-mapped) block."""

from types import ModuleType
from typing import Any

from stackfold.core.params import fraction
from stackfold.models.keras_support import KerasImageModel, training_parameters


class CNN(KerasImageModel):
    """Conv 8 3x3 -> pool -> conv 32 5x5 stride 2 -> pool -> dense 512 -> dense 128 -> softmax.

    The layers are the published table's; what is tuned is how it is trained. The input size
    comes from the block (100x100x3 by default); pixels are divided by 255 batch by batch.

    Parameters:
        conv_dropout: share of the convolutional features dropped at each training step, before the dense layers.
        dense_dropout: share of the 512 dense units dropped at each training step.
        learning_rate, batch_size, max_steps_per_epoch, epochs, patience, validation_fraction: see
            :func:`stackfold.models.keras_support.training_parameters`.
    """

    name = "cnn"
    views = ("images",)
    image_view = "images"
    divisor = 255.0
    parameters = {
        "conv_dropout": fraction(0.4),
        "dense_dropout": fraction(0.7),
        **training_parameters(batch_size=64, epochs=30, patience=3),
    }

    def network(self, keras_module: ModuleType, input_shape: tuple[int, ...], n_classes: int) -> Any:
        k, p = keras_module, self.params
        return k.Sequential([
            k.Input(shape=input_shape),
            k.layers.Conv2D(8, 3, padding="same", activation="relu"),
            k.layers.MaxPooling2D(2),
            k.layers.Conv2D(32, 5, strides=2, padding="valid", activation="relu"),
            k.layers.MaxPooling2D(2),
            k.layers.Dropout(p["conv_dropout"]),
            k.layers.Flatten(),
            k.layers.Dense(512, activation="relu"),
            k.layers.Dropout(p["dense_dropout"]),
            k.layers.Dense(128, activation="relu"),
            k.layers.Dense(n_classes, activation="softmax"),
        ])
