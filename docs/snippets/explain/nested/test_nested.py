"""A model nested in another, each built on its first call: its layers are listed once, by path."""

import numpy as np
import tf_keras
from tf_keras import layers


def test_predictions_are_repeatable():
    encoder = tf_keras.Sequential([layers.Dense(8), layers.Dropout(0.5, name="drop")], name="enc")
    model = tf_keras.Sequential([encoder, layers.Dropout(0.5, name="drop")], name="model")
    x = np.ones((4, 3), dtype="float32")
    assert np.array_equal(np.asarray(model(x)), np.asarray(model(x)))
