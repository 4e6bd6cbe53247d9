"""A test that needs the training phase and does not ask for it: it fails unset."""

import numpy as np
from tf_keras import layers


def test_dropout_drops_units():
    drop = layers.Dropout(0.5, seed=0)
    outputs = np.asarray(drop(np.ones((2, 8), dtype="float32")))
    assert (outputs == 0).any()
